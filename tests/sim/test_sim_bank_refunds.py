"""Refunds of bank debits and the ACH account that stays processing, through the official SDK.

A refund of an ACH or SEPA debit is a credit sent back through the bank: it is ``pending``
for days (the simulator's ``settle_delay``) and then ``succeeded``, or ``failed`` for the
simulator-only refund-failure accounts; 000000000009 (``pm_usBankAccount_processing``) stays
``processing`` until the PaymentIntent is canceled.
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_sim import banks
from stripe_sim.testing import SimulatorProcess
from tests.sim.test_sim_bank_debits import (
    ACCEPTANCE,
    FOUR_BUSINESS_DAYS,
    ach_data,
    confirm,
    intent,
    sepa_data,
)


@pytest.fixture
def bank_sim(sim: SimulatorProcess) -> SimulatorProcess:
    # Nothing settles by the wall clock during a test: only /_sim/advance moves it on.
    sim.configure(settle_delay=FOUR_BUSINESS_DAYS)
    return sim


def settled_debit(sim: SimulatorProcess, data: dict[str, Any], currency: str) -> Any:
    pi = confirm(
        sim, intent(sim, data["type"], currency), payment_method_data=data, mandate_data=ACCEPTANCE
    )
    if pi.status == "requires_action":  # a typed-in ACH account: microdeposits first
        sim.client().v1.payment_intents.verify_microdeposits(
            pi.id, params={"descriptor_code": "SM11AA"}
        )
    sim.advance(FOUR_BUSINESS_DAYS + 200)
    pi = sim.client().v1.payment_intents.retrieve(pi.id)
    assert pi.status == "succeeded"
    return pi


def refund_events(sim: SimulatorProcess, refund_id: str) -> list[tuple[str, str]]:
    return [
        (event["type"], event["data"]["object"].get("status"))
        for event in sim.events()
        if event["data"]["object"].get("id") == refund_id
    ]


@pytest.mark.parametrize(
    ("data", "currency"),
    [(ach_data(banks.ACH_SUCCESS), "usd"), (sepa_data("DE89370400440532013000"), "eur")],
    ids=["ach", "sepa"],
)
def test_it_keeps_a_bank_refund_pending_until_days_have_passed(bank_sim, data, currency):
    pi = settled_debit(bank_sim, data, currency)
    client = bank_sim.client()
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 20000})
    assert refund.status == "pending"
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.amount_refunded == 20000  # already counts against what is left to refund

    bank_sim.advance(FOUR_BUSINESS_DAYS - 60)
    assert client.v1.refunds.retrieve(refund.id).status == "pending"

    bank_sim.advance(120)
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert refund_events(bank_sim, refund.id) == [
        ("refund.created", "pending"),
        ("refund.updated", "succeeded"),
        ("charge.refund.updated", "succeeded"),
    ]


@pytest.mark.parametrize(
    ("data", "currency"),
    [(ach_data(banks.ACH_REFUND_FAILS), "usd"), (sepa_data(banks.SEPA_REFUND_FAILS), "eur")],
    ids=["ach", "sepa"],
)
def test_it_fails_a_bank_refund_to_the_refund_failure_accounts(bank_sim, data, currency):
    pi = settled_debit(bank_sim, data, currency)
    client = bank_sim.client()
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "pending"
    bank_sim.advance(FOUR_BUSINESS_DAYS + 1)

    failed = client.v1.refunds.retrieve(refund.id)
    assert failed.status == "failed"
    assert failed.failure_reason == "declined"
    assert failed.failure_balance_transaction
    # The money never left: the whole charge can be refunded again.
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 0
    assert refund_events(bank_sim, refund.id) == [
        ("refund.created", "pending"),
        ("refund.updated", "failed"),
        ("charge.refund.updated", "failed"),
        ("refund.failed", "failed"),
    ]


def test_it_refuses_to_settle_a_bank_refund_twice(bank_sim):
    pi = settled_debit(bank_sim, ach_data(banks.ACH_SUCCESS), "usd")
    refund = bank_sim.client().v1.refunds.create(params={"payment_intent": pi.id})
    bank_sim.settle_refund(refund.id, "succeed")
    bank_sim.advance(FOUR_BUSINESS_DAYS + 1)  # the scheduled settlement finds it done
    assert bank_sim.client().v1.refunds.retrieve(refund.id).status == "succeeded"
    assert [t for t, _ in refund_events(bank_sim, refund.id)].count("refund.updated") == 1


def test_it_keeps_the_processing_test_account_processing_until_canceled(bank_sim):
    client = bank_sim.client()
    pi = intent(bank_sim, "us_bank_account", "usd")
    pi = confirm(
        bank_sim, pi, payment_method="pm_usBankAccount_processing", mandate_data=ACCEPTANCE
    )
    assert pi.status == "processing"
    bank_sim.advance(30 * 86400)
    assert client.v1.payment_intents.retrieve(pi.id).status == "processing"

    canceled = client.v1.payment_intents.cancel(pi.id)
    assert canceled.status == "canceled"
    assert client.v1.charges.retrieve(pi.latest_charge).status == "failed"
    types = [event["type"] for event in bank_sim.events()]
    assert types[-2:] == ["charge.failed", "payment_intent.canceled"]


def test_it_refuses_to_cancel_a_debit_that_is_on_its_way(bank_sim):
    pi = intent(bank_sim, "us_bank_account", "usd")
    pi = confirm(bank_sim, pi, payment_method="pm_usBankAccount_success", mandate_data=ACCEPTANCE)
    assert pi.status == "processing"
    with pytest.raises(stripe.InvalidRequestError, match="status of processing"):
        bank_sim.client().v1.payment_intents.cancel(pi.id)


def test_it_disputes_a_debit_from_the_dispute_test_account(bank_sim):
    pi = intent(bank_sim, "us_bank_account", "usd")
    pi = confirm(bank_sim, pi, payment_method="pm_usBankAccount_dispute", mandate_data=ACCEPTANCE)
    bank_sim.advance(FOUR_BUSINESS_DAYS + 1)
    assert bank_sim.client().v1.payment_intents.retrieve(pi.id).status == "succeeded"
    assert bank_sim.events("charge.dispute.created")
