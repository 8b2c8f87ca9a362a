"""Contract tests, through the official SDK, for where the simulator is as strict as Stripe:
objects as the pinned API version has them, per-currency minimums, refund and dispute
lifecycles, and objects that belong to one simulator run (account) only."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from stripe_sim.testing import SimulatorProcess


@pytest.fixture
def client(sim: SimulatorProcess) -> stripe.StripeClient:
    return sim.client()


def paid_intent(
    client: stripe.StripeClient, amount: int = 5000, pm: str = "pm_card_visa", currency="usd"
) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "payment_method": pm,
            "payment_method_types": ["card"],
            "confirm": True,
        }
    )


def raw(sim: SimulatorProcess, path: str) -> dict[str, Any]:
    """An API answer as JSON, without the SDK's objects in between."""
    import urllib.request

    request = urllib.request.Request(sim.api_base + path)
    request.add_header("Authorization", f"Bearer {sim.secret_key}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


# -- objects as the pinned API version has them ---------------------------------------------


def test_a_charge_has_no_refunds_list_unless_expanded(
    client: stripe.StripeClient, sim: SimulatorProcess
) -> None:
    pi = paid_intent(client)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000})

    assert "refunds" not in raw(sim, f"/v1/charges/{pi.latest_charge}")
    event = sim.events("charge.refunded")[-1]
    assert "refunds" not in event["data"]["object"]
    assert "refunds" not in event["data"].get("previous_attributes", {})
    assert event["data"]["object"]["amount_refunded"] == 1000

    expanded = client.v1.charges.retrieve(pi.latest_charge, params={"expand": ["refunds"]})
    assert [r.id for r in expanded.refunds.data] == [refund.id]
    assert expanded.refunds.url == f"/v1/charges/{pi.latest_charge}/refunds"


def test_it_expands_only_what_is_asked_for(client: stripe.StripeClient) -> None:
    pi = paid_intent(client)
    plain = client.v1.payment_intents.retrieve(pi.id)
    assert isinstance(plain.latest_charge, str)
    assert isinstance(plain.payment_method, str)

    expanded = client.v1.payment_intents.retrieve(
        pi.id,
        params={"expand": ["latest_charge.balance_transaction", "payment_method"]},
    )
    assert expanded.latest_charge.id == pi.latest_charge
    assert expanded.latest_charge.balance_transaction.object == "balance_transaction"
    assert expanded.payment_method.card.last4 == "4242"
    assert isinstance(expanded.latest_charge.payment_intent, str)
    assert "refunds" not in expanded.latest_charge


# -- per-currency minimum amounts -----------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "minimum", "shown"),
    [
        ("usd", 50, "$0.50 usd"),
        ("gbp", 30, "£0.30 gbp"),
        ("eur", 50, "€0.50 eur"),
        ("jpy", 50, "¥50 jpy"),
        ("dkk", 250, "2.50 dkk"),
        ("nok", 300, "3.00 nok"),
        ("sek", 300, "3.00 sek"),
    ],
)
def test_it_refuses_amounts_below_the_currencys_minimum(
    client: stripe.StripeClient, currency: str, minimum: int, shown: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.create(params={"amount": minimum - 1, "currency": currency})
    error = refused.value.error
    assert (error.code, error.param, error.type) == (
        "amount_too_small",
        "amount",
        "invalid_request_error",
    )
    assert error.message == f"Amount must be at least {shown}"
    assert refused.value.http_status == 400

    pi = client.v1.payment_intents.create(params={"amount": minimum, "currency": currency})
    with pytest.raises(stripe.InvalidRequestError) as lowered:
        client.v1.payment_intents.update(pi.id, params={"amount": minimum - 1})
    assert lowered.value.code == "amount_too_small"
    assert client.v1.payment_intents.retrieve(pi.id).amount == minimum


def test_it_takes_every_currency_the_portal_invoices_in(client: stripe.StripeClient) -> None:
    from portal.money import CURRENCIES, minimum_charge

    for currency in CURRENCIES:
        minimum = minimum_charge(currency)
        pi = client.v1.payment_intents.create(
            params={"amount": minimum, "currency": currency.lower()}
        )
        assert (pi.currency, pi.amount) == (currency.lower(), minimum)


# -- the refund lifecycle -------------------------------------------------------------------


def types_for(sim: SimulatorProcess, refund_id: str) -> list[str]:
    return [
        e["type"]
        for e in sim.events()
        if e["data"]["object"].get("id") == refund_id
        and e["type"].startswith(("refund.", "charge.refund."))
    ]


def test_a_pending_refund_succeeds_later(
    client: stripe.StripeClient, sim: SimulatorProcess
) -> None:
    sim.configure(refund_delay=0.2)
    pi = paid_intent(client, pm="pm_card_pendingRefund")
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2000})
    assert refund.status == "pending"
    # Asked back already: only the rest can be refunded while it is pending.
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 2000
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 3001})
    assert too_much.value.code == "amount_too_large"

    sim.wait_for(
        lambda: client.v1.refunds.retrieve(refund.id).status == "succeeded",
        what="the pending refund to succeed",
    )
    assert types_for(sim, refund.id) == [
        "refund.created",
        "refund.updated",
        "charge.refund.updated",
    ]
    updated = sim.events("charge.refund.updated")[-1]["data"]
    assert updated["object"]["status"] == "succeeded"
    assert updated["previous_attributes"] == {"status": "pending"}


