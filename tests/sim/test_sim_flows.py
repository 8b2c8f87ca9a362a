"""Card outcomes beyond plain success: 3-D Secure, processing, disputes and forced success."""

from __future__ import annotations

import time
import urllib.parse
import urllib.request

import pytest
import stripe

from stripe_sim import cards
from stripe_sim.testing import SimulatorProcess

RETURN_URL = "https://portal.example/invoices/7/paid?from=checkout"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def confirmed(sim: SimulatorProcess, payment_method: str) -> stripe.PaymentIntent:
    client = sim.client()
    pi = client.v1.payment_intents.create(params={"amount": 3000, "currency": "usd"})
    return client.v1.payment_intents.confirm(
        pi.id, params={"payment_method": payment_method, "return_url": RETURN_URL}
    )


def answer_challenge(sim: SimulatorProcess, pi: stripe.PaymentIntent, answer: str) -> str:
    """Post the 3DS page's form and return where it redirects the browser."""
    page_url = pi.next_action.redirect_to_url.url
    with urllib.request.urlopen(page_url, timeout=5) as response:
        page = response.read().decode()
    assert "Complete authentication" in page
    assert "Fail authentication" in page
    form = urllib.parse.urlencode({"client_secret": pi.client_secret}).encode()
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(f"{sim.api_base}/_sim/3ds/{pi.id}/{answer}", data=form)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(request, timeout=5)
    assert redirect.value.code == 303
    return redirect.value.headers["Location"]


def test_it_requires_authentication_and_completes_it(sim: SimulatorProcess) -> None:
    pi = confirmed(sim, "pm_card_authenticationRequired")
    assert pi.status == "requires_action"
    assert pi.next_action.type == "redirect_to_url"
    assert pi.next_action.redirect_to_url.return_url == RETURN_URL
    assert pi.next_action.redirect_to_url.url.startswith(f"{sim.api_base}/_sim/3ds/{pi.id}?")

    location = answer_challenge(sim, pi, "complete")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert location.startswith("https://portal.example/invoices/7/paid?")
    assert query["from"] == ["checkout"]
    assert query["payment_intent"] == [pi.id]
    assert query["payment_intent_client_secret"] == [pi.client_secret]
    assert query["redirect_status"] == ["succeeded"]

    after = sim.client().v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert after.status == "succeeded"
    assert after.latest_charge.payment_method_details.card.three_d_secure.result == "authenticated"
    types = [e["type"] for e in sim.events()]
    assert types == [
        "payment_intent.created",
        "payment_intent.requires_action",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_it_fails_authentication_back_to_requires_payment_method(sim: SimulatorProcess) -> None:
    pi = confirmed(sim, "pm_card_authenticationRequired")
    location = answer_challenge(sim, pi, "fail")
    assert "redirect_status=failed" in location
    after = sim.client().v1.payment_intents.retrieve(pi.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "payment_intent_authentication_failure"
    assert sim.events()[-1]["type"] == "payment_intent.payment_failed"


def test_it_keeps_the_processing_card_processing_for_the_delay(sim: SimulatorProcess) -> None:
    sim.configure(processing_delay=0.3)
    client = sim.client()
    pm = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": cards.PROCESSING_CARD_DISPLAY, "exp_month": 1, "exp_year": 2040},
        }
    )
    pi = confirmed(sim, pm.id)
    assert pi.status == "processing"
    assert sim.events()[-1]["type"] == "payment_intent.processing"
    sim.wait_for(
        lambda: client.v1.payment_intents.retrieve(pi.id).status == "succeeded",
        timeout=5,
        what="processing to finish",
    )
    assert [e["type"] for e in sim.events()][-2:] == [
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_it_opens_a_dispute_for_the_dispute_card_and_closes_it(sim: SimulatorProcess) -> None:
    pi = confirmed(sim, "pm_card_createDispute")
    assert pi.status == "succeeded"
    created = sim.events("charge.dispute.created")
    assert len(created) == 1
    dispute = created[0]["data"]["object"]
    assert dispute["id"].startswith("dp_")
    assert dispute["payment_intent"] == pi.id
    assert sim.client().v1.charges.retrieve(pi.latest_charge).disputed is True

    closed = sim.close_dispute(dispute["id"], "lost")
    assert closed["status"] == "lost"
    event = sim.events("charge.dispute.closed")[0]
    assert event["data"]["previous_attributes"] == {"status": "needs_response"}


def test_it_disputes_and_forces_success_through_controls(sim: SimulatorProcess) -> None:
    pi = sim.client().v1.payment_intents.create(params={"amount": 1234, "currency": "usd"})
    succeeded = sim.succeed(pi.id)
    assert succeeded["status"] == "succeeded"
    dispute = sim.dispute(pi.id, reason="product_not_received", amount=1000)
    assert (dispute["reason"], dispute["amount"]) == ("product_not_received", 1000)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sim.client().v1.refunds.create(params={"payment_intent": pi.id})
    assert raised.value.code == "charge_disputed"


def test_it_requires_a_return_url_with_automatic_payment_methods(sim: SimulatorProcess) -> None:
    client = sim.client()
    pi = client.v1.payment_intents.create(params={"amount": 3000, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert "return_url" in str(raised.value.user_message)


def test_it_answers_keep_alive_sdk_calls_without_a_delayed_ack_stall(sim: SimulatorProcess) -> None:
    # Headers and body in separate sends without TCP_NODELAY cost ~40 ms a call (Nagle and
    # delayed ACK); 50 calls on one kept-alive connection must take well under a second.
    client = sim.client()
    client.v1.customers.create({"name": "Warm-up"})
    started = time.perf_counter()
    for _ in range(50):
        client.v1.customers.create({"name": "Keep-alive"})
    assert time.perf_counter() - started < 1.0
