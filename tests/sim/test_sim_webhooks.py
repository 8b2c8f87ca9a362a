"""Webhook delivery: signatures the SDK accepts, retries, redelivery, holding and ordering."""

from __future__ import annotations

import json

import pytest
import stripe

from stripe_sim.testing import SimulatorProcess
from tests.sim.helpers import webhook_receiver


def pay(sim: SimulatorProcess) -> stripe.PaymentIntent:
    return sim.client().v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
            "confirm": True,
        }
    )


def test_it_signs_webhooks_so_the_sdk_verifies_them(sim: SimulatorProcess) -> None:
    with webhook_receiver() as receiver:
        sim.configure(
            webhook_endpoints=[{"url": receiver.url, "secret": "whsec_endpoint_one"}],
            delivery_enabled=True,
        )
        pi = pay(sim)
        posts = receiver.wait_for(3)

    types = []
    for post in posts:
        assert post.headers["Content-Type"] == "application/json; charset=utf-8"
        event = stripe.Webhook.construct_event(
            post.body, post.headers["Stripe-Signature"], "whsec_endpoint_one"
        )
        types.append(event.type)
        assert event.api_version == stripe._api_version._ApiVersion.CURRENT
        assert event.data.object.object in ("payment_intent", "charge")
    assert types == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]
    succeeded = json.loads(posts[2].body)
    assert succeeded["data"]["object"]["id"] == pi.id
    assert succeeded["request"]["idempotency_key"]  # the SDK sends one on every POST

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            posts[0].body, posts[0].headers["Stripe-Signature"], "whsec_wrong"
        )


def test_it_retries_failed_deliveries_with_backoff(sim: SimulatorProcess) -> None:
    with webhook_receiver(statuses=[500, 500]) as receiver:
        sim.configure(webhook_endpoints=[receiver.url], delivery_enabled=True, retry_base=0.05)
        pi = sim.client().v1.payment_intents.create(params={"amount": 600, "currency": "usd"})
        event_id = sim.events("payment_intent.created")[0]["id"]
        attempts = sim.wait_for_deliveries(3, event_id=event_id)
        receiver.wait_for(3)

    assert [(a["attempt"], a["status_code"], a["ok"]) for a in attempts] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    assert attempts[2]["created"] - attempts[1]["created"] >= 0.1  # doubled from 0.05
    assert all(a["event_type"] == "payment_intent.created" for a in attempts)
    assert pi.id in receiver.received[2].body.decode()


def test_it_gives_up_after_max_attempts_and_records_connection_errors(
    sim: SimulatorProcess,
) -> None:
    sim.configure(
        webhook_endpoints=["http://127.0.0.1:9/nobody-listens"],
        delivery_enabled=True,
        retry_base=0.01,
        max_attempts=3,
    )
    sim.client().v1.customers.create()
    attempts = sim.wait_for_deliveries(3)
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert all(a["status_code"] is None and a["error"] for a in attempts)
    event = sim.client().v1.events.retrieve(attempts[0]["event_id"])
    assert event.pending_webhooks == 1


def test_it_redelivers_an_event_as_a_duplicate(sim: SimulatorProcess) -> None:
    with webhook_receiver() as receiver:
        sim.configure(webhook_endpoints=[receiver.url], delivery_enabled=True)
        sim.client().v1.customers.create(params={"email": "dup@example.com"})
        first = receiver.wait_for(1)[0]
        event_id = json.loads(first.body)["id"]
        sim.redeliver(event_id)
        second = receiver.wait_for(2)[1]

    assert json.loads(second.body)["id"] == event_id
    assert second.body == first.body
    deliveries = sim.deliveries(event_id=event_id)
    assert [d["redelivery"] for d in deliveries] == [False, True]


def test_it_holds_events_and_releases_them_in_reverse(sim: SimulatorProcess) -> None:
    with webhook_receiver() as receiver:
        sim.configure(webhook_endpoints=[receiver.url], delivery_enabled=True, hold=True)
        pay(sim)
        created = [e["id"] for e in sim.events()]
        assert sim.get("/_sim/deliveries")["held"] == created
        assert receiver.received == []
        assert sim.release(order="reverse") == 3
        posts = receiver.wait_for(3)

    assert [json.loads(p.body)["id"] for p in posts] == list(reversed(created))


def test_it_delivers_to_every_endpoint_and_not_when_disabled(sim: SimulatorProcess) -> None:
    with webhook_receiver() as one, webhook_receiver() as two:
        sim.configure(webhook_endpoints=[one.url, two.url], delivery_enabled=False)
        sim.client().v1.customers.create()
        sim.configure(delivery_enabled=True)
        sim.client().v1.customers.create()
        one.wait_for(1)
        two.wait_for(1)
    assert len(sim.events()) == 2
    assert len(sim.deliveries()) == 2
