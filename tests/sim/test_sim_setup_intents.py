"""SetupIntents through the official SDK: saving a card or a bank account for later without a
payment, 3-D Secure during setup, failures, and the off-session charge that follows."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
import stripe

from stripe_sim import banks
from stripe_sim.testing import SimulatorProcess
from tests.sim.helpers import assert_shaped
from tests.sim.test_sim_bank_debits import ACCEPTANCE, sepa_data
from tests.sim.test_sim_flows import RETURN_URL, answer_challenge
from tests.sim.test_sim_saved_methods import charge_off_session, customer, types


def setup(sim: SimulatorProcess, cus: stripe.Customer, **params: object) -> stripe.SetupIntent:
    return sim.client().v1.setup_intents.create(
        params={"customer": cus.id, "payment_method_types": ["card"], **params}
    )


def test_it_saves_a_card_for_off_session_use(
    sim: SimulatorProcess, stripe_fixtures: dict[str, dict[str, Any]]
) -> None:
    client = sim.client()
    cus = customer(sim)
    seti = setup(sim, cus)
    assert_shaped(seti, stripe_fixtures)
    assert seti.status == "requires_payment_method"
    assert seti.usage == "off_session"
    assert seti.client_secret.startswith(f"{seti.id}_secret_")

    seti = client.v1.setup_intents.confirm(seti.id, params={"payment_method": "pm_card_visa"})
    assert seti.status == "succeeded"
    assert client.v1.payment_methods.retrieve(seti.payment_method).customer == cus.id
    assert types(sim) == [
        "customer.created",
        "setup_intent.created",
        "payment_method.attached",
        "setup_intent.succeeded",
    ]
    assert charge_off_session(sim, cus, seti.payment_method).status == "succeeded"


def test_3155_authenticated_at_setup_is_charged_off_session_without_authentication(
    sim: SimulatorProcess,
) -> None:
    client = sim.client()
    cus = customer(sim)
    seti = setup(
        sim,
        cus,
        payment_method="pm_card_authenticationRequiredSetupForOffSession",
        confirm=True,
        return_url=RETURN_URL,
    )
    assert seti.status == "requires_action"
    assert seti.next_action.type == "redirect_to_url"
    assert types(sim)[-1] == "setup_intent.requires_action"

    location = answer_challenge(sim, seti, "complete")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert query["setup_intent"] == [seti.id]
    assert query["setup_intent_client_secret"] == [seti.client_secret]
    assert query["redirect_status"] == ["succeeded"]
    seti = client.v1.setup_intents.retrieve(seti.id)
    assert seti.status == "succeeded"
    assert types(sim)[-2:] == ["payment_method.attached", "setup_intent.succeeded"]
    assert charge_off_session(sim, cus, seti.payment_method).status == "succeeded"


def test_failed_authentication_at_setup_saves_nothing(sim: SimulatorProcess) -> None:
    client = sim.client()
    cus = customer(sim)
    seti = setup(
        sim,
        cus,
        payment_method="pm_card_authenticationRequired",
        confirm=True,
        return_url=RETURN_URL,
    )
    assert "redirect_status=failed" in answer_challenge(sim, seti, "fail")
    seti = client.v1.setup_intents.retrieve(seti.id)
    assert seti.status == "requires_payment_method"
    assert seti.last_setup_error.code == "setup_intent_authentication_failure"
    assert client.v1.customers.payment_methods.list(cus.id).data == []
    assert types(sim)[-1] == "setup_intent.setup_failed"


def test_a_declined_card_fails_the_setup(sim: SimulatorProcess) -> None:
    client = sim.client()
    cus = customer(sim)
    seti = setup(sim, cus)
    with pytest.raises(stripe.CardError) as declined:
        client.v1.setup_intents.confirm(
            seti.id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    assert declined.value.code == "card_declined"
    assert declined.value.error.setup_intent.id == seti.id
    seti = client.v1.setup_intents.retrieve(seti.id)
    assert seti.status == "requires_payment_method"
    assert seti.last_setup_error.decline_code == "generic_decline"
    assert seti.payment_method is None
    assert types(sim)[-1] == "setup_intent.setup_failed"

    seti = client.v1.setup_intents.confirm(seti.id, params={"payment_method": "pm_card_visa"})
    assert seti.status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.setup_intents.confirm(seti.id, params={"payment_method": "pm_card_visa"})
    assert again.value.code == "setup_intent_unexpected_state"


def test_it_saves_a_sepa_account_under_a_mandate_for_off_session_debits(
    sim: SimulatorProcess,
) -> None:
    client = sim.client()
    cus = customer(sim)
    iban = banks.SEPA_TEST_PAYMENT_METHODS["pm_sepaDebit_success"]
    seti = client.v1.setup_intents.create(
        params={
            "customer": cus.id,
            "payment_method_types": ["sepa_debit"],
            "payment_method_data": sepa_data(iban),
            "mandate_data": ACCEPTANCE,
            "confirm": True,
        }
    )
    assert seti.status == "succeeded"
    mandate = client.v1.mandates.retrieve(seti.mandate)
    assert (mandate.type, mandate.status, mandate.payment_method) == (
        "multi_use",
        "active",
        seti.payment_method,
    )
    pi = client.v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "eur",
            "customer": cus.id,
            "payment_method": seti.payment_method,
            "payment_method_types": ["sepa_debit"],
            "off_session": True,
            "confirm": True,
        }
    )
    assert pi.status == "processing"
    details = client.v1.charges.retrieve(pi.latest_charge).payment_method_details
    assert details.sepa_debit.mandate == mandate.id


def test_stripe_js_reads_a_setup_intent_only_with_its_client_secret(sim: SimulatorProcess) -> None:
    cus = customer(sim)
    seti = setup(sim, cus)
    public = stripe.StripeClient(sim.publishable_key, base_addresses={"api": sim.api_base})
    seen = public.v1.setup_intents.retrieve(seti.id, params={"client_secret": seti.client_secret})
    assert seen.status == "requires_payment_method"
    assert "customer" not in seen
    with pytest.raises(stripe.InvalidRequestError) as wrong:
        public.v1.setup_intents.retrieve(seti.id, params={"client_secret": "seti_x_secret_y"})
    assert wrong.value.param == "client_secret"
