"""The whole card flow through the simulator: its webhooks reach /invoices/wh/ by real HTTP."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from invoices.models import Invoice, InvoiceActivity, Payment, StripeEvent
from invoices.payments.intents import start_payment
from tests.factories import make_open

pytestmark = pytest.mark.django_db(transaction=True)


def confirm(sim, invoice: Invoice, payment_method: str = "pm_card_visa"):
    return sim.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": payment_method, "return_url": "http://127.0.0.1/return"},
    )


def test_a_confirmed_payment_marks_the_invoice_paid_through_the_webhook(wired, mailoutbox):
    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    confirm(wired, invoice)
    wired.wait_for_delivery(type="payment_intent.succeeded", status="200")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    payment = invoice.payments.get()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.amount == invoice.total
    wired.wait_for_delivery(type="charge.succeeded", status="200")
    payment.refresh_from_db()
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    assert StripeEvent.objects.filter(type="payment_intent.succeeded").get().invoice == invoice
    assert any(invoice.number in m.subject for m in mailoutbox)  # the receipt


def test_a_refund_through_stripe_is_recorded_by_the_webhook(wired):
    from invoices.payments.refunds import request_refund as refund_payment

    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    confirm(wired, invoice)
    wired.wait_for_delivery(type="payment_intent.succeeded", status="200")
    refund_payment(payment=invoice.payments.get(), amount=2500)
    wired.wait_for_delivery(type="charge.refunded", status="200")
    invoice.refresh_from_db()
    assert invoice.amount_refunded == 2500
    assert invoice.status == Invoice.Status.PAID
    assert invoice.payments.get().refundable == invoice.total - 2500


def test_a_payment_the_portal_did_not_create_is_acknowledged_and_ignored(wired):
    """`python -m stripe_sim trigger payment_intent.succeeded`, like `stripe trigger`."""
    make_open()
    triggered = wired.client().v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", "payment_method_types": ["card"]}
    )
    wired.succeed(triggered.id)
    wired.wait_for_delivery(type="payment_intent.succeeded", status="200")
    assert StripeEvent.objects.get(type="payment_intent.succeeded").status == "ignored"
    assert not Payment.objects.exists()


@pytest.mark.parametrize("stamp", [None, "staging.example.com"])
def test_another_deployments_payment_naming_our_invoice_changes_nothing(wired, mailoutbox, stamp):
    """Developers, CI and staging on one Stripe account, all forwarded to every portal."""
    invoice = make_open()
    metadata = {"invoice_id": str(invoice.pk), "invoice_number": invoice.number}
    if stamp:
        metadata["portal"] = stamp
    theirs = wired.client().v1.payment_intents.create(
        params={
            "amount": invoice.amount_due,
            "currency": "usd",
            "payment_method_types": ["card"],
            "metadata": metadata,
        }
    )
    wired.succeed(theirs.id)
    wired.wait_for_delivery(type="payment_intent.succeeded", status="200")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.amount_paid == 0
    stored = StripeEvent.objects.get(type="payment_intent.succeeded")
    assert stored.status == StripeEvent.Status.IGNORED
    assert theirs.id in stored.error
    assert not Payment.objects.exists()
    assert not [m for m in mailoutbox if "Receipt" in m.subject]


def test_reconcile_catches_up_a_missed_webhook(stripe_env):
    stripe_env.configure(delivery_enabled=False)
    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    confirm(stripe_env, invoice)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    call_command("reconcile_payments")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    activities = invoice.activities.count()
    call_command("reconcile_payments")
    assert invoice.activities.count() == activities
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.PAYMENT_SUCCEEDED).count() == 1


def test_reconcile_records_a_missed_decline(stripe_env):
    import stripe

    stripe_env.configure(delivery_enabled=False)
    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    with pytest.raises(stripe.CardError):
        confirm(stripe_env, invoice, "pm_card_chargeDeclined")
    call_command("reconcile_payments")
    invoice.refresh_from_db()
    assert invoice.payment_state == Invoice.PaymentState.FAILED
    assert invoice.last_payment_error == "Your card was declined."
    call_command("reconcile_payments")
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.PAYMENT_FAILED).count() == 1


def test_voiding_cancels_the_open_intent(stripe_env):
    from invoices.services import void_invoice

    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    void_invoice(invoice=invoice)
    intent = stripe_env.client().v1.payment_intents.retrieve(invoice.stripe_payment_intent_id)
    assert intent.status == "canceled"


def test_reconcile_catches_up_a_refund_whose_webhook_was_missed(stripe_env, mailoutbox):
    from invoices.models import Refund
    from invoices.payments.refunds import request_refund

    stripe_env.configure(delivery_enabled=False)
    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    confirm(stripe_env, invoice)
    call_command("reconcile_payments")
    refund = request_refund(payment=invoice.payments.get(), amount=2500)
    # As if Stripe had answered "pending" and its "succeeded" event never arrived.
    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.PENDING)
    Payment.objects.filter(pk=refund.payment_id).update(
        amount_refunded=0, amount_refund_pending=2500
    )
    Invoice.objects.filter(pk=invoice.pk).update(amount_refunded=0)
    call_command("reconcile_payments")
    invoice.refresh_from_db()
    assert invoice.amount_refunded == 2500
    payment = invoice.payments.get()
    assert (payment.amount_refunded, payment.amount_refund_pending) == (2500, 0)
    assert Refund.objects.get().status == Refund.Status.SUCCEEDED
