"""Bank debits through the official SDK: ACH Direct Debit and SEPA Direct Debit test accounts,
mandates, microdeposit verification and settlement on the simulator's clock."""

from __future__ import annotations

import urllib.parse
import urllib.request
from typing import Any

import pytest
import stripe

from stripe_sim import banks
from stripe_sim.testing import SimulatorProcess
from tests.sim.helpers import assert_shaped, webhook_receiver

FOUR_BUSINESS_DAYS = 4 * 86400
ACCEPTANCE = {
    "customer_acceptance": {
        "type": "online",
        "online": {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux)"},
    }
}
JENNY = {"name": "Jenny Rosen", "email": "jenny@example.com"}


@pytest.fixture
def bank_sim(sim: SimulatorProcess) -> SimulatorProcess:
    # Nothing settles by the wall clock during a test: only /_sim/advance moves it on.
    sim.configure(settle_delay=FOUR_BUSINESS_DAYS)
    return sim


def intent(sim: SimulatorProcess, type_: str, currency: str) -> stripe.PaymentIntent:
    return sim.client().v1.payment_intents.create(
        params={"amount": 120000, "currency": currency, "payment_method_types": [type_]}
    )


def confirm(sim: SimulatorProcess, pi: stripe.PaymentIntent, **params: Any) -> Any:
    return sim.client().v1.payment_intents.confirm(pi.id, params=params)


def ach_data(account_number: str, routing: str = banks.TEST_ROUTING_NUMBER) -> dict[str, Any]:
    return {
        "type": "us_bank_account",
        "us_bank_account": {
            "routing_number": routing,
            "account_number": account_number,
            "account_holder_type": "individual",
        },
        "billing_details": {"name": "Jenny Rosen"},
    }


def sepa_data(iban: str) -> dict[str, Any]:
    return {"type": "sepa_debit", "sepa_debit": {"iban": iban}, "billing_details": JENNY}


def events(sim: SimulatorProcess) -> list[str]:
    return [event["type"] for event in sim.get("/_sim/events")["data"]]


ACH_OUTCOMES = [
    ("pm_usBankAccount_success", "succeeded", None, "active"),
    ("pm_usBankAccount_accountClosed", "requires_payment_method", "account_closed", "inactive"),
    ("pm_usBankAccount_noAccount", "requires_payment_method", "no_account", "inactive"),
    (
        "pm_usBankAccount_insufficientFunds",
        "requires_payment_method",
        "insufficient_funds",
        "active",
    ),
    (
        "pm_usBankAccount_debitNotAuthorized",
        "requires_payment_method",
        "debit_not_authorized",
        "inactive",
    ),
]


@pytest.mark.parametrize(("payment_method", "status", "code", "mandate_status"), ACH_OUTCOMES)
def test_it_settles_each_ach_test_account_as_stripe_documents(
    bank_sim: SimulatorProcess,
    payment_method: str,
    status: str,
    code: str | None,
    mandate_status: str,
) -> None:
    client = bank_sim.client()
    pi = confirm(
        bank_sim,
        intent(bank_sim, "us_bank_account", "usd"),
        payment_method=payment_method,
        mandate_data=ACCEPTANCE,
    )
    assert pi.status == "processing"
    assert pi.processing is None  # only card payments carry a processing hash
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.status == "pending"
    details = charge.payment_method_details
    assert details.type == "us_bank_account"
    assert details.us_bank_account.routing_number == banks.TEST_ROUTING_NUMBER
    mandate = client.v1.mandates.retrieve(details.us_bank_account.mandate)
    assert mandate.status == "active"

    bank_sim.advance(FOUR_BUSINESS_DAYS - 60)
    assert client.v1.payment_intents.retrieve(pi.id).status == "processing"
    bank_sim.advance(60)

    pi = client.v1.payment_intents.retrieve(pi.id)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert pi.status == status
    assert client.v1.mandates.retrieve(mandate.id).status == mandate_status
    if code is None:
        assert charge.status == "succeeded"
        assert pi.amount_received == 120000
        assert pi.last_payment_error is None
    else:
        assert charge.status == "failed"
        assert charge.failure_code == code
        assert pi.last_payment_error.code == code
        assert pi.last_payment_error.payment_method.type == "us_bank_account"
        assert pi.payment_method is None


