"""Saved payment methods through the official SDK: saving during payment
(``setup_future_usage``), off-session charges and their authentication, declines and expiry,
attach/detach and the lists, as Stripe's "save payment details during payment" and
"off-session payments" guides describe them."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import stripe

from stripe_sim import banks
from stripe_sim.testing import SimulatorProcess
from tests.sim.helpers import webhook_receiver
from tests.sim.test_sim_bank_debits import ACCEPTANCE, sepa_data
from tests.sim.test_sim_flows import RETURN_URL, answer_challenge


def customer(sim: SimulatorProcess) -> stripe.Customer:
    return sim.client().v1.customers.create(params={"email": "jenny@example.com"})


def pay_and_save(
    sim: SimulatorProcess, cus: stripe.Customer, payment_method: str, usage: str = "off_session"
) -> stripe.PaymentIntent:
    """The customer pays on-session and the card is saved; completes 3-D Secure if asked."""
    client = sim.client()
    pi = client.v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "eur",
            "customer": cus.id,
            "payment_method_types": ["card"],
            "setup_future_usage": usage,
        }
    )
    pi = client.v1.payment_intents.confirm(
        pi.id, params={"payment_method": payment_method, "return_url": RETURN_URL}
    )
    if pi.status == "requires_action":
        answer_challenge(sim, pi, "complete")
        pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "succeeded"
    return pi


def charge_off_session(
    sim: SimulatorProcess, cus: stripe.Customer, pm_id: str, **extra: Any
) -> Any:
    return sim.client().v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "eur",
            "customer": cus.id,
            "payment_method": pm_id,
            "payment_method_types": ["card"],
            "off_session": True,
            "confirm": True,
            **extra,
        }
    )


def types(sim: SimulatorProcess) -> list[str]:
    return [event["type"] for event in sim.events()]


def test_it_saves_the_card_to_the_customer_when_the_payment_succeeds(
    sim: SimulatorProcess,
) -> None:
    client = sim.client()
    cus = customer(sim)
    pi = pay_and_save(sim, cus, "pm_card_visa")

    pm = client.v1.payment_methods.retrieve(pi.payment_method)
    assert pm.customer == cus.id
    assert pi.setup_future_usage == "off_session"
    assert types(sim) == [
        "customer.created",
        "payment_intent.created",
        "payment_method.attached",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    listed = client.v1.customers.payment_methods.list(cus.id)
    assert [m.id for m in listed.data] == [pm.id]
    assert listed.url == f"/v1/customers/{cus.id}/payment_methods"
    by_filter = client.v1.payment_methods.list(params={"customer": cus.id, "type": "card"})
    assert [m.id for m in by_filter.data] == [pm.id]
    assert (
        client.v1.payment_methods.list(params={"customer": cus.id, "type": "sepa_debit"}).data == []
    )
    assert client.v1.customers.payment_methods.retrieve(cus.id, pm.id).card.last4 == "4242"


def test_it_does_not_save_without_setup_future_usage_and_the_method_is_used_up(
    sim: SimulatorProcess,
) -> None:
    client = sim.client()
    cus = customer(sim)
    pi = client.v1.payment_intents.create(
        params={
            "amount": 900,
            "currency": "eur",
            "customer": cus.id,
            "payment_method_types": ["card"],
        }
    )
    pi = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "succeeded"
    assert client.v1.payment_methods.retrieve(pi.payment_method).customer is None
    assert "payment_method.attached" not in types(sim)

    again = client.v1.payment_intents.create(
        params={
            "amount": 900,
            "currency": "eur",
            "customer": cus.id,
            "payment_method_types": ["card"],
        }
    )
    with pytest.raises(stripe.InvalidRequestError) as used:
        client.v1.payment_intents.confirm(again.id, params={"payment_method": pi.payment_method})
    assert "may not be used again" in used.value.user_message
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.attach(pi.payment_method, params={"customer": cus.id})


def test_it_charges_a_saved_card_off_session_and_sets_it_as_the_default(
    sim: SimulatorProcess,
) -> None:
    client = sim.client()
    cus = customer(sim)
    pm_id = pay_and_save(sim, cus, "pm_card_mastercard").payment_method
    cus = client.v1.customers.update(
        cus.id, params={"invoice_settings": {"default_payment_method": pm_id}}
    )
    assert cus.invoice_settings.default_payment_method == pm_id

    pi = charge_off_session(sim, cus, cus.invoice_settings.default_payment_method)
    assert pi.status == "succeeded"
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.payment_method == pm_id
    assert charge.payment_method_details.card.brand == "mastercard"
    assert types(sim)[-3:] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_off_session_3ds_card_fails_with_authentication_required_then_pays_on_session(
    sim: SimulatorProcess,
) -> None:
    client = sim.client()
    cus = customer(sim)
    # 4000 0027 6000 3184 asks for 3-D Secure on every payment, however it was saved.
    pm_id = pay_and_save(sim, cus, "pm_card_authenticationRequired").payment_method
    assert client.v1.payment_methods.retrieve(pm_id).card.last4 == "3184"

    with pytest.raises(stripe.CardError) as failed:
        charge_off_session(sim, cus, pm_id)
    error = failed.value
    assert error.http_status == 402
    assert error.code == "authentication_required"
    assert error.error.decline_code == "authentication_required"
    assert error.error.payment_method.id == pm_id
    pi_id = error.error.payment_intent.id
    pi = client.v1.payment_intents.retrieve(pi_id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "authentication_required"
    assert pi.last_payment_error.type == "card_error"
    assert pi.last_payment_error.payment_method.id == pm_id
    assert types(sim)[-2:] == ["charge.failed", "payment_intent.payment_failed"]

    # The customer comes back on-session and confirms the same PaymentIntent with the card.
    pi = client.v1.payment_intents.confirm(
        pi_id,
        params={
            "payment_method": pi.last_payment_error.payment_method.id,
            "return_url": RETURN_URL,
        },
    )
    assert pi.status == "requires_action"
    answer_challenge(sim, pi, "complete")
    pi = client.v1.payment_intents.retrieve(pi_id, params={"expand": ["latest_charge"]})
    assert pi.status == "succeeded"
    assert pi.latest_charge.payment_method_details.card.three_d_secure.result == "authenticated"
    assert types(sim)[-2:] == ["charge.succeeded", "payment_intent.succeeded"]


@pytest.mark.parametrize(("usage", "status"), [("off_session", "succeeded"), ("on_session", None)])
def test_the_3155_card_needs_no_authentication_off_session_once_set_up_for_it(
    sim: SimulatorProcess, usage: str, status: str | None
) -> None:
    cus = customer(sim)
    pm_id = pay_and_save(
        sim, cus, "pm_card_authenticationRequiredSetupForOffSession", usage
    ).payment_method
    if status is None:
        with pytest.raises(stripe.CardError) as failed:
            charge_off_session(sim, cus, pm_id)
        assert failed.value.code == "authentication_required"
    else:
        assert charge_off_session(sim, cus, pm_id).status == status


def test_a_card_that_attaches_can_still_decline_off_session(sim: SimulatorProcess) -> None:
    client = sim.client()
    cus = customer(sim)
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", params={"customer": cus.id})
    assert pm.customer == cus.id
    assert pm.card.last4 == "0341"
    with pytest.raises(stripe.CardError) as declined:
        charge_off_session(sim, cus, pm.id)
    assert declined.value.code == "card_declined"
    pi = client.v1.payment_intents.retrieve(declined.value.error.payment_intent.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.decline_code == "generic_decline"

    with pytest.raises(stripe.CardError) as refused:
        client.v1.payment_methods.attach("pm_card_chargeDeclined", params={"customer": cus.id})
    assert refused.value.code == "card_declined"


def test_detaching_stops_the_saved_method_being_used(sim: SimulatorProcess) -> None:
    client = sim.client()
    cus = customer(sim)
    pm_id = pay_and_save(sim, cus, "pm_card_visa").payment_method
    client.v1.customers.update(
        cus.id, params={"invoice_settings": {"default_payment_method": pm_id}}
    )

    pm = client.v1.payment_methods.detach(pm_id)
    assert pm.customer is None
    detached = sim.events("payment_method.detached")[-1]
    assert detached["data"]["previous_attributes"] == {"customer": cus.id}
    assert types(sim)[-2:] == ["payment_method.detached", "customer.updated"]
    assert client.v1.customers.retrieve(cus.id).invoice_settings.default_payment_method is None
    assert client.v1.customers.payment_methods.list(cus.id).data == []

    with pytest.raises(stripe.InvalidRequestError) as refused:
        charge_off_session(sim, cus, pm_id)
    assert "may not be used again" in refused.value.user_message
    assert refused.value.param == "payment_method"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.attach(pm_id, params={"customer": cus.id})
    with pytest.raises(stripe.InvalidRequestError) as twice:
        client.v1.payment_methods.detach(pm_id)
    assert twice.value.code == "payment_method_unexpected_state"


def sim_today(sim: SimulatorProcess) -> datetime.date:
    clock = sim.advance(0)["clock"]
    return datetime.datetime.fromtimestamp(clock, datetime.UTC).date()


def test_an_expired_saved_card_is_declined(sim: SimulatorProcess) -> None:
    cus = customer(sim)
    pm_id = pay_and_save(sim, cus, "pm_card_visa").payment_method
    card = sim.post(f"/_sim/payment_methods/{pm_id}/expire")["card"]
    today = sim_today(sim)
    assert (card["exp_year"], card["exp_month"]) < (today.year, today.month)

    with pytest.raises(stripe.CardError) as declined:
        charge_off_session(sim, cus, pm_id)
    assert declined.value.code == "expired_card"
    assert declined.value.param == "exp_month"
    assert types(sim)[-2:] == ["charge.failed", "payment_intent.payment_failed"]


def test_a_saved_card_expires_when_the_clock_passes_its_expiry_month(
    sim: SimulatorProcess,
) -> None:
    client = sim.client()
    cus = customer(sim)
    today = sim_today(sim)
    # Good through the last day of this month.
    card = {"number": "4242424242424242", "exp_month": today.month, "exp_year": today.year}
    pm = client.v1.payment_methods.create(params={"type": "card", "card": card})
    assert pm.card.exp_month == today.month
    pm_id = pay_and_save(sim, cus, pm.id).payment_method
    assert charge_off_session(sim, cus, pm_id).status == "succeeded"

    sim.advance(32 * 86400)
    with pytest.raises(stripe.CardError) as declined:
        charge_off_session(sim, cus, pm_id)
    assert declined.value.code == "expired_card"
    with pytest.raises(stripe.CardError) as refused:
        client.v1.payment_methods.create(params={"type": "card", "card": card})
    assert refused.value.code == "invalid_expiry_month"


def test_it_refuses_off_session_charges_stripe_refuses(sim: SimulatorProcess) -> None:
    client = sim.client()
    cus, other = customer(sim), customer(sim)
    with pytest.raises(stripe.InvalidRequestError) as unconfirmed:
        client.v1.payment_intents.create(
            params={"amount": 500, "currency": "eur", "customer": cus.id, "off_session": True}
        )
    assert unconfirmed.value.param == "off_session"

    loose = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2040},
        }
    )
    with pytest.raises(stripe.InvalidRequestError) as unattached:
        charge_off_session(sim, cus, loose.id)
    assert "must be attached to the customer" in unattached.value.user_message

    pm_id = pay_and_save(sim, other, "pm_card_visa").payment_method
    with pytest.raises(stripe.InvalidRequestError) as foreign:
        charge_off_session(sim, cus, pm_id)
    assert foreign.value.param == "payment_method"
    with pytest.raises(stripe.InvalidRequestError) as no_customer:
        client.v1.payment_intents.create(
            params={
                "amount": 500,
                "currency": "eur",
                "payment_method": pm_id,
                "payment_method_types": ["card"],
                "confirm": True,
            }
        )
    assert no_customer.value.param == "customer"
    with pytest.raises(stripe.InvalidRequestError) as default:
        client.v1.customers.update(
            cus.id, params={"invoice_settings": {"default_payment_method": pm_id}}
        )
    assert default.value.param == "invoice_settings[default_payment_method]"
    assert client.v1.customers.retrieve(cus.id).invoice_settings.default_payment_method is None
    with pytest.raises(stripe.InvalidRequestError) as elsewhere:
        client.v1.payment_methods.attach(pm_id, params={"customer": cus.id})
    assert elsewhere.value.code == "payment_method_unexpected_state"
    # None of the refused calls charged anything.
    assert [pi.status for pi in client.v1.payment_intents.list().data] == ["succeeded"]


def test_a_sepa_account_saved_during_payment_is_debited_off_session_under_its_mandate(
    sim: SimulatorProcess,
) -> None:
    sim.configure(settle_delay=4 * 86400)
    client = sim.client()
    cus = customer(sim)
    first = client.v1.payment_intents.create(
        params={
            "amount": 12000,
            "currency": "eur",
            "customer": cus.id,
            "payment_method_types": ["sepa_debit"],
            "setup_future_usage": "off_session",
            "payment_method_data": sepa_data(
                banks.SEPA_TEST_PAYMENT_METHODS["pm_sepaDebit_success"]
            ),
            "mandate_data": ACCEPTANCE,
            "confirm": True,
        }
    )
    assert first.status == "processing"
    pm = client.v1.payment_methods.retrieve(first.payment_method)
    assert pm.customer == cus.id
    mandate_id = client.v1.charges.retrieve(
        first.latest_charge
    ).payment_method_details.sepa_debit.mandate
    assert client.v1.mandates.retrieve(mandate_id).type == "multi_use"

    second = client.v1.payment_intents.create(
        params={
            "amount": 12000,
            "currency": "eur",
            "customer": cus.id,
            "payment_method": pm.id,
            "payment_method_types": ["sepa_debit"],
            "off_session": True,
            "confirm": True,
        }
    )
    assert second.status == "processing"
    details = client.v1.charges.retrieve(second.latest_charge).payment_method_details
    assert details.sepa_debit.mandate == mandate_id
    sim.advance(4 * 86400)
    assert client.v1.payment_intents.retrieve(second.id).status == "succeeded"

    # Without a saved mandate an off-session debit still needs the customer's acceptance.
    loose = client.v1.payment_methods.attach("pm_sepaDebit_success", params={"customer": cus.id})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.create(
            params={
                "amount": 100,
                "currency": "eur",
                "customer": cus.id,
                "payment_method": loose.id,
                "payment_method_types": ["sepa_debit"],
                "off_session": True,
                "confirm": True,
            }
        )
    assert missing.value.param == "mandate_data[customer_acceptance]"


def test_saving_and_off_session_webhooks_arrive_signed_and_in_order(sim: SimulatorProcess) -> None:
    with webhook_receiver() as receiver:
        sim.configure(
            webhook_endpoints=[{"url": receiver.url, "secret": "whsec_saved"}],
            delivery_enabled=True,
        )
        cus = customer(sim)
        pm_id = pay_and_save(sim, cus, "pm_card_authenticationRequired").payment_method
        with pytest.raises(stripe.CardError):
            charge_off_session(sim, cus, pm_id)
        sim.client().v1.payment_methods.detach(pm_id)
        posts = receiver.wait_for(10)

    events = [
        stripe.Webhook.construct_event(p.body, p.headers["Stripe-Signature"], "whsec_saved")
        for p in posts
    ]
    assert [e.type for e in events] == [
        "customer.created",
        "payment_intent.created",
        "payment_intent.requires_action",
        "payment_method.attached",
        "charge.succeeded",
        "payment_intent.succeeded",
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
        "payment_method.detached",
    ]
    attached = json.loads(posts[3].body)["data"]["object"]
    assert attached == {**attached, "id": pm_id, "customer": cus.id}


def test_a_card_set_up_without_a_customer_can_be_attached_afterwards(
    sim: SimulatorProcess,
) -> None:
    client = sim.client()
    pi = client.v1.payment_intents.create(
        params={
            "amount": 700,
            "currency": "eur",
            "payment_method_types": ["card"],
            "setup_future_usage": "off_session",
        }
    )
    pi = client.v1.payment_intents.confirm(
        pi.id,
        params={
            "payment_method": "pm_card_authenticationRequiredSetupForOffSession",
            "return_url": RETURN_URL,
        },
    )
    answer_challenge(sim, pi, "complete")
    pm_id = client.v1.payment_intents.retrieve(pi.id).payment_method
    assert client.v1.payment_methods.retrieve(pm_id).customer is None

    cus = customer(sim)
    assert client.v1.payment_methods.attach(pm_id, params={"customer": cus.id}).customer == cus.id
    assert types(sim)[-1] == "payment_method.attached"
    assert charge_off_session(sim, cus, pm_id).status == "succeeded"
