"""The simulator as a plain ``Request -> Response`` function, free of socket handling.

This is where authentication, idempotency, CORS and the split between ``/v1`` (Stripe's API),
``/v3`` (the Stripe.js stand-in) and ``/_sim`` (test controls) live.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from pathlib import Path
from typing import Any

# api_saved is imported for its routes, which it adds to api's table.
from stripe_sim import api, api_saved, control, objects  # noqa: F401
from stripe_sim.config import SimConfig
from stripe_sim.errors import (
    ApiError,
    idempotency_in_use,
    idempotency_mismatch,
    invalid_api_key,
    missing_api_key,
    not_a_platform,
    unrecognized_url,
)
from stripe_sim.faults import Faults
from stripe_sim.objects import new_id
from stripe_sim.origins import frame_origin
from stripe_sim.params import flatten, parse_form
from stripe_sim.state import RequestInfo, Store, Stored
from stripe_sim.webhooks import Deliverer
from stripe_sim.wire import Request, Response

STATIC = Path(__file__).parent / "static"
# What the Stripe.js stand-in may fetch: the script itself, and the Payment Element's frame
# (served to the browser from the frame origin, see frame_origin()).
JS_FILES = {
    "/v3": ("stripe.js", "application/javascript; charset=utf-8"),
    "/v3/": ("stripe.js", "application/javascript; charset=utf-8"),
    "/v3/elements-inner-payment.html": ("elements-inner.html", "text/html; charset=utf-8"),
    "/v3/elements-inner.js": ("elements-inner.js", "application/javascript; charset=utf-8"),
    "/v3/elements-inner-bank.js": (
        "elements-inner-bank.js",
        "application/javascript; charset=utf-8",
    ),
    "/v3/elements-inner.css": ("elements-inner.css", "text/css; charset=utf-8"),
}
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, Stripe-Version, Idempotency-Key, Stripe-Account"
    ),
    "Access-Control-Expose-Headers": "Request-Id, Stripe-Version, Idempotent-Replayed",
    "Access-Control-Max-Age": "300",
}


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self._config = config
        objects.use_account(config.account)
        objects.set_clock_offset(config.clock_offset)
        self.initial_config = config.copy()
        self.deliverer = Deliverer(lambda: self.config)
        self.store = Store(lambda: self.config, self.deliverer)
        self.started = time.time()
        self._inflight: set[tuple[str, str, str]] = set()
        self._inflight_lock = threading.Lock()
        self.faults = Faults()

    @property
    def config(self) -> SimConfig:
        return self._config

    @config.setter
    def config(self, value: SimConfig) -> None:
        self._config = value
        objects.use_account(value.account)

    def handle(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            response = Response(204)
        elif request.path.startswith("/v1/"):
            response = self._api_with_faults(request)
        elif request.path in JS_FILES:
            response = self._stripe_js(request)
        elif request.path == "/favicon.ico":
            response = Response(204)
        elif request.path == "/" or request.path.startswith("/_sim"):
            response = control.handle(self, request)
        else:
            response = _error(unrecognized_url(request.method, request.path), new_id("req", 14))
        response.headers.update(CORS_HEADERS)
        response.headers.setdefault("Cache-Control", "no-cache, no-store")
        return response

    def _stripe_js(self, request: Request) -> Response:
        """Stripe.js and its frame. ``js_delay`` / ``js_unavailable`` make them slow or fail,
        as a slow or unreachable js.stripe.com would."""
        if self.config.js_delay:
            time.sleep(self.config.js_delay)
        if self.config.js_unavailable:
            return Response(503, b"Stripe.js is unavailable (simulator setting js_unavailable).")
        name, kind = JS_FILES[request.path]
        response = Response(200, (STATIC / name).read_bytes(), {"Content-Type": kind})
        if name.endswith(".html"):
            # The frame's own policy: its script and style, and the API it creates
            # PaymentMethods with (the other loopback name: the frame is reached by its twin).
            api = frame_origin(request.base_url)
            response.headers["Content-Security-Policy"] = (
                "default-src 'none'; script-src 'self'; style-src 'self'; "
                f"connect-src {api}; base-uri 'none'; form-action 'none'"
            )
        return response

    def reset(self, *, restore_config: bool = False) -> None:
        with self.store.lock:
            if restore_config:
                self.config = self.initial_config.copy()
            self.store.clear()
            objects.set_clock_offset(self.config.clock_offset)
            self.deliverer.reset()
            self.faults.clear()

    def stop(self) -> None:
        self.reset()
        self.deliverer.stop()

    # -- /v1 --------------------------------------------------------------------------------

    def _api_with_faults(self, request: Request) -> Response:
        fault = self.faults.take()
        if fault is None:
            return self._api(request)
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status is None:
            return self._api(request)
        if fault.when == "after":
            self._api(request)
        failure = ApiError(
            fault.status, "An error occurred with our API (simulated fault).", type="api_error"
        )
        return _error(failure, new_id("req", 14))

    def _api(self, request: Request) -> Response:
        request_id = new_id("req", 14)
        raw_text = request.query if request.method in ("GET", "DELETE") else _text(request.body)
        raw = parse_form(raw_text)
        try:
            key_kind, api_key = self._authenticate(request, raw)
        except ApiError as exc:
            return _error(exc, request_id)
        found = api.match(request.method, request.path)
        if found is None:
            return _error(unrecognized_url(request.method, request.path), request_id)
        other = request.header("stripe-account")
        if other is not None and other != self.config.account:
            # This run is one plain account, not a Connect platform.
            return _error(not_a_platform(), request_id)
        idem_key = request.header("idempotency-key") if request.method == "POST" else None
        if not idem_key:
            return self._execute(request, request_id, key_kind, found, raw, None)
        scope = (self.config.account, api_key, idem_key)
        with self._inflight_lock:
            if scope in self._inflight:
                return _error(idempotency_in_use(idem_key), request_id)
            self._inflight.add(scope)
        try:
            return self._execute(request, request_id, key_kind, found, raw, scope)
        finally:
            with self._inflight_lock:
                self._inflight.discard(scope)

    def _execute(
        self,
        request: Request,
        request_id: str,
        key_kind: str,
        found: tuple[api.Route, dict[str, str]],
        raw: dict[str, Any],
        scope: tuple[str, str, str] | None,
    ) -> Response:
        """Run one call under the store lock, replaying or recording it when ``scope``
        (account, API key, idempotency key) is given."""
        idem_key = scope[2] if scope else None
        fingerprint = (request.method, request.path, tuple(flatten(raw)))
        version = request.header("stripe-version") or self.config.api_version
        with self.store.lock:
            if scope:
                stored = self.store.idempotency.get(scope)
                if stored is not None:
                    if stored.fingerprint != fingerprint:
                        return _error(idempotency_mismatch(idem_key), request_id)
                    headers = stored.headers | {"Idempotent-Replayed": "true"}
                    return Response(stored.status, stored.body, headers, headers["Request-Id"])
            info = RequestInfo(
                request_id, idem_key, request.base_url, request.header("user-agent") or ""
            )
            self.store.set_request(info)
            try:
                result = api.dispatch(self.store, key_kind, found, raw)
                response = Response.json(200, result)
            except ApiError as exc:
                response = _error(exc, request_id)
            finally:
                self.store.set_request(None)
            response.request_id = request_id
            response.headers.update({"Request-Id": request_id, "Stripe-Version": version})
            if scope and idem_key:
                response.headers["Idempotency-Key"] = idem_key
                # Like Stripe, results are saved once the call got past validation.
                if response.status in (200, 402):
                    self.store.idempotency[scope] = Stored(
                        fingerprint, response.status, dict(response.headers), response.body
                    )
        return response

    def _authenticate(self, request: Request, raw: dict[str, Any]) -> tuple[str, str]:
        key = _key_from_header(request.header("authorization"))
        if key is None and isinstance(raw.get("key"), str):
            # Stripe.js sends its publishable key as a parameter to avoid CORS preflights.
            key = raw.pop("key")
        elif "key" in raw and key is not None:
            raw.pop("key")
        if not key:
            raise missing_api_key()
        if key == self.config.secret_key:
            return api.SECRET, key
        if key == self.config.publishable_key:
            return api.PUBLISHABLE, key
        raise invalid_api_key(key)


def _key_from_header(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, credential = value.strip().partition(" ")
    if scheme.lower() == "bearer":
        return credential.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credential.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return credential
        return decoded.partition(":")[0]
    return value.strip()


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace")


def _error(exc: ApiError, request_id: str) -> Response:
    response = Response.json(exc.status, exc.body(), **exc.headers)
    response.headers["Request-Id"] = request_id
    response.request_id = request_id
    return response