@pytest.mark.parametrize(
    ("account", "code"),
    [
        ("000123456789", None),
        ("000111111113", "account_closed"),
        ("000222222227", "insufficient_funds"),
    ],
)
def test_it_debits_hand_entered_ach_accounts_after_microdeposits(
    bank_sim: SimulatorProcess, account: str, code: str | None
) -> None:
    pi = intent(bank_sim, "us_bank_account", "usd")
    pi = confirm(bank_sim, pi, payment_method_data=ach_data(account), mandate_data=ACCEPTANCE)
    assert pi.status == "requires_action"
    assert pi.next_action.type == "verify_with_microdeposits"
    verify = pi.next_action.verify_with_microdeposits
    assert verify.microdeposit_type == "descriptor_code"
    assert verify.arrival_date > pi.created
    assert verify.hosted_verification_url.startswith(f"{bank_sim.api_base}/_sim/microdeposits/")

    pi = bank_sim.client().v1.payment_intents.verify_microdeposits(
        pi.id, params={"descriptor_code": "SM11AA"}
    )
    assert pi.status == "processing"
    bank_sim.advance(FOUR_BUSINESS_DAYS)
    pi = bank_sim.client().v1.payment_intents.retrieve(pi.id)
    assert pi.status == ("succeeded" if code is None else "requires_payment_method")
    if code:
        assert pi.last_payment_error.code == code


def test_it_verifies_microdeposits_by_amounts_and_refuses_wrong_values(
    bank_sim: SimulatorProcess,
) -> None:
    client = bank_sim.client()
    pi = intent(bank_sim, "us_bank_account", "usd")
    pi = confirm(
        bank_sim, pi, payment_method_data=ach_data("000123456789"), mandate_data=ACCEPTANCE
    )
    wrong = [
        (
            {"descriptor_code": "SM99ZZ"},
            "payment_method_microdeposit_verification_descriptor_code_mismatch",
        ),
        ({"amounts": [10, 11]}, "payment_method_microdeposit_verification_amounts_mismatch"),
        ({"amounts": [32]}, "payment_method_microdeposit_verification_amounts_invalid"),
    ]
    for params, code in wrong:
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.payment_intents.verify_microdeposits(pi.id, params=params)
        assert refused.value.code == code
    with pytest.raises(stripe.InvalidRequestError) as both:
        client.v1.payment_intents.verify_microdeposits(
            pi.id, params={"amounts": [32, 45], "descriptor_code": "SM11AA"}
        )
    assert both.value.http_status == 400
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_action"

    pi = client.v1.payment_intents.verify_microdeposits(pi.id, params={"amounts": [32, 45]})
    assert pi.status == "processing"
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.verify_microdeposits(pi.id, params={"amounts": [32, 45]})
    assert again.value.code == "payment_intent_unexpected_state"
    mandate_events = [e for e in events(bank_sim) if e == "mandate.updated"]
    assert mandate_events == ["mandate.updated"]  # pending -> active


def test_it_gives_up_after_ten_wrong_descriptor_codes(bank_sim: SimulatorProcess) -> None:
    client = bank_sim.client()
    pi = intent(bank_sim, "us_bank_account", "usd")
    pi = confirm(
        bank_sim, pi, payment_method_data=ach_data("000123456789"), mandate_data=ACCEPTANCE
    )
    codes = []
    for _ in range(10):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.payment_intents.verify_microdeposits(
                pi.id, params={"descriptor_code": "SM00XX"}
            )
        codes.append(refused.value.code)
    assert codes[-1] == "payment_method_microdeposit_verification_attempts_exceeded"
    assert set(codes[:-1]) == {"payment_method_microdeposit_verification_descriptor_code_mismatch"}
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert (
        pi.last_payment_error.code == "payment_method_microdeposit_verification_attempts_exceeded"
    )


