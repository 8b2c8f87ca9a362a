"""The dashboard's maintained totals (invoices/totals.py) always equal a full
recompute, whatever sequence of real workflow operations ran before."""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from invoices import totals
from invoices.models import BalanceBucket, Invoice
from invoices.services import (
    InvoiceStateError,
    mark_uncollectible,
    record_offline_payment,
    void_invoice,
)
from tests.factories import make_draft, make_open


def expected(today: date, month_start: date) -> dict[str, tuple[int, int, int]]:
    """Straight from the invoices, the definition the buckets must agree with."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for invoice in Invoice.objects.all():
        row = sums[invoice.currency]
        if invoice.status == Invoice.Status.OPEN:
            row[0] += invoice.amount_due
            if invoice.due_date and invoice.due_date < today:
                row[1] += invoice.amount_due
        elif (
            invoice.status == Invoice.Status.PAID
            and invoice.paid_at
            and timezone.localdate(invoice.paid_at) >= month_start
        ):
            row[2] += invoice.amount_paid
    return {c: tuple(v) for c, v in sums.items() if v[0] or v[2]}


def maintained(today: date, month_start: date) -> dict[str, tuple[int, int, int]]:
    return {
        b.currency: (b.outstanding, b.overdue, b.paid)
        for b in totals.dashboard_totals(today, month_start)
    }


class TotalsMachine(RuleBasedStateMachine):
    invoices = Bundle("invoices")

    def __init__(self) -> None:
        super().__init__()
        # Each run starts from an empty database: everything it does is rolled back.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    @rule(
        target=invoices,
        amount=st.integers(1, 500_000),
        currency=st.sampled_from(["USD", "EUR", "JPY"]),
        issued_days_ago=st.integers(-20, 90),
    )
    def finalize(self, amount: int, currency: str, issued_days_ago: int) -> int:
        issued = timezone.localdate() - timedelta(days=issued_days_ago)
        return make_open(lines=1, unit_amount=amount, currency=currency, issue_date=issued).pk

    @rule()
    def draft(self) -> None:
        make_draft()

    @rule(invoice=invoices, share=st.floats(0.01, 1.0))
    def pay(self, invoice: int, share: float) -> None:
        current = Invoice.objects.get(pk=invoice)
        amount = max(1, int(current.amount_due * share))
        with suppress(InvoiceStateError):  # refused (paid, void, ...): nothing may move
            record_offline_payment(
                invoice=current, amount=amount, method="bank_transfer", received_on=date.today()
            )

    @rule(invoice=invoices)
    def void(self, invoice: int) -> None:
        with suppress(InvoiceStateError):
            void_invoice(invoice=Invoice.objects.get(pk=invoice))

    @rule(invoice=invoices)
    def uncollectible(self, invoice: int) -> None:
        with suppress(InvoiceStateError):
            mark_uncollectible(invoice=Invoice.objects.get(pk=invoice))

    @invariant()
    def buckets_equal_a_recompute(self) -> None:
        assert totals.stored() == totals.recompute()

    @invariant()
    def totals_equal_the_invoices_on_any_day(self) -> None:
        today = timezone.localdate()
        month_start = today.replace(day=1)
        for day in (today - timedelta(days=40), today, today + timedelta(days=40)):
            assert maintained(day, month_start) == expected(day, month_start)


@pytest.mark.django_db
def test_the_totals_equal_a_full_recompute_after_any_operations():
    machine = TotalsMachine.TestCase
    machine.settings = settings(
        max_examples=25,
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    machine().runTest()


def test_verify_totals_finds_and_repairs_a_difference(db):
    make_open(lines=1, unit_amount=5000)
    out = StringIO()
    call_command("verify_totals", stdout=out)
    assert "Totals match" in out.getvalue()
    BalanceBucket.objects.update(amount=1)  # as a bulk change that skipped save() would
    with pytest.raises(CommandError, match="difference"):
        call_command("verify_totals", stdout=StringIO(), stderr=StringIO())
    call_command("verify_totals", "--repair", stdout=StringIO(), stderr=StringIO())
    call_command("verify_totals", stdout=out)
    assert totals.stored() == totals.recompute()


def test_a_save_that_touches_no_money_books_nothing(db, django_assert_num_queries):
    invoice = make_open()
    with django_assert_num_queries(1):  # the UPDATE alone
        invoice.save(update_fields=["payment_state", "updated_at"])


# After the invoice's UPDATE, a booking is one statement on PostgreSQL (read the old
# booking, keep the new one, move the buckets); elsewhere: read the booking, move each
# bucket, write the booking.
ONE_STATEMENT = connection.vendor == "postgresql"


def test_a_payment_books_only_the_difference(db, django_assert_num_queries):
    invoice = make_open(lines=1, unit_amount=10000)
    invoice.add_payment(4000)
    # One bucket moves (the same due date).
    with django_assert_num_queries(2 if ONE_STATEMENT else 4):
        invoice.save()
    assert totals.stored() == totals.recompute()


def test_a_payment_in_full_moves_the_amount_from_open_to_paid(db, django_assert_num_queries):
    invoice = make_open(lines=1, unit_amount=10000)
    invoice.add_payment(10000)
    with django_assert_num_queries(2 if ONE_STATEMENT else 5):
        invoice.save(update_fields=Invoice.PAYMENT_FIELDS)
    assert totals.stored() == totals.recompute()
    buckets = {key[0]: amount for key, amount in totals.stored()[0].items()}
    assert buckets == {BalanceBucket.Kind.PAID: 10000}


def test_a_void_takes_the_invoice_out_of_the_totals(db, django_assert_num_queries):
    invoice = make_open(lines=1, unit_amount=10000)
    invoice.status = Invoice.Status.VOID
    with django_assert_num_queries(2 if ONE_STATEMENT else 4):
        invoice.save(update_fields=["status", "updated_at"])
    assert totals.stored() == totals.recompute() == ({}, {})
