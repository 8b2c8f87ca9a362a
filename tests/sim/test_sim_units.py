"""In-process checks of the pieces: parameter decoding, cards, signing, idempotency races."""

from __future__ import annotations

import datetime
import json
import threading
import time
from collections.abc import Iterator

import pytest
import stripe

from stripe_sim import cards
from stripe_sim.app import Simulator
from stripe_sim.config import API_VERSION, SimConfig
from stripe_sim.errors import ApiError
from stripe_sim.params import parse_form, validate
from stripe_sim.webhooks import sign
from stripe_sim.wire import Request, Response


@pytest.fixture
def app() -> Iterator[Simulator]:
    simulator = Simulator(SimConfig(port=0, quiet=True))
    yield simulator
    simulator.stop()


def call(app: Simulator, method: str, target: str, body: str = "", **headers: str) -> Response:
    names = {"authorization": f"Bearer {app.config.secret_key}", "host": "127.0.0.1:1"}
    names.update({k.replace("_", "-").lower(): v for k, v in headers.items()})
    return app.handle(Request(method, target, names, body.encode()))


def test_it_pins_the_sdk_api_version() -> None:
    assert API_VERSION == stripe._api_version._ApiVersion.CURRENT


def test_it_decodes_nested_form_keys_as_the_sdk_and_stripe_js_send_them() -> None:
    parsed = parse_form(
        "amount=100&metadata[order]=7&metadata[0]=zero&expand[0]=a&expand[1]=b"
        "&card[number]=4242&list[]=x&list[]=y&description="
    )
    assert parsed["metadata"] == {"order": "7", "0": "zero"}
    assert parsed["card"] == {"number": "4242"}
    schema = {
        "amount": "int",
        "metadata": "metadata",
        "expand": ("list", "str"),
        "list": ("list", "str"),
        "card": {"number": "str"},
        "description": "str",
    }
    values = validate(parsed, schema)
    assert values["amount"] == 100
    assert values["expand"] == ["a", "b"]
    assert values["list"] == ["x", "y"]
    assert values["metadata"] == {"order": "7", "0": "zero"}
    assert values["description"] is None  # "" unsets, as in Stripe

    with pytest.raises(ApiError) as raised:
        validate(parse_form("amount=ten"), schema)
    assert (raised.value.param, raised.value.message) == ("amount", "Invalid integer: ten")
    with pytest.raises(ApiError) as unknown:
        validate(parse_form("card[numbr]=1"), schema)
    assert unknown.value.param == "card[numbr]"


def test_it_knows_the_test_cards_and_their_outcomes() -> None:
    assert cards.card_for(cards.VISA).outcome == cards.SUCCEED
    assert cards.card_for(cards.DECLINED).decline == "generic_decline"
    assert cards.card_for(cards.AUTHENTICATION_REQUIRED).outcome == cards.AUTHENTICATE
    assert cards.card_for(cards.DISPUTED).outcome == cards.DISPUTE
    assert cards.card_for(cards.PROCESSING_CARD).outcome == cards.PROCESSING
    assert cards.PROCESSING_CARD_DISPLAY.replace(" ", "") == cards.PROCESSING_CARD
    assert cards.luhn_ok(cards.PROCESSING_CARD)
    # Any other valid number is a "live" card in test mode, which Stripe declines.
    assert cards.card_for("4111111111111111").decline == "test_mode_live_card"
    assert cards.normalize_number("4242 4242 4242 4242") == cards.VISA
    assert cards.brand_of("378282246310005") == "amex"
    for number in cards.TEST_PAYMENT_METHODS.values():
        assert number in cards.CARDS


def test_it_validates_expiry_against_today() -> None:
    today = datetime.date(2030, 6, 15)
    assert cards.check_expiry(6, 30, today=today) == 2030
    with pytest.raises(ApiError) as month:
        cards.check_expiry(5, 2030, today=today)
    assert month.value.code == "invalid_expiry_month"
    with pytest.raises(ApiError) as year:
        cards.check_expiry(12, 2029, today=today)
    assert (year.value.code, year.value.status, year.value.type) == (
        "invalid_expiry_year",
        402,
        "card_error",
    )