def test_it_serves_the_hosted_verification_page(bank_sim: SimulatorProcess) -> None:
    pi = intent(bank_sim, "us_bank_account", "usd")
    pi = confirm(
        bank_sim, pi, payment_method_data=ach_data("000123456789"), mandate_data=ACCEPTANCE
    )
    url = pi.next_action.verify_with_microdeposits.hosted_verification_url
    with urllib.request.urlopen(url, timeout=5) as response:
        page = response.read().decode()
    assert "Verify your bank account" in page
    assert 'name="descriptor_code"' in page

    def answer(code: str) -> tuple[int, str]:
        form = urllib.parse.urlencode({"client_secret": pi.client_secret, "descriptor_code": code})
        request = urllib.request.Request(
            f"{bank_sim.api_base}/_sim/microdeposits/{pi.id}", data=form.encode()
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    status, page = answer("SM12AB")
    assert status == 400
    assert "does not match" in page
    status, page = answer("sm11aa")
    assert status == 200
    assert 'data-status="processing"' in page
    with pytest.raises(urllib.error.HTTPError) as foreign:
        urllib.request.urlopen(url.split("?")[0] + "?client_secret=nope", timeout=5)
    assert foreign.value.code == 400


SEPA_OUTCOMES = [
    ("AT611904300234573201", 0, "succeeded", None),
    ("AT321904300235473204", 180, "succeeded", None),
    ("AT861904300235473202", 0, "requires_payment_method", "generic_could_not_process"),
    ("AT051904300235473205", 180, "requires_payment_method", "generic_could_not_process"),
    ("DE89370400440532013000", 0, "succeeded", None),
    ("DE62370400440532013001", 0, "requires_payment_method", "generic_could_not_process"),
]


@pytest.mark.parametrize(("iban", "late", "status", "code"), SEPA_OUTCOMES)
def test_it_settles_each_sepa_test_iban_as_stripe_documents(
    bank_sim: SimulatorProcess, iban: str, late: int, status: str, code: str | None
) -> None:
    client = bank_sim.client()
    pi = confirm(
        bank_sim,
        intent(bank_sim, "sepa_debit", "eur"),
        payment_method_data=sepa_data(iban),
        mandate_data=ACCEPTANCE,
    )
    assert pi.status == "processing"  # SEPA needs no microdeposits
    pm = client.v1.payment_methods.retrieve(pi.payment_method)
    assert pm.sepa_debit.last4 == iban[-4:]
    assert pm.sepa_debit.country == iban[:2]
    assert pm.billing_details.email == JENNY["email"]

    bank_sim.advance(FOUR_BUSINESS_DAYS)
    if late:
        assert client.v1.payment_intents.retrieve(pi.id).status == "processing"
        bank_sim.advance(late)
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == status
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.failure_code == code
    assert charge.payment_method_details.sepa_debit.mandate.startswith("mandate_")


def test_it_disputes_the_sepa_dispute_iban_after_it_succeeds(bank_sim: SimulatorProcess) -> None:
    pi = confirm(
        bank_sim,
        intent(bank_sim, "sepa_debit", "eur"),
        payment_method_data=sepa_data("AT591904300235473203"),
        mandate_data=ACCEPTANCE,
    )
    bank_sim.advance(FOUR_BUSINESS_DAYS)
    assert bank_sim.client().v1.payment_intents.retrieve(pi.id).status == "succeeded"
    disputes = bank_sim.client().v1.disputes.list(params={"payment_intent": pi.id})
    assert len(disputes.data) == 1


def test_it_delivers_the_debit_events_in_order_as_signed_webhooks(
    bank_sim: SimulatorProcess,
) -> None:
    with webhook_receiver() as receiver:
        bank_sim.configure(webhook_endpoints=[receiver.url], delivery_enabled=True)
        ok = confirm(
            bank_sim,
            intent(bank_sim, "us_bank_account", "usd"),
            payment_method="pm_usBankAccount_success",
            mandate_data=ACCEPTANCE,
        )
        bank_sim.advance(FOUR_BUSINESS_DAYS)
        closed = confirm(
            bank_sim,
            intent(bank_sim, "us_bank_account", "usd"),
            payment_method="pm_usBankAccount_accountClosed",
            mandate_data=ACCEPTANCE,
        )
        bank_sim.advance(FOUR_BUSINESS_DAYS)
        posts = receiver.wait_for(11)

    seen = []
    for post in posts:
        event = stripe.Webhook.construct_event(
            post.body, post.headers["Stripe-Signature"], bank_sim.webhook_secret
        )
        obj = event.data.object.to_dict()
        seen.append((event.type, obj.get("payment_intent") or obj["id"]))
    assert [t for t, _ in seen[:5]] == [
        "payment_intent.created",
        "payment_intent.processing",
        "charge.pending",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    assert {obj for _, obj in seen[:5]} == {ok.id}
    assert [t for t, _ in seen[5:]] == [
        "payment_intent.created",
        "payment_intent.processing",
        "charge.pending",
        "charge.failed",
        "payment_intent.payment_failed",
        "mandate.updated",
    ]
    assert {obj for _, obj in seen[5:10]} == {closed.id}
    mandate = stripe.Webhook.construct_event(
        posts[10].body, posts[10].headers["Stripe-Signature"], bank_sim.webhook_secret
    )
    assert mandate.data.object.status == "inactive"
    assert mandate.data.previous_attributes.status == "active"


def test_it_shows_the_bank_account_on_the_receipt_and_the_overview(
    bank_sim: SimulatorProcess, stripe_fixtures: dict[str, dict[str, Any]]
) -> None:
    pi = confirm(
        bank_sim,
        intent(bank_sim, "us_bank_account", "usd"),
        payment_method="pm_usBankAccount_success",
        mandate_data=ACCEPTANCE,
    )
    bank_sim.advance(FOUR_BUSINESS_DAYS)
    charge = bank_sim.client().v1.charges.retrieve(
        bank_sim.client().v1.payment_intents.retrieve(pi.id).latest_charge
    )
    client = bank_sim.client()
    assert_shaped(charge, stripe_fixtures)
    assert_shaped(
        client.v1.mandates.retrieve(charge.payment_method_details.us_bank_account.mandate),
        stripe_fixtures,
    )
    pm = client.v1.payment_methods.retrieve(charge.payment_method).to_dict()
    # Stripe sends only the hash of the PaymentMethod's own type: no `card` on a bank account.
    assert set(stripe_fixtures["payment_method"]) - {"card"} <= set(pm)
    assert "card" not in pm
    with urllib.request.urlopen(charge.receipt_url, timeout=5) as response:
        assert "STRIPE TEST BANK •••• 6789" in response.read().decode()
    with urllib.request.urlopen(f"{bank_sim.api_base}/_sim/", timeout=5) as response:
        assert pi.id in response.read().decode()


def test_the_microdeposit_path_emits_its_events_in_order(bank_sim: SimulatorProcess) -> None:
    pi = confirm(
        bank_sim,
        intent(bank_sim, "us_bank_account", "usd"),
        payment_method_data=ach_data("000123456789"),
        mandate_data=ACCEPTANCE,
    )
    bank_sim.client().v1.payment_intents.verify_microdeposits(
        pi.id, params={"descriptor_code": "SM11AA"}
    )
    bank_sim.advance(FOUR_BUSINESS_DAYS)
    assert events(bank_sim) == [
        "payment_intent.created",
        "payment_intent.requires_action",
        "mandate.updated",
        "payment_intent.processing",
        "charge.pending",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_stripe_js_may_confirm_with_an_inferred_acceptance_and_the_server_may_not(
    bank_sim: SimulatorProcess,
) -> None:
    inferred = {"customer_acceptance": {"type": "online", "online": {"infer_from_client": True}}}
    pi = intent(bank_sim, "sepa_debit", "eur")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        confirm(bank_sim, pi, payment_method="pm_sepaDebit_success", mandate_data=inferred)
    assert refused.value.param == "mandate_data[customer_acceptance][online][ip_address]"

    browser = stripe.StripeClient(
        bank_sim.publishable_key, base_addresses={"api": bank_sim.api_base}
    )
    pi = browser.v1.payment_intents.confirm(
        pi.id,
        params={
            "client_secret": pi.client_secret,
            "payment_method": "pm_sepaDebit_success",
            "mandate_data": inferred,
        },
    )
    assert pi.status == "processing"
    charge = bank_sim.client().v1.charges.retrieve(
        bank_sim.client().v1.payment_intents.retrieve(pi.id).latest_charge
    )
    mandate = bank_sim.client().v1.mandates.retrieve(
        charge.payment_method_details.sepa_debit.mandate
    )
    assert mandate.customer_acceptance.online.ip_address == "127.0.0.1"
    assert mandate.customer_acceptance.online.user_agent  # the SDK's own
    assert mandate.payment_method_details.sepa_debit.reference
