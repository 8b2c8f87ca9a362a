"""Where the simulator's Stripe.js puts its Payment Element frame.

Stripe's Payment Element lives in an iframe on js.stripe.com, another origin than the shop's
page; a page's Content-Security-Policy must allow it in frame-src. The simulator reproduces
that on one server: its frame is served from the same port under the other loopback name
(``127.0.0.1`` <-> ``localhost``). ``static/stripe.js`` computes the same (``twinOrigin``).
Pages that embed the simulator (the portal's CSP) import this rather than repeat the rule.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def frame_origin(url: str) -> str:
    """The Payment Element frame's origin for Stripe.js loaded from ``url`` (any URL on the
    simulator: its API base or its /v3/ script)."""
    parts = urlsplit(url)
    host = "127.0.0.1" if parts.hostname == "localhost" else "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"
