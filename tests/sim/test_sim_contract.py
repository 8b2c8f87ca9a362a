"""Contract tests: the official SDK against the simulator, objects shaped like Stripe's."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_sim.testing import SimulatorProcess
from tests.sim.helpers import assert_shaped

Fixtures = dict[str, dict[str, Any]]


@pytest.fixture
def client(sim: SimulatorProcess) -> stripe.StripeClient:
    return stripe.StripeClient(sim.secret_key, base_addresses={"api": sim.api_base})


def paid_intent(client: stripe.StripeClient, amount: int = 5000) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
            "confirm": True,
        }
    )


def test_it_creates_retrieves_updates_and_lists_customers(
    client: stripe.StripeClient, stripe_fixtures: Fixtures
) -> None:
    created = client.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"portal_id": "7"}}
    )
    assert created.id.startswith("cus_")
    assert_shaped(created, stripe_fixtures)

    fetched = client.v1.customers.retrieve(created.id)
    assert fetched.email == "ada@example.com"
    assert fetched.metadata.to_dict() == {"portal_id": "7"}

    updated = client.v1.customers.update(
        created.id, params={"name": "Ada L.", "metadata": {"tier": "gold", "portal_id": ""}}
    )
    assert updated.name == "Ada L."
    assert updated.metadata.to_dict() == {"tier": "gold"}
    assert_shaped(updated, stripe_fixtures)

    other = client.v1.customers.create(params={"email": "bob@example.com"})
    by_email = client.v1.customers.list(params={"email": "ada@example.com"})
    assert [c.id for c in by_email.data] == [created.id]
    assert by_email.object == "list"
    assert by_email.url == "/v1/customers"

    first_page = client.v1.customers.list(params={"limit": 1})
    assert [c.id for c in first_page.data] == [other.id]
    assert first_page.has_more is True
    second_page = client.v1.customers.list(params={"limit": 1, "starting_after": other.id})
    assert [c.id for c in second_page.data] == [created.id]
    assert second_page.has_more is False
    assert [c.id for c in client.v1.customers.list().auto_paging_iter()] == [other.id, created.id]


def test_it_runs_a_payment_intent_through_create_update_confirm(
    client: stripe.StripeClient, stripe_fixtures: Fixtures
) -> None:
    customer = client.v1.customers.create(params={"email": "c@example.com"})
    pi = client.v1.payment_intents.create(
        params={
            "amount": 1999,
            "currency": "usd",
            "customer": customer.id,
            "metadata": {"invoice": "INV-1"},
            "description": "Invoice INV-1",
            "receipt_email": "c@example.com",
            "automatic_payment_methods": {"enabled": True},
        }
    )
    assert pi.id.startswith("pi_")
    assert pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(f"{pi.id}_secret_")
    assert pi.automatic_payment_methods.enabled is True
    assert_shaped(pi, stripe_fixtures)

    pi = client.v1.payment_intents.update(
        pi.id, params={"amount": 2500, "metadata": {"attempt": "2"}}
    )
    assert pi.amount == 2500
    assert pi.metadata.to_dict() == {"invoice": "INV-1", "attempt": "2"}

    pi = client.v1.payment_intents.confirm(
        pi.id,
        params={
            "payment_method": "pm_card_visa",
            "return_url": "https://portal.example/pay/done",
            "expand": ["latest_charge", "payment_method"],
        },
    )
    assert pi.status == "succeeded"
    assert pi.amount_received == 2500
    assert pi.latest_charge.object == "charge"
    assert pi.latest_charge.payment_method_details.card.last4 == "4242"
    assert pi.payment_method.card.brand == "visa"
    assert_shaped(pi.latest_charge, stripe_fixtures)
    assert_shaped(pi.payment_method, stripe_fixtures)

    fetched = client.v1.payment_intents.retrieve(pi.id)
    assert isinstance(fetched.latest_charge, str)
    assert fetched.latest_charge.startswith("ch_")
    listed = client.v1.payment_intents.list(params={"customer": customer.id})
    assert [p.id for p in listed.data] == [pi.id]

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.update(pi.id, params={"amount": 100})
    assert raised.value.code == "payment_intent_unexpected_state"
    client.v1.payment_intents.update(pi.id, params={"metadata": {"note": "paid"}})


def test_it_cancels_a_payment_intent_but_not_a_succeeded_one(
    client: stripe.StripeClient, stripe_fixtures: Fixtures
) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "eur"})
    canceled = client.v1.payment_intents.cancel(pi.id, params={"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "abandoned"
    assert canceled.canceled_at
    assert_shaped(canceled, stripe_fixtures)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.cancel(paid_intent(client).id)
    assert raised.value.http_status == 400
    assert raised.value.code == "payment_intent_unexpected_state"


def test_it_creates_and_retrieves_payment_methods(
    client: stripe.StripeClient, stripe_fixtures: Fixtures
) -> None:
    pm = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {
                "number": "5555 5555 5555 4444",
                "exp_month": 4,
                "exp_year": 2040,
                "cvc": "123",
            },
        }
    )
    assert pm.id.startswith("pm_")
    card = pm.card
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == (
        "mastercard",
        "4444",
        4,
        2040,
    )
    assert card.funding == "credit"
    assert card.country == "US"
    assert_shaped(pm, stripe_fixtures)
    assert client.v1.payment_methods.retrieve(pm.id).id == pm.id

    test_pm = client.v1.payment_methods.retrieve("pm_card_mastercard")
    assert test_pm.card.brand == "mastercard"

    pi = client.v1.payment_intents.create(
        params={
            "amount": 700,
            "currency": "usd",
            "payment_method": pm.id,
            "payment_method_types": ["card"],
        }
    )
    assert pi.status == "requires_confirmation"
    assert client.v1.payment_intents.confirm(pi.id).status == "succeeded"


def test_it_refunds_fully_and_partially(
    client: stripe.StripeClient, stripe_fixtures: Fixtures
) -> None:
    pi = paid_intent(client, amount=5000)
    partial = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1500})
    assert partial.id.startswith("re_")
    assert (partial.amount, partial.status, partial.charge) == (1500, "succeeded", pi.latest_charge)
    assert_shaped(partial, stripe_fixtures)

    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1500, False)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 4000})
    assert too_much.value.param == "amount"
    assert "greater than unrefunded amount" in str(too_much.value.user_message)

    rest = client.v1.refunds.create(params={"charge": charge.id, "reason": "requested_by_customer"})
    assert rest.amount == 3500
    charge = client.v1.charges.retrieve(charge.id, params={"expand": ["refunds"]})
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    assert [r.id for r in charge.refunds.data] == [rest.id, partial.id]

    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert again.value.code == "charge_already_refunded"

    assert client.v1.refunds.retrieve(partial.id).amount == 1500
    listed = client.v1.refunds.list(params={"payment_intent": pi.id})
    assert {r.id for r in listed.data} == {rest.id, partial.id}


def test_it_retrieves_and_lists_charges_with_expansion(
    client: stripe.StripeClient, stripe_fixtures: Fixtures
) -> None:
    pi = paid_intent(client)
    charge = client.v1.charges.retrieve(
        pi.latest_charge, params={"expand": ["payment_intent", "balance_transaction"]}
    )
    assert charge.id.startswith("ch_")
    assert charge.payment_intent.id == pi.id
    assert charge.balance_transaction.fee > 0
    assert charge.payment_method_details.card.brand == "visa"
    assert charge.disputed is False
    assert charge.paid is True
    assert_shaped(charge, stripe_fixtures)
    assert_shaped(charge.balance_transaction, stripe_fixtures)

    listed = client.v1.charges.list(params={"payment_intent": pi.id})
    assert [c.id for c in listed.data] == [charge.id]

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.charges.retrieve(charge.id, params={"expand": ["amount"]})
    assert "cannot be expanded" in str(raised.value.user_message)


def test_it_records_events_and_lists_them_by_type(
    client: stripe.StripeClient, stripe_fixtures: Fixtures
) -> None:
    pi = paid_intent(client)
    events = client.v1.events.list(params={"limit": 100})
    types = [e.type for e in events.data]
    # Newest first, as Stripe lists them.
    assert types[:3] == ["payment_intent.succeeded", "charge.succeeded", "payment_intent.created"]

    succeeded = client.v1.events.list(params={"type": "payment_intent.succeeded"})
    assert len(succeeded.data) == 1
    event = client.v1.events.retrieve(succeeded.data[0].id)
    assert event.id.startswith("evt_")
    assert event.data.object.id == pi.id
    assert event.data.object.status == "succeeded"
    assert event.api_version == stripe._api_version._ApiVersion.CURRENT
    assert event.request.id.startswith("req_")
    assert_shaped(event, stripe_fixtures)

    wildcard = client.v1.events.list(params={"type": "charge.*"})
    assert [e.type for e in wildcard.data] == ["charge.succeeded"]
