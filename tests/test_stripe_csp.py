"""The Content-Security-Policy's Stripe sources: Stripe's documented list, or the simulator's
three origins (its script, its API, and the second origin its card frame is served from)."""

from __future__ import annotations

import pytest
from django.conf import settings

from portal.stripe_csp import stripe_sources
from tests.factories import make_open


def directives(header: str) -> dict[str, list[str]]:
    found = {}
    for part in header.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


def test_it_allows_stripes_documented_origins_with_real_stripe() -> None:
    sources = stripe_sources("https://js.stripe.com/v3/", "https://api.stripe.com")
    assert sources == {
        "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
        "frame-src": [
            "https://js.stripe.com",
            "https://*.js.stripe.com",
            "https://hooks.stripe.com",
        ],
        "connect-src": ["https://api.stripe.com"],
        "img-src": ["https://*.stripe.com"],
    }


def test_it_allows_only_the_simulators_own_origins_for_each_need() -> None:
    sources = stripe_sources("http://127.0.0.1:12111/v3/", "http://127.0.0.1:12111")
    assert sources == {
        "script-src": ["http://127.0.0.1:12111"],
        "frame-src": ["http://localhost:12111"],  # the card frame's second origin
        "connect-src": ["http://127.0.0.1:12111"],
        "img-src": [],
    }
    assert stripe_sources("http://localhost:9/v3/", "http://localhost:9")["frame-src"] == [
        "http://127.0.0.1:9"
    ]


@pytest.mark.django_db
def test_the_pay_page_policy_frames_only_the_card_frame_origin(client) -> None:
    invoice = make_open()
    response = client.get(f"/pay/{invoice.pay_token}/")
    policy = directives(response["Content-Security-Policy"])
    expected = stripe_sources(settings.STRIPE_JS_URL, settings.STRIPE_API_BASE)
    assert policy["frame-src"] == ["'self'", *expected["frame-src"]]
    assert policy["connect-src"] == ["'self'", *expected["connect-src"]]
    assert set(expected["script-src"]) < set(policy["script-src"])
    assert policy["frame-ancestors"] == ["'none'"]
    # Stripe.js is loaded by pay.js, in the background: no blocking script tag for it.
    body = response.content.decode()
    assert f'<script src="{settings.STRIPE_JS_URL}"' not in body
    assert f'data-stripe-js="{settings.STRIPE_JS_URL}"' in body
