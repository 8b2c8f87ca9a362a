"""An ACH account typed in by hand is verified by microdeposits before it is debited: the
invoice waits in its own state, the pay page tells the customer what to do and offers no
second payment, and the debit then processes and settles as any other.

Against the simulator through the SDK; its events reach the portal as really signed
webhooks, also late and twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from invoices.documents.reminders import send_due_reminders
from invoices.models import BusinessProfile, Invoice, Payment
from invoices.payments.intents import start_payment
from stripe_sim import banks
from tests.factories import make_open
from tests.test_debit_refunds import DAYS, Forwarder, ach

pytestmark = pytest.mark.django_db

ACCEPTANCE = {
    "customer_acceptance": {
        "type": "online",
        "online": {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux)"},
    }
}


@pytest.fixture
def forward(stripe_env, client, django_capture_on_commit_callbacks) -> Forwarder:
    stripe_env.configure(settle_delay=DAYS)
    forwarder = Forwarder(stripe_env, client)
    deliver = forwarder.deliver

    def deliver_and_commit(event: dict) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            deliver(event)

    forwarder.deliver = deliver_and_commit  # type: ignore[method-assign]
    return forwarder


@pytest.fixture
def awaiting(stripe_env) -> Invoice:
    """An invoice whose customer typed in their ACH account: microdeposits are on their way."""
    profile = BusinessProfile.load()
    profile.accept_us_bank_account = True
    profile.save()
    invoice = make_open()
    session = start_payment(invoice=invoice)
    intent = stripe_env.client().v1.payment_intents.confirm(
        session.payment_intent_id,
        params={"payment_method_data": ach(banks.ACH_SUCCESS), "mandate_data": ACCEPTANCE},
    )
    assert intent.next_action.type == "verify_with_microdeposits"
    invoice.refresh_from_db()
    return invoice


def test_it_asks_the_customer_to_verify_and_offers_no_second_payment(
    stripe_env, forward, awaiting, client
):
    forward()
    awaiting.refresh_from_db()
    assert awaiting.payment_state == Invoice.PaymentState.VERIFYING
    payment = awaiting.payments.get()
    assert payment.verification_url.startswith(stripe_env.api_base + "/_sim/microdeposits/")
    assert payment.deposits_arrive_on is not None

    page = client.get(awaiting.get_pay_url()).content.decode()
    assert "Verify your bank account to finish paying" in page
    assert f'href="{payment.verification_url.replace("&", "&amp;")}"' in page
    assert "pay-button" not in page
    again = client.post(reverse("pay:start", args=[awaiting.pay_token])).content.decode()
    assert "no need to pay again" in again
    assert len(stripe_env.client().v1.payment_intents.list().data) == 1
    # No reminder to pay while the customer is finishing their payment.
    assert send_due_reminders(today=awaiting.due_date + timedelta(days=30)).sent == []


def test_the_return_from_stripe_says_so_before_the_webhook_arrives(stripe_env, awaiting, client):
    # Stripe.js reports "succeeded" for an account waiting for microdeposits.
    page = client.get(
        awaiting.get_pay_url(),
        {"payment_intent": awaiting.stripe_payment_intent_id, "redirect_status": "succeeded"},
    ).content.decode()
    assert "Verify your bank account to finish paying" in page
    assert "Payment being recorded" not in page
    awaiting.refresh_from_db()
    assert awaiting.payment_state == Invoice.PaymentState.VERIFYING


def test_it_processes_and_settles_once_verified_whatever_the_order(
    stripe_env, forward, awaiting, client
):
    forward()
    sdk = stripe_env.client()
    verified = sdk.v1.payment_intents.verify_microdeposits(
        awaiting.stripe_payment_intent_id, params={"amounts": [32, 45]}
    )
    assert verified.status == "processing"
    forward()
    for event in stripe_env.events("payment_intent.requires_action"):
        forward.deliver(event)  # the old news again, late
    awaiting.refresh_from_db()
    assert awaiting.payment_state == Invoice.PaymentState.PROCESSING
    assert "Payment processing (bank debit" in client.get(awaiting.get_pay_url()).content.decode()

    stripe_env.advance(DAYS + 1)
    forward()
    awaiting.refresh_from_db()
    assert awaiting.status == Invoice.Status.PAID
    assert awaiting.payments.get().status == Payment.Status.SUCCEEDED
