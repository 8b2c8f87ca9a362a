"""The Content-Security-Policy sources Stripe.js needs, from the configured Stripe URLs.

With Stripe (any non-loopback STRIPE_JS_URL): Stripe's documented list for Stripe.js and its
Elements (docs.stripe.com/security/guide, "Content Security Policy"): scripts and frames from
js.stripe.com and its subdomains, 3-D Secure frames from hooks.stripe.com, API calls to
api.stripe.com, images from *.stripe.com. (Stripe also lists maps.googleapis.com, which only
the Address Element's autocomplete needs; the portal does not use it.)

With the local simulator: exactly its three origins, so a missing one fails the browser
tests as it would fail with Stripe: the script's origin (script-src), the API (connect-src)
and the Payment Element's frame, which the simulator serves from a second origin
(stripe_sim/origins.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from portal.config import is_loopback_url
from stripe_sim.origins import frame_origin

STRIPE_JS_SOURCES = ["https://js.stripe.com", "https://*.js.stripe.com"]
STRIPE_FRAME_SOURCES = [*STRIPE_JS_SOURCES, "https://hooks.stripe.com"]
STRIPE_IMAGE_SOURCES = ["https://*.stripe.com"]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stripe_sources(js_url: str, api_base: str) -> dict[str, list[str]]:
    """The sources to add to script-src, frame-src, connect-src and img-src."""
    api = origin(api_base)
    if is_loopback_url(js_url):
        return {
            "script-src": [origin(js_url)],
            "frame-src": [frame_origin(js_url)],
            "connect-src": [api],
            "img-src": [],
        }
    script = list(dict.fromkeys([*STRIPE_JS_SOURCES, origin(js_url)]))
    return {
        "script-src": script,
        "frame-src": list(dict.fromkeys([*STRIPE_FRAME_SOURCES, origin(js_url)])),
        "connect-src": [api],
        "img-src": STRIPE_IMAGE_SOURCES,
    }
