"""Errors come back in Stripe's shape and map onto the SDK's exception classes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
import stripe

from stripe_sim.testing import SimulatorProcess


@pytest.fixture
def client(sim: SimulatorProcess) -> stripe.StripeClient:
    return stripe.StripeClient(sim.secret_key, base_addresses={"api": sim.api_base})


def raw(
    sim: SimulatorProcess,
    method: str,
    path: str,
    *,
    key: str | None = None,
    form: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        sim.api_base + path, data=form.encode() if form is not None else None, method=method
    )
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), json.load(exc)


def test_it_rejects_a_wrong_key_with_401(sim: SimulatorProcess) -> None:
    wrong = stripe.StripeClient("sk_test_wrongwrongwrong1234", base_addresses={"api": sim.api_base})
    with pytest.raises(stripe.AuthenticationError) as raised:
        wrong.v1.customers.list()
    assert raised.value.http_status == 401
    assert raised.value.json_body == {
        "error": {
            "message": "Invalid API Key provided: sk_test_***************1234",
            "type": "invalid_request_error",
        }
    }


def test_it_accepts_basic_auth_and_refuses_a_missing_key(sim: SimulatorProcess) -> None:
    import base64

    token = base64.b64encode(f"{sim.secret_key}:".encode()).decode()
    status, _, body = raw(sim, "GET", "/v1/customers", headers={"Authorization": f"Basic {token}"})
    assert (status, body["object"]) == (200, "list")
    status, _, body = raw(sim, "GET", "/v1/customers")
    assert status == 401
    assert body["error"]["message"].startswith("You did not provide an API key.")


def test_it_names_an_unknown_parameter(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params={"email": "x@example.com", "colour": "blue"})  # type: ignore[typeddict-unknown-key]
    assert raised.value.code == "parameter_unknown"
    assert raised.value.param == "colour"
    assert raised.value.user_message == "Received unknown parameter: colour"

    with pytest.raises(stripe.InvalidRequestError) as nested:
        client.v1.payment_intents.create(
            params={
                "amount": 100,
                "currency": "usd",
                "automatic_payment_methods": {"enabled": True, "x": "1"},
            }  # type: ignore[typeddict-unknown-key]
        )
    assert nested.value.param == "automatic_payment_methods[x]"


def test_it_reports_missing_and_invalid_values(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.create(params={"currency": "usd"})  # type: ignore[typeddict-item]
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "amount")

    with pytest.raises(stripe.InvalidRequestError) as small:
        client.v1.payment_intents.create(params={"amount": 10, "currency": "usd"})
    assert small.value.code == "amount_too_small"

    with pytest.raises(stripe.InvalidRequestError) as not_found:
        client.v1.payment_intents.retrieve("pi_doesnotexist")
    assert not_found.value.http_status == 404
    assert not_found.value.code == "resource_missing"
    assert not_found.value.user_message == "No such payment_intent: 'pi_doesnotexist'"


def test_it_raises_card_errors_with_codes_and_the_payment_intent(
    client: stripe.StripeClient,
) -> None:
    pi = client.v1.payment_intents.create(
        params={"amount": 1500, "currency": "usd", "payment_method_types": ["card"]}
    )
    cases = {
        "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
        "pm_card_chargeDeclinedInsufficientFunds": (
            "card_declined",
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
        "pm_card_chargeDeclinedExpiredCard": (
            "expired_card",
            "expired_card",
            "Your card has expired.",
        ),
    }
    for pm, (code, decline_code, message) in cases.items():
        with pytest.raises(stripe.CardError) as raised:
            client.v1.payment_intents.confirm(pi.id, params={"payment_method": pm})
        error = raised.value
        assert error.http_status == 402
        assert (error.code, error.error.decline_code, error.user_message) == (
            code,
            decline_code,
            message,
        )
        assert error.error.type == "card_error"
        assert error.error.payment_intent.id == pi.id
        assert error.error.payment_intent.status == "requires_payment_method"
        assert error.error.payment_intent.last_payment_error.decline_code == decline_code

    after = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert after.latest_charge.status == "failed"
    assert after.latest_charge.failure_code == "expired_card"
    failed = client.v1.events.list(params={"type": "payment_intent.payment_failed"})
    assert len(failed.data) == 3
    assert len(client.v1.events.list(params={"type": "charge.failed"}).data) == 3


def test_it_rejects_bad_card_details_like_stripe(client: stripe.StripeClient) -> None:
    def create(**card: Any) -> None:
        client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, **card},
            }
        )

    for card, code in [
        ({"number": "4242424242424241"}, "incorrect_number"),
        ({"exp_year": 2001}, "invalid_expiry_year"),
        ({"exp_month": 13}, "invalid_expiry_month"),
        ({"cvc": "12"}, "invalid_cvc"),
    ]:
        with pytest.raises(stripe.CardError) as raised:
            create(**card)
        assert raised.value.code == code


def test_it_replays_idempotent_requests_and_refuses_reused_keys(
    client: stripe.StripeClient,
) -> None:
    params = {"amount": 2000, "currency": "usd"}
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": "order-1"})  # type: ignore[arg-type]
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": "order-1"})  # type: ignore[arg-type]
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.body == first.last_response.body

    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(
            params={"amount": 3000, "currency": "usd"}, options={"idempotency_key": "order-1"}
        )
    assert len(client.v1.payment_intents.list().data) == 1


def test_it_scopes_idempotency_keys_per_api_key(sim: SimulatorProcess) -> None:
    form = "type=card&card[number]=4242424242424242&card[exp_month]=1&card[exp_year]=2040"
    headers = {"Idempotency-Key": "same"}
    _, _, by_secret = raw(
        sim, "POST", "/v1/payment_methods", key=sim.secret_key, form=form, headers=headers
    )
    _, _, by_public = raw(
        sim, "POST", "/v1/payment_methods", key=sim.publishable_key, form=form, headers=headers
    )
    assert by_secret["id"] != by_public["id"]


def test_it_limits_the_publishable_key_to_what_stripe_js_may_do(sim: SimulatorProcess) -> None:
    client = sim.client()
    pi = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"})
    status, _, body = raw(sim, "GET", "/v1/customers", key=sim.publishable_key)
    assert status == 403
    assert "publishable API key" in body["error"]["message"]

    status, _, _ = raw(sim, "GET", f"/v1/payment_intents/{pi.id}", key=sim.publishable_key)
    assert status == 403
    status, _, body = raw(
        sim,
        "GET",
        f"/v1/payment_intents/{pi.id}?client_secret={pi.id}_secret_wrong",
        key=sim.publishable_key,
    )
    assert (status, body["error"]["param"]) == (400, "client_secret")

    status, _, body = raw(
        sim,
        "GET",
        f"/v1/payment_intents/{pi.id}?client_secret={pi.client_secret}",
        key=sim.publishable_key,
    )
    assert status == 200
    assert body["status"] == "requires_payment_method"
    assert "metadata" not in body  # Stripe.js never sees metadata


def test_it_answers_cors_preflights(sim: SimulatorProcess) -> None:
    request = urllib.request.Request(
        sim.api_base + "/v1/payment_methods",
        method="OPTIONS",
        headers={
            "Origin": "http://127.0.0.1:9",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        allowed = response.headers["Access-Control-Allow-Headers"]
    for header in ("Authorization", "Content-Type", "Stripe-Version", "Idempotency-Key"):
        assert header in allowed
