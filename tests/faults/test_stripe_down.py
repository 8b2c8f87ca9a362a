"""Stripe answering 500 or too slowly (the simulator's `/_sim/faults`): the customer
gets a clear message, nothing is charged twice, and reconcile catches up."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from invoices import stripe_api
from invoices.models import Invoice
from tests.factories import make_open

pytestmark = pytest.mark.django_db

FRIENDLY = "could not start the card payment"


def start(client, invoice: Invoice):
    return client.post(f"{invoice.get_pay_url()}pay/")


def intents(sim) -> list:
    return list(sim.client().v1.payment_intents.list(params={"limit": 100}).data)


def test_stripe_answering_500_shows_a_message_and_charges_nothing(client, stripe_env):
    invoice = make_open()
    stripe_env.post("/_sim/faults", {"status": 500, "count": 10})

    response = start(client, invoice)

    assert FRIENDLY in response.content.decode()
    stripe_env.post("/_sim/faults", {"count": 0})
    assert intents(stripe_env) == []
    # Once Stripe answers, the same button works and makes exactly one intent.
    assert "data-client-secret" in start(client, invoice).content.decode()
    assert len(intents(stripe_env)) == 1


def test_a_500_after_stripe_acted_is_retried_safely_into_one_intent(client, stripe_env):
    """Stripe created the intent but the answer was lost: the SDK's retry carries the
    same idempotency key and gets the same intent back, not a second one."""
    invoice = make_open()
    stripe_env.post("/_sim/faults", {"status": 500, "count": 1, "when": "after"})

    response = start(client, invoice)

    assert "data-client-secret" in response.content.decode()
    created = intents(stripe_env)
    assert len(created) == 1
    invoice.refresh_from_db()
    assert invoice.stripe_payment_intent_id == created[0].id


def test_a_slow_stripe_is_given_up_on_within_seconds(client, stripe_env):
    invoice = make_open()
    slower = stripe_api.READ_TIMEOUT_SECONDS + 2
    stripe_env.post("/_sim/faults", {"delay": slower, "count": 3})

    began = time.monotonic()
    response = start(client, invoice)
    waited = time.monotonic() - began

    assert FRIENDLY in response.content.decode()
    # Two attempts of at most READ_TIMEOUT_SECONDS each, plus the SDK's back-off.
    attempts = stripe_api.MAX_NETWORK_RETRIES + 1
    assert waited < attempts * (stripe_api.READ_TIMEOUT_SECONDS + 1) + 2


@pytest.mark.django_db(transaction=True)
def test_reconcile_catches_up_once_stripe_answers(stripe_env):
    from invoices.payments.intents import start_payment

    stripe_env.configure(delivery_enabled=False)
    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    stripe_env.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://127.0.0.1/return"},
    )
    stripe_env.post("/_sim/faults", {"status": 500, "count": 10})

    with pytest.raises(CommandError, match="Stripe errors"):
        call_command("reconcile_payments")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN

    stripe_env.post("/_sim/faults", {"count": 0})
    call_command("reconcile_payments")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert invoice.payments.filter(status="succeeded").count() == 1