def test_it_signs_like_stripe_so_the_sdk_accepts_it() -> None:
    body = json.dumps({"id": "evt_1", "object": "event", "type": "ping", "data": {"object": {}}})
    header = sign(body, "whsec_x")
    assert header.startswith("t=")
    event = stripe.Webhook.construct_event(body, header, "whsec_x")
    assert event.id == "evt_1"
    stale = sign(body, "whsec_x", timestamp=int(time.time()) - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, stale, "whsec_x")


def test_it_answers_409_while_the_same_idempotency_key_is_in_flight(app: Simulator) -> None:
    results: list[Response] = []
    with app.store.lock:
        first = threading.Thread(
            target=lambda: results.append(
                call(app, "POST", "/v1/customers", "email=a@x.io", idempotency_key="k1")
            )
        )
        first.start()
        # The first request has claimed the key and now waits for the store lock we hold.
        deadline = time.monotonic() + 5
        while not app._inflight and time.monotonic() < deadline:
            time.sleep(0.01)
        second = call(app, "POST", "/v1/customers", "email=a@x.io", idempotency_key="k1")
    first.join(5)
    assert second.status == 409
    assert json.loads(second.body)["error"]["code"] == "idempotency_key_in_use"
    assert results[0].status == 200
    replay = call(app, "POST", "/v1/customers", "email=a@x.io", idempotency_key="k1")
    assert replay.body == results[0].body
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_it_serves_stripe_js_and_a_readable_overview(app: Simulator) -> None:
    for path in ("/v3/", "/v3"):
        script = call(app, "GET", path)
        assert script.status == 200
        assert script.headers["Content-Type"].startswith("application/javascript")
        assert b"window.Stripe = Stripe" in script.body
        assert b"eval(" not in script.body
        assert b"innerHTML" not in script.body
    call(app, "POST", "/v1/customers", "email=overview@example.com")
    page = call(app, "GET", "/_sim/")
    assert page.status == 200
    assert b"Stripe simulator" in page.body
    assert b"customer.created" in page.body
    assert json.loads(call(app, "GET", "/_sim/healthz").body)["ok"] is True


def test_it_serves_the_card_frame_with_its_own_strict_policy(app: Simulator) -> None:
    page = call(app, "GET", "/v3/elements-inner-payment.html", host="localhost:4242")
    assert page.status == 200
    policy = page.headers["Content-Security-Policy"]
    # The frame is reached as localhost; the API it posts card data to is the other name.
    assert "connect-src http://127.0.0.1:4242;" in policy
    assert "script-src 'self';" in policy
    assert b'src="elements-inner.js"' in page.body
    inner = call(app, "GET", "/v3/elements-inner.js", host="localhost:4242")
    assert b"event.origin !== PARENT_ORIGIN" in inner.body
    assert b"innerHTML" not in inner.body
    assert b"eval(" not in inner.body

    call(app, "POST", "/_sim/config", json.dumps({"js_unavailable": True}))
    assert call(app, "GET", "/v3/").status == 503
    assert call(app, "GET", "/v3/elements-inner-payment.html").status == 503


def test_it_validates_config_changes(app: Simulator) -> None:
    bad = call(app, "POST", "/_sim/config", json.dumps({"max_attempts": 0}))
    assert bad.status == 400
    for field, value in (("account", "cus_123"), ("js_delay", -1), ("js_unavailable", "yes")):
        refused = call(app, "POST", "/_sim/config", json.dumps({field: value}))
        assert refused.status == 400, field
        assert field in json.loads(refused.body)["error"]["message"]
    good = call(
        app,
        "POST",
        "/_sim/config",
        json.dumps({"webhook_endpoints": [{"url": "http://127.0.0.1:9/h", "secret": "whsec_1"}]}),
    )
    assert json.loads(good.body)["webhook_endpoints"] == [
        {"url": "http://127.0.0.1:9/h", "secret": "whsec_1"}
    ]
    reset = call(app, "POST", "/_sim/reset", json.dumps({"config": True}))
    assert json.loads(reset.body)["config"]["webhook_endpoints"] == []


def test_it_reports_unknown_urls_like_stripe(app: Simulator) -> None:
    response = call(app, "GET", "/v1/nothing_here")
    assert response.status == 404
    assert json.loads(response.body)["error"]["message"].startswith(
        "Unrecognized request URL (GET: /v1/nothing_here)."
    )
