"""An open PaymentIntent made before the business changed the payment methods it offers is
replaced when the pay form opens (or when the customer presses Pay on the old form), so the
customer is offered what the business offers now; one the customer is part way through
(microdeposits on their way) is left alone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from invoices.models import BusinessProfile, InvoiceActivity, Payment
from invoices.payments.intents import AmountChanged, check_before_confirm, start_payment
from stripe_sim import banks
from tests.factories import make_open

pytestmark = pytest.mark.django_db


def offer_ach(accept: bool) -> None:
    profile = BusinessProfile.load()
    profile.accept_us_bank_account = accept
    profile.save()


def test_it_replaces_an_open_intent_when_the_methods_change(stripe_env, client):
    invoice = make_open()
    first = start_payment(invoice=invoice)
    sdk = stripe_env.client()
    assert sdk.v1.payment_intents.retrieve(first.payment_intent_id).payment_method_types == ["card"]

    offer_ach(True)
    response = client.post(reverse("pay:start", args=[invoice.pay_token]))
    assert response.status_code == 200
    invoice.refresh_from_db()
    second = invoice.stripe_payment_intent_id
    assert second != first.payment_intent_id
    assert second in response.content.decode()
    new = sdk.v1.payment_intents.retrieve(second)
    assert sorted(new.payment_method_types) == ["card", "us_bank_account"]
    assert new.amount == invoice.amount_due
    old = sdk.v1.payment_intents.retrieve(first.payment_intent_id)
    assert old.status == "canceled"
    assert invoice.payments.get(stripe_payment_intent_id=old.id).status == Payment.Status.CANCELED
    assert invoice.activities.filter(
        kind=InvoiceActivity.Kind.PAYMENT_CANCELED, message__contains="methods offered changed"
    ).exists()
    # Opening the form again reuses the new intent.
    assert start_payment(invoice=invoice).payment_intent_id == second


def test_it_refuses_pay_on_a_form_opened_before_the_methods_changed(stripe_env):
    invoice = make_open()
    session = start_payment(invoice=invoice)
    offer_ach(True)
    with pytest.raises(AmountChanged, match="out of date"):
        check_before_confirm(
            invoice=invoice,
            payment_intent_id=session.payment_intent_id,
            shown_amount=session.amount,
        )
    old = stripe_env.client().v1.payment_intents.retrieve(session.payment_intent_id)
    assert old.status == "canceled"


def test_it_leaves_an_intent_awaiting_microdeposits_alone(stripe_env):
    offer_ach(True)
    invoice = make_open()
    session = start_payment(invoice=invoice)
    intent = stripe_env.client().v1.payment_intents.confirm(
        session.payment_intent_id,
        params={
            "payment_method_data": {
                "type": "us_bank_account",
                "us_bank_account": {
                    "routing_number": banks.TEST_ROUTING_NUMBER,
                    "account_number": banks.ACH_SUCCESS,
                    "account_holder_type": "individual",
                },
                "billing_details": {"name": "Jenny Rosen"},
            },
            "mandate_data": {
                "customer_acceptance": {
                    "type": "online",
                    "online": {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0"},
                }
            },
        },
    )
    assert intent.next_action.type == "verify_with_microdeposits"
    offer_ach(False)
    assert start_payment(invoice=invoice).payment_intent_id == session.payment_intent_id
    still = stripe_env.client().v1.payment_intents.retrieve(session.payment_intent_id)
    assert still.status == "requires_action"
