"""What the customer's account page shows: built here, rendered by `account/page.html`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from customers.models import Customer
from invoices.models import CreditNote, CustomerCredit, Invoice, Payment, PaymentGroup
from invoices.payments import groups
from invoices.statements import statement

RECENT = 50  # paid invoices and receipts listed (the statement covers the rest)
STATEMENT_DAYS = 365
# Back from Stripe, the page asks every 2 s for its webhook, then (from poll 4) asks Stripe
# itself through the reconciler; after MAX_POLLS (a minute) it stops asking.
POLLS_BEFORE_CHECK = 4
MAX_POLLS = 30

# What other features show on the page (the customer's quotes, saved payment methods):
# by name, a template and what it is rendered with, in the order registered.
Section = tuple[str, Callable[[Customer], dict[str, Any]]]
SECTIONS: dict[str, Section] = {}


def register_section(name: str, template: str, build: Callable[[Customer], dict[str, Any]]) -> None:
    SECTIONS[name] = (template, build)


def payable_by_currency(invoices: list[Invoice]) -> dict[str, list[Invoice]]:
    """Open invoices that can be paid together, per currency, oldest first."""
    found: dict[str, list[Invoice]] = {}
    for invoice in groups.oldest_first(invoices):
        if groups.refusal(invoice) is None:
            found.setdefault(invoice.currency, []).append(invoice)
    return found


def account_context(
    customer: Customer, *, payment_intent: str = "", poll: int = 0
) -> dict[str, Any]:
    issued = Invoice.objects.filter(customer=customer).exclude(status=Invoice.Status.DRAFT)
    open_invoices = list(issued.filter(status=Invoice.Status.OPEN))
    paid = list(issued.filter(status=Invoice.Status.PAID).order_by("-paid_at", "-id")[:RECENT])
    receipts = list(
        Payment.objects.filter(invoice__customer=customer, status=Payment.Status.SUCCEEDED)
        .select_related("invoice")
        .order_by("-created_at", "-id")[:RECENT]
    )
    credit_notes = list(
        CreditNote.objects.filter(invoice__customer=customer)
        .select_related("invoice")
        .order_by("-created_at", "-id")
    )
    today = timezone.localdate()
    return {
        "customer": customer,
        "open_invoices": groups.oldest_first(open_invoices),
        "payable": payable_by_currency(open_invoices),
        "paid_invoices": paid,
        "receipts": receipts,
        "credit_notes": credit_notes,
        "credits": _credit_balances(customer),
        "statement": statement(customer, today - timedelta(days=STATEMENT_DAYS), today),
        "recording": _recording(customer, payment_intent),
        "next_poll": poll + 1 if poll < MAX_POLLS else 0,
        "sections": [(template, build(customer)) for template, build in SECTIONS.values()],
    }


def _credit_balances(customer: Customer) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for row in CustomerCredit.objects.filter(customer=customer).values("currency", "amount"):
        totals[row["currency"]] = totals.get(row["currency"], 0) + row["amount"]
    return [(currency, amount) for currency, amount in sorted(totals.items()) if amount > 0]


def _recording(customer: Customer, payment_intent: str) -> PaymentGroup | None:
    """Back from Stripe: the combined payment the page waits for (None once it ended:
    booked, failed or canceled, which the lists and the payment box then say)."""
    group = groups.group_for_intent(customer, payment_intent)
    if group is None or group.status not in (
        PaymentGroup.Status.PENDING,
        PaymentGroup.Status.PROCESSING,
    ):
        return None
    return group
