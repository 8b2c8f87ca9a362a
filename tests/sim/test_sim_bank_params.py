"""What Stripe refuses for bank debits (currencies, missing names, e-mails and mandates, bad
numbers), which methods a PaymentIntent offers, and the simulator's clock."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_sim.testing import SimulatorProcess
from tests.sim.test_sim_bank_debits import ACCEPTANCE, JENNY, ach_data, intent, sepa_data


def refused(call: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value


def test_it_refuses_a_method_in_a_currency_it_cannot_take(sim: SimulatorProcess) -> None:
    client = sim.client()
    for type_, currency, wanted in (
        ("us_bank_account", "eur", "usd"),
        ("sepa_debit", "usd", "eur"),
    ):
        error = refused(
            lambda t=type_, c=currency: client.v1.payment_intents.create(
                params={"amount": 5000, "currency": c, "payment_method_types": [t]}
            )
        )
        assert error.param == "payment_method_types"
        assert f"Payments with {type_} support the following currencies: {wanted}." in str(
            error.user_message
        )
    assert (
        refused(
            lambda: client.v1.payment_intents.create(
                params={"amount": 5000, "currency": "usd", "payment_method_types": ["ideal"]}
            )
        ).param
        == "payment_method_types[0]"
    )


def test_it_refuses_a_debit_without_a_mandate_and_changes_nothing(sim: SimulatorProcess) -> None:
    client = sim.client()
    pi = intent(sim, "sepa_debit", "eur")
    error = refused(
        lambda: client.v1.payment_intents.confirm(
            pi.id, params={"payment_method_data": sepa_data("AT611904300234573201")}
        )
    )
    assert error.code == "parameter_missing"
    assert error.param == "mandate_data[customer_acceptance]"
    online_without_ip = {"customer_acceptance": {"type": "online", "online": {"user_agent": "x"}}}
    error = refused(
        lambda: client.v1.payment_intents.confirm(
            pi.id,
            params={
                "payment_method_data": sepa_data("AT611904300234573201"),
                "mandate_data": online_without_ip,
            },
        )
    )
    assert error.param == "mandate_data[customer_acceptance][online][ip_address]"
    after = client.v1.payment_intents.retrieve(pi.id)
    assert after.status == "requires_payment_method"
    assert after.payment_method is None
    assert client.v1.charges.list(params={"payment_intent": pi.id}).data == []


@pytest.mark.parametrize(
    ("data", "param"),
    [
        (
            {**ach_data("000123456789"), "billing_details": {}},
            "payment_method_data[billing_details][name]",
        ),
        (
            {**sepa_data("AT611904300234573201"), "billing_details": {"name": "Jenny Rosen"}},
            "payment_method_data[billing_details][email]",
        ),
        ({"type": "sepa_debit", "billing_details": JENNY}, "payment_method_data[sepa_debit]"),
    ],
)
def test_it_refuses_bank_details_stripe_requires(
    sim: SimulatorProcess, data: dict[str, Any], param: str
) -> None:
    type_ = data["type"]
    pi = intent(sim, type_, "usd" if type_ == "us_bank_account" else "eur")
    error = refused(
        lambda: sim.client().v1.payment_intents.confirm(
            pi.id, params={"payment_method_data": data, "mandate_data": ACCEPTANCE}
        )
    )
    assert error.code == "parameter_missing"
    assert error.param == param


def test_it_refuses_bad_bank_numbers_at_creation(sim: SimulatorProcess) -> None:
    client = sim.client()
    cases = [
        (ach_data("000123456789", routing="110000001"), "routing_number_invalid"),
        (ach_data("12"), "account_number_invalid"),
        (sepa_data("AT611904300234573200"), "invalid_bank_account_iban"),
        (sepa_data("DE8937040044053201300"), "invalid_bank_account_iban"),
    ]
    for data, code in cases:
        error = refused(lambda d=data: client.v1.payment_methods.create(params=d))
        assert error.code == code
    pm = client.v1.payment_methods.create(params=sepa_data("de89 3704 0044 0532 0130 00"))
    assert pm.sepa_debit.last4 == "3000"
    assert pm.sepa_debit.bank_code == "37040044"
    assert "card" not in pm.to_dict()


def test_it_refuses_a_payment_method_the_intent_does_not_offer(sim: SimulatorProcess) -> None:
    client = sim.client()
    pi = client.v1.payment_intents.create(
        params={"amount": 5000, "currency": "usd", "payment_method_types": ["card"]}
    )
    error = refused(
        lambda: client.v1.payment_intents.confirm(
            pi.id, params={"payment_method": "pm_usBankAccount_success", "mandate_data": ACCEPTANCE}
        )
    )
    assert error.code == "payment_intent_incompatible_payment_method"


def test_automatic_payment_methods_offer_the_enabled_methods_per_currency(
    sim: SimulatorProcess,
) -> None:
    client = sim.client()

    def types(currency: str) -> list[str]:
        pi = client.v1.payment_intents.create(
            params={
                "amount": 5000,
                "currency": currency,
                "automatic_payment_methods": {"enabled": True},
            }
        )
        return list(pi.payment_method_types)

    assert types("usd") == ["card"]  # the default settings: cards only
    sim.configure(payment_methods=["card", "us_bank_account", "sepa_debit"])
    assert types("usd") == ["card", "us_bank_account"]
    assert types("eur") == ["card", "sepa_debit"]
    assert types("gbp") == ["card"]
    with pytest.raises(Exception, match="payment_methods must be"):
        sim.configure(payment_methods=["ideal"])


def test_it_confirms_a_bank_debit_on_create(sim: SimulatorProcess) -> None:
    sim.configure(settle_delay=86400)
    pi = sim.client().v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "usd",
            "payment_method_types": ["us_bank_account"],
            "payment_method": "pm_usBankAccount_success",
            "mandate_data": ACCEPTANCE,
            "confirm": True,
        }
    )
    assert pi.status == "processing"
    assert sim.post(f"/_sim/payment_intents/{pi.id}/fail")["status"] == "requires_payment_method"


def test_the_clock_moves_on_with_advance(sim: SimulatorProcess) -> None:
    client = sim.client()
    before = client.v1.customers.create().created
    answer = sim.advance(30 * 86400)
    assert answer["offset"] >= 30 * 86400
    after = client.v1.customers.create().created
    assert after - before >= 30 * 86400
    sim.reset()
    assert client.v1.customers.create().created - before < 86400