def test_a_refund_of_the_refund_fail_card_fails_later_and_gives_the_money_back(
    client: stripe.StripeClient, sim: SimulatorProcess
) -> None:
    sim.configure(refund_delay=0.2)
    pi = paid_intent(client, pm="pm_card_refundFail")
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "succeeded"
    assert client.v1.charges.retrieve(pi.latest_charge).refunded is True

    failed = sim.wait_for(
        lambda: (r := client.v1.refunds.retrieve(refund.id)).status == "failed" and r,
        what="the refund to fail",
    )
    assert failed.failure_reason == "expired_or_canceled_card"
    assert failed.failure_balance_transaction.startswith("txn_")
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    assert types_for(sim, refund.id) == [
        "refund.created",
        "refund.updated",
        "charge.refund.updated",
        "refund.failed",
    ]
    # The money can be asked back again.
    assert client.v1.refunds.create(params={"payment_intent": pi.id}).amount == 5000


def test_the_control_settles_any_refund(client: stripe.StripeClient, sim: SimulatorProcess) -> None:
    sim.configure(refund_delay=3600)
    pending = client.v1.refunds.create(
        params={"payment_intent": paid_intent(client, pm="pm_card_pendingRefund").id}
    )
    assert sim.settle_refund(pending.id, "fail")["status"] == "failed"

    ordinary = client.v1.refunds.create(params={"payment_intent": paid_intent(client).id})
    assert ordinary.status == "succeeded"
    assert sim.settle_refund(ordinary.id, "fail")["status"] == "failed"
    with pytest.raises(Exception, match="already failed"):
        sim.settle_refund(ordinary.id, "succeed")
    assert sim.events("refund.failed")[-1]["data"]["object"]["id"] == ordinary.id


# -- the dispute lifecycle ------------------------------------------------------------------


def dispute_events(sim: SimulatorProcess, dispute_id: str) -> list[str]:
    return [e["type"] for e in sim.events() if e["data"]["object"].get("id") == dispute_id]


def test_a_chargeback_withdraws_the_funds_and_winning_reinstates_them(
    client: stripe.StripeClient, sim: SimulatorProcess
) -> None:
    pi = paid_intent(client, pm="pm_card_createDispute")
    dispute = client.v1.disputes.list(params={"payment_intent": pi.id}).data[0]
    assert dispute.status == "needs_response"
    assert dispute.is_charge_refundable is False
    [withdrawn] = dispute.balance_transactions
    assert (withdrawn.amount, withdrawn.fee, withdrawn.reporting_category) == (
        -5000,
        1500,
        "dispute",
    )
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refused.value.code == "charge_disputed"

    sim.close_dispute(dispute.id, "won")
    won = client.v1.disputes.retrieve(dispute.id)
    assert won.status == "won"
    assert [t.amount for t in won.balance_transactions] == [-5000, 5000]
    assert dispute_events(sim, dispute.id) == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]
    closed = sim.events("charge.dispute.closed")[-1]["data"]
    assert closed["previous_attributes"] == {"status": "needs_response"}


def test_a_lost_chargeback_keeps_the_funds(
    client: stripe.StripeClient, sim: SimulatorProcess
) -> None:
    pi = paid_intent(client)
    dispute = sim.dispute(pi.id, reason="product_not_received", amount=2000)
    assert sim.close_dispute(dispute["id"], "lost")["status"] == "lost"
    assert dispute_events(sim, dispute["id"]) == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
    ]
    assert [t.amount for t in client.v1.disputes.retrieve(dispute["id"]).balance_transactions] == [
        -2000
    ]


