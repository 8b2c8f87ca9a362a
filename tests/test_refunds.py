"""Refunds as they really happen: pending until Stripe says succeeded, or failed.

Webhook tests use hand-built, really signed refund events; the request side
runs against the simulator.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from invoices.models import Invoice, InvoiceActivity, InvoiceFlag, Payment, Refund
from invoices.payments.refunds import request_refund
from invoices.services import InvoiceStateError
from tests import stripe_events as se
from tests.factories import make_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    """A client whose webhook deliveries also run what they queue after commit (emails)."""
    post = client.post

    def post_and_commit(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    client.post = post_and_commit
    return client


def paid_by_card(client, intent_id: str = "pi_test_1") -> Invoice:
    invoice = make_open()
    Payment.objects.create(
        invoice=invoice,
        amount=invoice.amount_due,
        currency=invoice.currency,
        stripe_payment_intent_id=intent_id,
    )
    invoice.stripe_payment_intent_id = intent_id
    invoice.save()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    return invoice


def refund_emails(mailoutbox) -> list:
    return [m for m in mailoutbox if m.subject.startswith("Refund of")]


def deliver_refund(client, event_type: str, status: str, amount: int = 3000, **extra) -> None:
    body = se.event(event_type, se.refund("pi_test_1", amount=amount, status=status, **extra))
    assert se.deliver(client, body).status_code == 200


@pytest.mark.parametrize("succeeded_event", ["refund.updated", "charge.refund.updated"])
def test_a_pending_refund_counts_at_once_and_is_money_back_only_when_it_succeeds(
    client, staff_client, mailoutbox, succeeded_event
):
    invoice = paid_by_card(client)
    mailoutbox.clear()
    deliver_refund(client, "refund.created", "pending")
    assert "$30.00 pending" in staff_client.get(invoice.get_absolute_url()).content.decode()
    invoice.refresh_from_db()
    payment = invoice.payments.get()
    assert invoice.amount_refunded == 0
    assert payment.amount_refund_pending == 3000
    assert payment.refundable == invoice.total - 3000  # already asked back
    assert refund_emails(mailoutbox) == []
    assert not invoice.activities.filter(kind=InvoiceActivity.Kind.REFUNDED).exists()

    deliver_refund(client, succeeded_event, "succeeded")
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert invoice.amount_refunded == 3000
    assert (payment.amount_refunded, payment.amount_refund_pending) == (3000, 0)
    assert payment.refundable == invoice.total - 3000
    assert len(refund_emails(mailoutbox)) == 1
    assert Refund.objects.get().status == Refund.Status.SUCCEEDED


def test_succeeded_arriving_before_pending_is_applied_once(client, mailoutbox):
    invoice = paid_by_card(client)
    mailoutbox.clear()
    deliver_refund(client, "refund.updated", "succeeded")
    deliver_refund(client, "refund.created", "pending")  # older news, late
    invoice.refresh_from_db()
    payment = invoice.payments.get()
    assert invoice.amount_refunded == 3000
    assert (payment.amount_refunded, payment.amount_refund_pending) == (3000, 0)
    assert len(refund_emails(mailoutbox)) == 1
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.REFUNDED).count() == 1


@pytest.mark.parametrize("order", ["pending_first", "failed_first"])
def test_a_failed_refund_is_shown_to_staff_and_never_emailed_as_done(client, mailoutbox, order):
    invoice = paid_by_card(client)
    mailoutbox.clear()
    pending = ("refund.created", "pending")
    failed = ("refund.failed", "failed")
    for event_type, status in [pending, failed] if order == "pending_first" else [failed, pending]:
        deliver_refund(client, event_type, status, failure_reason="expired_or_canceled_card")
    invoice.refresh_from_db()
    payment = invoice.payments.get()
    assert invoice.amount_refunded == 0
    assert (payment.amount_refunded, payment.amount_refund_pending) == (0, 0)
    assert payment.refundable == invoice.total  # the money can be asked back again
    assert refund_emails(mailoutbox) == []
    flag = invoice.flags.get(kind=InvoiceFlag.Kind.REFUND_FAILED)
    assert "expired or canceled card" in flag.message
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.REFUND_FAILED).count() == 1
    staff_notices = [m for m in mailoutbox if "expired or canceled card" in m.body]
    assert staff_notices
    assert all(invoice.customer.email not in m.to for m in staff_notices)


def test_a_succeeded_refund_that_later_fails_is_taken_back(client, mailoutbox):
    invoice = paid_by_card(client)
    deliver_refund(client, "refund.created", "succeeded")
    deliver_refund(client, "refund.failed", "failed", failure_reason="lost_or_stolen_card")
    invoice.refresh_from_db()
    assert invoice.amount_refunded == 0
    assert invoice.payments.get().refundable == invoice.total
    assert invoice.flags.filter(kind=InvoiceFlag.Kind.REFUND_FAILED).exists()


def test_a_refund_made_in_the_stripe_dashboard_is_recorded(client):
    invoice = paid_by_card(client)
    deliver_refund(client, "refund.created", "pending", refund_id="re_dashboard")
    activity = invoice.activities.get(kind=InvoiceActivity.Kind.REFUND_REQUESTED)
    assert "made in Stripe" in activity.message


def test_staff_refunds_against_the_simulator_count_money_already_asked_back(stripe_env):
    from invoices.payments.intents import start_payment

    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    intent = stripe_env.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://x/"},
    )
    from invoices.payments.handlers import apply_intent_succeeded

    apply_intent_succeeded(intent.to_dict(), "")
    payment = invoice.payments.get()
    request_refund(payment=payment, amount=3000)
    request_refund(payment=payment, amount=3000)  # 1.5 s later, before any webhook
    payment.refresh_from_db()
    assert payment.amount_refunded + payment.amount_refund_pending == 6000
    with pytest.raises(InvoiceStateError, match="at most"):
        request_refund(payment=payment, amount=payment.amount)
    assert Refund.objects.count() == 2
    requested = invoice.activities.filter(kind=InvoiceActivity.Kind.REFUND_REQUESTED)
    assert requested.count() == 2


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_full_refunds_make_one(stripe_env):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks need PostgreSQL (CI runs this on PostgreSQL)")
    from invoices.payments.handlers import apply_intent_succeeded
    from invoices.payments.intents import start_payment

    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    intent = stripe_env.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://x/"},
    )
    with transaction.atomic():
        apply_intent_succeeded(intent.to_dict(), "")
    payment = invoice.payments.get()
    barrier = threading.Barrier(5)
    outcomes: list[str] = []

    def refund() -> None:
        try:
            barrier.wait()
            request_refund(payment=payment, amount=payment.amount)
            outcomes.append("refunded")
        except InvoiceStateError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refund) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refunded"] + ["refused"] * 4
    stripe_refunds = stripe_env.client().v1.refunds.list(params={"payment_intent": intent.id})
    assert len(stripe_refunds.data) == 1
    requested = invoice.activities.filter(kind=InvoiceActivity.Kind.REFUND_REQUESTED)
    assert requested.count() == 1
