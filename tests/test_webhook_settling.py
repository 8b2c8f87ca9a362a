"""The shared `wired` fixture's teardown: no webhook is still on its way to the live server
when a test ends (it would be applied to the next test's database)."""

from __future__ import annotations

import pytest

from invoices.models import Invoice, StripeEvent
from invoices.payments.intents import start_payment
from tests.factories import make_open
from tests.servers import free_port, settle_webhooks, webhooks_settled

pytestmark = pytest.mark.django_db(transaction=True)


def confirm(sim, invoice: Invoice) -> None:
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    sim.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://127.0.0.1/return"},
    )


def test_it_returns_only_once_every_webhook_under_way_is_applied(wired):
    invoice = make_open()
    confirm(wired, invoice)
    settle_webhooks(wired)  # no wait for a delivery before it: settling is the wait
    assert webhooks_settled(wired)
    events = wired.events()
    assert events
    assert all(event["pending_webhooks"] == 0 for event in events)
    stored = set(StripeEvent.objects.values_list("event_id", flat=True))
    assert {event["id"] for event in events} <= stored
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_it_stops_new_deliveries(wired):
    settle_webhooks(wired)
    invoice = make_open()
    confirm(wired, invoice)
    assert wired.events("payment_intent.succeeded")
    assert wired.deliveries() == []
    assert not StripeEvent.objects.exists()


def test_it_gives_up_with_stripe_on_an_endpoint_that_never_answers(stripe_env):
    stripe_env.configure(
        webhook_endpoints=[f"http://127.0.0.1:{free_port()}/invoices/wh/"],
        delivery_enabled=True,
    )
    confirm(stripe_env, make_open())
    assert not webhooks_settled(stripe_env)  # the first attempts are still to come
    settle_webhooks(stripe_env, timeout=30)
    attempts = stripe_env.deliveries(type="payment_intent.succeeded")
    assert len(attempts) == stripe_env.config()["max_attempts"]
    assert not any(attempt["ok"] for attempt in attempts)
