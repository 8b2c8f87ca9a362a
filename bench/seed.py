"""Seed the benchmark database (run inside `manage.py shell` by bench/run.py).

Prints one JSON line: the ids, tokens and session the load needs.
"""

from __future__ import annotations

import json
import os
import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from customers.models import Customer
from invoices import totals
from invoices.models import (
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    digest_token,
    new_pay_token,
)

TOTAL = int(os.environ.get("BENCH_INVOICES", "100000"))
PAY_TOKENS = int(os.environ.get("BENCH_PAY_TOKENS", "4000"))
WEBHOOK_INVOICES = int(os.environ.get("BENCH_WEBHOOK_INVOICES", "15000"))
# Paid one by one in-process by bench/costs.py (warm-up and measured events), apart
# from the ones the load rows pay.
COST_INVOICES = int(os.environ.get("BENCH_COST_INVOICES", "400"))
BATCH = 5000
random.seed(7)


def staff_session() -> str:
    user = get_user_model().objects.create_user(
        "bench", "bench@example.com", "bench-password-123", is_staff=True
    )
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def invoice_with_lines(customer: Customer, count: int) -> Invoice:
    invoice = Invoice.objects.create(customer=customer, currency="USD")
    lines = [
        InvoiceLine(
            invoice=invoice,
            position=i,
            description=f"Consulting, item {i}",
            quantity=Decimal("1.5"),
            unit_amount=12_000 + i,
            tax_rate=Decimal(20),
        )
        for i in range(count)
    ]
    invoice.recalculate(lines)
    InvoiceLine.objects.bulk_create(lines)
    invoice.apply_terms()
    invoice.status = Invoice.Status.OPEN
    invoice.number = f"PAY-{count:04d}"
    invoice.save()
    return invoice


def copy_rows(model: type[Model], rows: list[Model]) -> None:
    """Insert `rows` with PostgreSQL's COPY (several times faster than INSERTs at a
    million rows; the bench runs on PostgreSQL), as `bulk_create` would fill them."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields])


def bulk_invoices(customers: list[Customer]) -> tuple[list[dict], list[dict]]:
    today = timezone.localdate()
    special = PAY_TOKENS + WEBHOOK_INVOICES + COST_INVOICES
    if special > TOTAL:
        raise SystemExit(
            f"BENCH_INVOICES={TOTAL} is fewer than the open invoices the load needs "
            f"(BENCH_PAY_TOKENS + BENCH_WEBHOOK_INVOICES + BENCH_COST_INVOICES = {special})"
        )
    for_pay: list[dict] = []
    for_webhooks: list[dict] = []
    created = 0
    while created < TOTAL:
        rows = []
        for n in range(created, min(created + BATCH, TOTAL)):
            token = new_pay_token()
            total = random.randint(1_000, 500_000)
            status = (
                Invoice.Status.OPEN
                if n < special
                else random.choice(["paid"] * 6 + ["open"] * 3 + ["void", "draft"])
            )
            paid = total if status == "paid" else 0
            issue = today - timedelta(days=n % 400)
            rows.append(
                Invoice(
                    customer=customers[n % len(customers)],
                    number="" if status == "draft" else f"INV-{n + 1:06d}",
                    status=status,
                    currency="USD",
                    issue_date=issue,
                    due_date=issue + timedelta(days=30),
                    pay_token=token,
                    pay_token_digest=digest_token(token),
                    subtotal=total,
                    total=total,
                    amount_paid=paid,
                    amount_due=total - paid if status == "open" else 0,
                )
            )
        copy_rows(Invoice, rows)
        for n, invoice in enumerate(rows, start=created):
            if n < PAY_TOKENS:
                for_pay.append({"token": invoice.pay_token})
            elif n < special:
                for_webhooks.append({"number": invoice.number, "amount": invoice.amount_due})
        created += len(rows)
    # COPY hands back no ids: the webhook rows' invoices are found by their numbers.
    ids = dict(
        Invoice.objects.filter(number__in=[row["number"] for row in for_webhooks]).values_list(
            "number", "id"
        )
    )
    for_webhooks = [{"id": ids[row.pop("number")], **row} for row in for_webhooks]
    InvoiceSequence.objects.update_or_create(prefix="INV-", defaults={"last_value": TOTAL})
    return for_pay, for_webhooks


with transaction.atomic():
    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {i}", email=f"customer{i}@example.com", company=f"Company {i}")
        for i in range(1000)
    )
    five = invoice_with_lines(customers[0], 5)
    fifty = invoice_with_lines(customers[1], 50)
    # The webhook rows' invoices, then bench/costs.py's: each paid through its Payment.
    for_pay, for_webhooks = bulk_invoices(customers)
    sse_invoice = invoice_with_lines(customers[2], 3)
    # The webhook load pays these through `pi_bench_<id>`: the portal applies only
    # PaymentIntents it created, so store them as if it had.
    Payment.objects.bulk_create(
        Payment(
            invoice_id=row["id"],
            amount=row["amount"],
            currency="USD",
            stripe_payment_intent_id=f"pi_bench_{row['id']}",
        )
        for row in [*for_webhooks, {"id": sse_invoice.pk, "amount": sse_invoice.amount_due}]
    )
    # bulk_create skips Invoice.save(), which keeps the dashboard's totals: build them.
    totals.rebuild()
    result = {
        "session": staff_session(),
        "pay5": five.pay_token,
        "pay50": fifty.pay_token,
        "pay_tokens": [row["token"] for row in for_pay],
        "webhook_invoices": for_webhooks[:WEBHOOK_INVOICES],
        "cost_invoices": for_webhooks[WEBHOOK_INVOICES:],
        "sse_invoice": {"id": sse_invoice.pk, "token": sse_invoice.pay_token},
    }
# Statistics for the planner, as a production database's autovacuum would have gathered
# them: without them PostgreSQL guesses, and the open tab scanned every customer per row.
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
print("SEED=" + json.dumps(result))