@pytest.mark.parametrize("outcome", ["warning_closed", "prevented"])
def test_an_inquiry_moves_no_money_and_closes_without_a_chargeback(
    client: stripe.StripeClient, sim: SimulatorProcess, outcome: str
) -> None:
    pi = paid_intent(client, pm="pm_card_createDisputeInquiry")
    dispute = client.v1.disputes.list(params={"payment_intent": pi.id}).data[0]
    assert dispute.status == "warning_needs_response"
    assert dispute.balance_transactions == []
    assert dispute.is_charge_refundable is True

    # An inquiry cannot be won or lost: it is not a chargeback.
    with pytest.raises(Exception, match="can close as won"):
        sim.close_dispute(dispute.id, "won")
    sim.close_dispute(dispute.id, outcome)
    closed = client.v1.disputes.retrieve(dispute.id)
    assert closed.status == outcome
    assert closed.balance_transactions == []
    assert dispute_events(sim, dispute.id) == ["charge.dispute.created", "charge.dispute.closed"]
    with pytest.raises(Exception, match="only a dispute that is"):
        sim.close_dispute(dispute.id, outcome)


def test_an_open_inquiry_can_still_be_refunded(client: stripe.StripeClient) -> None:
    pi = paid_intent(client, pm="pm_card_createDisputeInquiry")
    assert client.v1.refunds.create(params={"payment_intent": pi.id}).status == "succeeded"


# -- one account per run --------------------------------------------------------------------


def test_events_of_the_accounts_own_objects_carry_no_account_field(
    client: stripe.StripeClient, sim: SimulatorProcess
) -> None:
    paid_intent(client)
    events = sim.events()
    assert events
    # Only Connect events (from a connected account) name an account.
    assert all("account" not in event for event in events)
    account = client.v1.accounts.retrieve_current()
    assert account.id == sim.config()["account"]
    assert account.id.startswith("acct_")


def test_objects_of_another_account_are_resource_missing(
    client: stripe.StripeClient, sim: SimulatorProcess
) -> None:
    pi = paid_intent(client)
    customer = client.v1.customers.create(params={"email": "ada@example.com"})

    sim.configure(account="acct_1OtherAccount00001")
    for retrieve, obj_id in (
        (client.v1.payment_intents.retrieve, pi.id),
        (client.v1.customers.retrieve, customer.id),
        (client.v1.charges.retrieve, pi.latest_charge),
    ):
        with pytest.raises(stripe.InvalidRequestError) as missing:
            retrieve(obj_id)
        assert missing.value.code == "resource_missing"
        assert missing.value.http_status == 404
        assert obj_id in str(missing.value.user_message)
    assert client.v1.payment_intents.list().data == []
    with pytest.raises(stripe.InvalidRequestError) as unknown_customer:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "customer": customer.id}
        )
    assert unknown_customer.value.code == "resource_missing"
    assert unknown_customer.value.param == "customer"

    sim.configure(account=client.v1.accounts.retrieve_current().id)  # back: all there again
    sim.reset(config=True)
    with pytest.raises(stripe.InvalidRequestError) as after_reset:
        client.v1.payment_intents.retrieve(pi.id)
    assert after_reset.value.code == "resource_missing"


def test_a_stripe_account_header_for_another_account_is_refused(
    client: stripe.StripeClient, sim: SimulatorProcess
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.list(options={"stripe_account": "acct_1SomeoneElse000001"})
    assert "Only Stripe Connect platforms can work with other accounts" in str(
        refused.value.user_message
    )
    own = sim.config()["account"]
    assert client.v1.customers.list(options={"stripe_account": own}).data == []


def test_a_run_can_be_told_its_account_and_a_restart_forgets_its_objects() -> None:
    with SimulatorProcess(account="acct_1FixedForThisRun01", quiet=True) as first:
        assert first.config()["account"] == "acct_1FixedForThisRun01"
        pi = first.client().v1.payment_intents.create(params={"amount": 900, "currency": "usd"})
    with SimulatorProcess(account="acct_1FixedForThisRun01", quiet=True) as second:
        with pytest.raises(stripe.InvalidRequestError) as stale:
            second.client().v1.payment_intents.retrieve(pi.id)
        assert stale.value.code == "resource_missing"


def test_ids_carry_the_account_they_belong_to(
    client: stripe.StripeClient, sim: SimulatorProcess
) -> None:
    tail = sim.config()["account"][-10:]
    pi = paid_intent(client)
    for obj_id in (pi.id, pi.latest_charge, pi.payment_method):
        assert obj_id.split("_", 1)[1][6:16] == tail, obj_id  # pi_3 + 5 + account + 8
    sim.configure(account="acct_1AnotherAccount0001")
    other = client.v1.payment_intents.create(params={"amount": 700, "currency": "usd"})
    assert "AnotherAccount0001"[-10:] in other.id
    assert tail not in other.id
