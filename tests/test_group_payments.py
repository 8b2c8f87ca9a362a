"""Paying several invoices at once: one PaymentIntent, allocated exactly, booked once."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices import stripe_api
from invoices.activity import InvoiceStateError
from invoices.models import (
    CustomerCredit,
    EmailLog,
    GroupAllocation,
    Invoice,
    InvoiceActivity,
    Payment,
    PaymentGroup,
    StripeEvent,
)
from invoices.payments import groups
from invoices.payments.intents import AmountChanged
from invoices.services import record_offline_payment
from tests import stripe_events as se
from tests.factories import CustomerFactory, make_open

pytestmark = pytest.mark.django_db

# The portal's currencies the simulator takes (it refuses KRW, which Stripe accepts).
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "SEK", "DKK"]


# -- the allocation itself ------------------------------------------------------------


@given(
    dues=st.lists(st.integers(0, 10**8), min_size=1, max_size=12),
    amount=st.integers(0, 10**9),
)
def test_it_allocates_exactly_oldest_first(dues, amount):
    shares, left = groups.allocate(amount, dues)
    assert sum(shares) + left == amount
    assert all(0 <= share <= due for share, due in zip(shares, dues, strict=True))
    # Oldest first: an invoice is short only when nothing is left for the later ones.
    for index, (share, due) in enumerate(zip(shares, dues, strict=True)):
        if share < due:
            assert left == 0
            assert not any(shares[index + 1 :])
    if amount >= sum(dues):
        assert shares == dues
        assert left == amount - sum(dues)


def _invoices(customer, currency: str, amounts: list[int]) -> list[Invoice]:
    """Issued one day apart, the first the oldest (as the list is built)."""
    start = date.today() - timedelta(days=len(amounts) + 1)
    return [
        make_open(
            lines=1,
            unit_amount=amount,
            customer=customer,
            currency=currency,
            issue_date=start + timedelta(days=index),
        )
        for index, amount in enumerate(amounts)
    ]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    currency=st.sampled_from(CURRENCIES),
    amounts=st.lists(st.integers(1_000, 5_000_000), min_size=2, max_size=4),
    shuffle=st.randoms(use_true_random=False),
)
def test_it_creates_one_intent_for_exactly_the_amounts_due(stripe_env, currency, amounts, shuffle):
    """Any currency (zero-decimal JPY and KRW included), any order of ids from the browser:
    the stored allocation is each invoice's amount due, oldest first, and the intent at
    Stripe asks for exactly their sum."""
    customer = CustomerFactory()
    invoices = _invoices(customer, currency, amounts)
    ids = [invoice.pk for invoice in invoices]
    shuffle.shuffle(ids)
    session = groups.start_group_payment(customer=customer, invoice_ids=ids)
    group = PaymentGroup.objects.get(pk=session.group_id)
    allocations = list(group.allocations.order_by("position"))
    assert [a.invoice_id for a in allocations] == [invoice.pk for invoice in invoices]
    assert [a.amount for a in allocations] == [invoice.amount_due for invoice in invoices]
    intent = stripe_api.retrieve_payment_intent(session.payment_intent_id)
    assert intent.amount == sum(a.amount for a in allocations) == group.amount == session.amount
    assert intent.currency == currency.lower()
    assert intent.metadata["payment_group"] == str(group.pk)
    assert "invoice_id" not in intent.metadata  # never mistaken for one invoice's payment


def test_it_reuses_the_intent_for_the_same_choice(stripe_env):
    customer = CustomerFactory()
    invoices = _invoices(customer, "USD", [5000, 7000])
    first = groups.start_group_payment(customer=customer, invoice_ids=[i.pk for i in invoices])
    again = groups.start_group_payment(customer=customer, invoice_ids=[i.pk for i in invoices])
    assert again.payment_intent_id == first.payment_intent_id
    assert PaymentGroup.objects.count() == 1


@pytest.mark.parametrize(
    "case",
    ["stranger", "mixed_currency", "paid", "draft", "none", "unknown"],
)
def test_it_refuses_what_cannot_be_paid_together_and_creates_nothing(stripe_env, case):
    customer = CustomerFactory()
    mine = _invoices(customer, "USD", [5000])
    other = {
        "stranger": lambda: make_open(),  # another customer's invoice
        "mixed_currency": lambda: make_open(customer=customer, currency="EUR"),
        "paid": lambda: _paid(make_open(customer=customer)),
        "draft": lambda: _draft(customer),
        "none": lambda: None,
        "unknown": lambda: None,
    }[case]()
    ids = [] if case == "none" else [mine[0].pk, other.pk if other else 999_999]
    with pytest.raises(InvoiceStateError):
        groups.start_group_payment(customer=customer, invoice_ids=ids)
    assert not PaymentGroup.objects.exists()
    assert stripe_env.client().v1.payment_intents.list().data == []


def _paid(invoice: Invoice) -> Invoice:
    record_offline_payment(
        invoice=invoice, amount=invoice.amount_due, method="bank_transfer", received_on=date.today()
    )
    return invoice


def _draft(customer) -> Invoice:
    from tests.factories import make_draft

    return make_draft(customer=customer)


def test_it_refuses_below_stripes_minimum_before_calling_stripe(stripe_env):
    customer = CustomerFactory()
    invoices = _invoices(customer, "USD", [10, 20])
    with pytest.raises(InvoiceStateError, match="smallest card payment"):
        groups.start_group_payment(customer=customer, invoice_ids=[i.pk for i in invoices])
    assert stripe_env.client().v1.payment_intents.list().data == []


def test_it_refuses_before_confirm_when_an_amount_due_changed(stripe_env):
    """Staff recorded part of one invoice offline after the customer chose: nothing is
    charged, the intent is canceled at Stripe, the customer chooses again."""
    customer = CustomerFactory()
    invoices = _invoices(customer, "USD", [5000, 7000])
    session = groups.start_group_payment(customer=customer, invoice_ids=[i.pk for i in invoices])
    record_offline_payment(
        invoice=invoices[1], amount=1000, method="bank_transfer", received_on=date.today()
    )
    with pytest.raises(AmountChanged, match=invoices[1].number):
        groups.check_before_confirm(
            customer=customer,
            payment_intent_id=session.payment_intent_id,
            shown_amount=session.amount,
        )
    assert stripe_api.retrieve_payment_intent(session.payment_intent_id).status == "canceled"
    assert PaymentGroup.objects.get().status == PaymentGroup.Status.CANCELED


def test_it_lets_an_unchanged_choice_be_confirmed(stripe_env):
    customer = CustomerFactory()
    invoices = _invoices(customer, "JPY", [5000, 7000])
    session = groups.start_group_payment(customer=customer, invoice_ids=[i.pk for i in invoices])
    groups.check_before_confirm(
        customer=customer, payment_intent_id=session.payment_intent_id, shown_amount=12000
    )
    with pytest.raises(AmountChanged):  # a form showing another amount is stale
        groups.check_before_confirm(
            customer=customer, payment_intent_id=session.payment_intent_id, shown_amount=11999
        )


# -- the webhook ----------------------------------------------------------------------


def _group(customer, invoices: list[Invoice], intent_id: str = "pi_group_1") -> PaymentGroup:
    group = PaymentGroup.objects.create(
        customer=customer,
        currency=invoices[0].currency,
        amount=sum(i.amount_due for i in invoices),
        stripe_payment_intent_id=intent_id,
    )
    for position, invoice in enumerate(invoices):
        GroupAllocation.objects.create(
            group=group, invoice=invoice, position=position, amount=invoice.amount_due
        )
    return group


def _intent(group: PaymentGroup, *, status: str = "succeeded", amount: int | None = None, **kw):
    metadata = {"portal": django_settings.PORTAL_ID, "payment_group": str(group.pk)}
    return se.intent(
        None,
        status=status,
        amount=group.amount if amount is None else amount,
        currency=group.currency,
        intent_id=group.stripe_payment_intent_id,
        metadata=kw.pop("metadata", metadata),
        **kw,
    )


def test_it_books_each_invoice_once_when_webhooks_repeat(client: Client):
    customer = CustomerFactory()
    invoices = _invoices(customer, "USD", [5000, 7000, 3000])
    group = _group(customer, invoices)
    succeeded = se.event("payment_intent.succeeded", _intent(group), event_id="evt_group_1")
    for body in (
        succeeded,
        succeeded,  # the same delivery again
        se.event("payment_intent.succeeded", _intent(group)),  # the same news, another id
        se.event(
            "payment_intent.payment_failed",
            _intent(group, status="requires_payment_method", error="declined"),
        ),
        se.event("payment_intent.processing", _intent(group, status="processing")),
    ):
        assert se.deliver(client, body).status_code == 200
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID
        assert invoice.amount_paid == invoice.total
        payment = invoice.payments.get()  # its own receipt line
        assert (payment.amount, payment.status) == (invoice.total, Payment.Status.SUCCEEDED)
        assert payment.reference == group.stripe_payment_intent_id
        received = invoice.activities.filter(kind=InvoiceActivity.Kind.PAYMENT_SUCCEEDED)
        assert received.count() == 1
        assert EmailLog.objects.filter(kind="receipt", invoice=invoice).count() == 1
    group.refresh_from_db()
    assert group.status == PaymentGroup.Status.SUCCEEDED
    assert group.amount_received == 15000
    assert {a.payment.invoice_id for a in group.allocations.all()} == {i.pk for i in invoices}
    assert not CustomerCredit.objects.exists()
    assert StripeEvent.objects.get(event_id="evt_group_1").invoice == invoices[0]


def test_a_failure_arriving_first_changes_no_invoice_and_success_still_books(client):
    customer = CustomerFactory()
    invoices = _invoices(customer, "EUR", [5000, 7000])
    group = _group(customer, invoices)
    failed = _intent(group, status="requires_payment_method", error="Your card was declined.")
    se.deliver(client, se.event("payment_intent.payment_failed", failed))
    group.refresh_from_db()
    assert group.status == PaymentGroup.Status.FAILED
    for invoice in invoices:
        invoice.refresh_from_db()
        assert (invoice.status, invoice.amount_paid) == (Invoice.Status.OPEN, 0)
        assert not invoice.payments.exists()
    se.deliver(client, se.event("payment_intent.succeeded", _intent(group)))
    assert Invoice.objects.filter(pk__in=[i.pk for i in invoices], status="paid").count() == 2


def test_money_beyond_what_is_still_owed_becomes_account_credit(client, mailoutbox):
    """A race after the check: one invoice was settled another way before the money came."""
    customer = CustomerFactory()
    invoices = _invoices(customer, "USD", [5000, 7000])
    group = _group(customer, invoices)
    _paid(invoices[0])
    se.deliver(client, se.event("payment_intent.succeeded", _intent(group)))
    invoices[0].refresh_from_db()
    invoices[1].refresh_from_db()
    assert invoices[0].payments.filter(method=Payment.Method.ONLINE).count() == 0
    assert invoices[1].status == Invoice.Status.PAID
    credit = CustomerCredit.objects.get()
    assert (credit.customer, credit.currency, credit.amount) == (customer, "USD", 5000)
    group.refresh_from_db()
    assert (group.amount_received, group.amount_credited) == (12000, 5000)


def test_less_money_than_allocated_pays_the_oldest_first(client):
    customer = CustomerFactory()
    invoices = _invoices(customer, "JPY", [5000, 7000])
    group = _group(customer, invoices)
    se.deliver(client, se.event("payment_intent.succeeded", _intent(group, amount=6000)))
    invoices[0].refresh_from_db()
    invoices[1].refresh_from_db()
    assert (invoices[0].status, invoices[0].amount_due) == (Invoice.Status.PAID, 0)
    assert (invoices[1].status, invoices[1].amount_due) == (Invoice.Status.OPEN, 6000)


def test_another_deployments_group_intent_changes_nothing(client):
    customer = CustomerFactory()
    invoices = _invoices(customer, "USD", [5000])
    group = _group(customer, invoices)
    foreign = _intent(group, metadata={"portal": "staging.example.com", "payment_group": "1"})
    se.deliver(client, se.event("payment_intent.succeeded", foreign, event_id="evt_foreign"))
    assert StripeEvent.objects.get(event_id="evt_foreign").status == StripeEvent.Status.IGNORED
    assert not Payment.objects.exists()
    group.refresh_from_db()
    assert group.status == PaymentGroup.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_a_real_payment_through_the_simulator_pays_every_chosen_invoice(wired):
    customer = CustomerFactory()
    invoices = _invoices(customer, "USD", [5000, 7000])
    session = groups.start_group_payment(customer=customer, invoice_ids=[i.pk for i in invoices])
    wired.client().v1.payment_intents.confirm(
        session.payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://127.0.0.1/return"},
    )
    wired.wait_for_delivery(type="payment_intent.succeeded", status="200")
    wired.wait_for_delivery(type="charge.succeeded", status="200")
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID
        payment = invoice.payments.get()
        assert payment.amount == invoice.total
        assert payment.method_label == "Visa •••• 4242"  # each invoice's receipt line


@pytest.mark.parametrize("charge_first", [True, False])
def test_each_receipt_names_the_card_whichever_event_comes_first(client, charge_first):
    customer = CustomerFactory()
    invoices = _invoices(customer, "USD", [5000, 7000])
    group = _group(customer, invoices)
    charge = se.charge(group.stripe_payment_intent_id, amount=group.amount)
    events = [
        se.event("charge.succeeded", charge),
        se.event("payment_intent.succeeded", _intent(group)),
    ]
    for body in events if charge_first else events[::-1]:
        assert se.deliver(client, body).status_code == 200
    for invoice in invoices:
        payment = invoice.payments.get()
        assert payment.method_label == "Visa •••• 4242"
    assert PaymentGroup.objects.get().stripe_charge_id == charge["id"]


def test_a_refund_or_dispute_of_a_combined_payment_is_flagged_on_each_invoice_once(client):
    customer = CustomerFactory()
    invoices = _invoices(customer, "USD", [5000, 7000])
    group = _group(customer, invoices)
    se.deliver(client, se.event("payment_intent.succeeded", _intent(group)))
    intent_id = group.stripe_payment_intent_id
    refund = se.refund(intent_id, amount=1000)
    for body in (
        se.event("refund.created", refund),
        se.event("refund.updated", {**refund, "status": "succeeded"}),
        se.event("charge.dispute.created", se.dispute(intent_id, amount=2000)),
    ):
        assert se.deliver(client, body).status_code == 200
    for invoice in invoices:
        messages = sorted(invoice.flags.values_list("message", flat=True))
        assert len(messages) == 2  # the refund once, the dispute once
        assert "refund of $10.00" in messages[1]
        assert "dispute of $20.00" in messages[0]
        invoice.refresh_from_db()
        assert (invoice.status, invoice.amount_refunded) == (Invoice.Status.PAID, 0)


def test_reconcile_books_a_combined_payment_whose_webhook_was_missed(stripe_env):
    from invoices.payments.reconcile import reconcile_all

    customer = CustomerFactory()
    invoices = _invoices(customer, "GBP", [5000, 7000])
    session = groups.start_group_payment(customer=customer, invoice_ids=[i.pk for i in invoices])
    stripe_env.client().v1.payment_intents.confirm(
        session.payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://127.0.0.1/return"},
    )
    assert reconcile_all().errors == []
    reconcile_all()  # twice: still booked once
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID
        assert invoice.payments.get().method_label == "Visa •••• 4242"
    assert PaymentGroup.objects.get().status == PaymentGroup.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_under_different_event_ids_book_once():
    """Stripe may send the same news as several events at once: the group's row lock
    makes the first book it and the others find it booked."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks need PostgreSQL (CI runs this on PostgreSQL)")
    customer = CustomerFactory()
    invoices = _invoices(customer, "USD", [5000, 7000])
    group = _group(customer, invoices)
    bodies = [se.event("payment_intent.succeeded", _intent(group)) for _ in range(4)]
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def deliver(body) -> None:
        try:
            barrier.wait()
            statuses.append(se.deliver(Client(), body).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200, 200, 200]
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.amount_paid == invoice.total
        assert invoice.payments.count() == 1
