"""Test controls under ``/_sim``: reset, configuration, delivery inspection and the actions a
test needs that Stripe's API does not offer (disputes, forced success, 3-D Secure answers).

No API key is needed: the simulator only ever listens on loopback.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from stripe_sim import (
    __version__,
    debits,
    disputes,
    objects,
    pages,
    payments,
    refunds,
    setup_intents,
)
from stripe_sim.errors import ApiError, invalid
from stripe_sim.objects import Obj
from stripe_sim.state import RequestInfo, Store
from stripe_sim.wire import Request, Response

if TYPE_CHECKING:
    from stripe_sim.app import Simulator

Action = Callable[..., Response]
_ROUTES: list[tuple[str, re.Pattern[str], Action]] = []


def _route(method: str, path: str) -> Callable[[Action], Action]:
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "/?$")

    def register(action: Action) -> Action:
        _ROUTES.append((method, pattern, action))
        return action

    return register


def handle(sim: Simulator, request: Request) -> Response:
    path = request.path
    for method, pattern, action in _ROUTES:
        found = pattern.match(path)
        if found and method == request.method:
            try:
                return action(sim, request, **found.groupdict())
            except ApiError as exc:
                return Response.json(exc.status, exc.body())
    message = f"No simulator control at {request.method} {path}. See GET /_sim/ for the list."
    return Response.json(404, {"error": {"message": message, "type": "invalid_request_error"}})


def _body(request: Request) -> dict[str, Any]:
    text = request.body.decode("utf-8", "replace").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise invalid(f"Invalid JSON body: {exc}") from exc
        return data
    return {key: values[-1] for key, values in parse_qs(text).items()}


def _ok(data: Any, status: int = 200) -> Response:
    return Response.json(status, data)


@contextmanager
def _acting(sim: Simulator, request: Request) -> Iterator[Store]:
    """Hold the store lock for a control action. Events it causes carry no API request id,
    like the events Stripe raises by itself."""
    with sim.store.lock:
        sim.store.set_request(RequestInfo(None, None, request.base_url))
        try:
            yield sim.store
        finally:
            sim.store.set_request(None)


@_route("GET", "/_sim/healthz")
def healthz(sim: Simulator, request: Request) -> Response:
    return _ok({"ok": True, "version": __version__, "uptime": round(time.time() - sim.started, 3)})


@_route("GET", "/")
@_route("GET", "/_sim")
def dashboard(sim: Simulator, request: Request) -> Response:
    with sim.store.lock:
        return Response.html(200, pages.dashboard(sim))


@_route("GET", "/_sim/config")
def get_config(sim: Simulator, request: Request) -> Response:
    return _ok(sim.config.public())


@_route("POST", "/_sim/config")
def set_config(sim: Simulator, request: Request) -> Response:
    data = _body(request)
    with sim.store.lock:
        candidate = sim.config.copy()
        try:
            candidate.update(data)
        except ValueError as exc:
            raise invalid(str(exc)) from exc
        sim.config = candidate
    return _ok(sim.config.public())


@_route("GET", "/_sim/faults")
def get_faults(sim: Simulator, request: Request) -> Response:
    return _ok(sim.faults.public())


@_route("POST", "/_sim/faults")
def set_faults(sim: Simulator, request: Request) -> Response:
    """Stripe down or slow for the next `count` API calls (see `stripe_sim.faults`)."""
    try:
        return _ok(sim.faults.configure(_body(request)))
    except ValueError as exc:
        raise invalid(str(exc)) from exc


@_route("POST", "/_sim/reset")
def reset(sim: Simulator, request: Request) -> Response:
    data = _body(request)
    sim.reset(restore_config=bool(data.get("config") or data.get("restore_config")))
    return _ok({"ok": True, "config": sim.config.public()})


@_route("GET", "/_sim/deliveries")
def deliveries(sim: Simulator, request: Request) -> Response:
    query = {key: values[-1] for key, values in parse_qs(request.query).items()}
    items = sim.deliverer.deliveries()
    for field, name in (("event_id", "event_id"), ("type", "event_type"), ("endpoint", "endpoint")):
        if field in query:
            items = [item for item in items if item[name] == query[field]]
    return _ok({"data": items, "held": sim.deliverer.held(), "queued": sim.deliverer.queued()})


@_route("GET", "/_sim/events")
def events(sim: Simulator, request: Request) -> Response:
    query = {key: values[-1] for key, values in parse_qs(request.query).items()}
    with sim.store.lock:
        items = list(sim.store.objects["event"].values())
        if "type" in query:
            items = [e for e in items if e["type"] == query["type"]]
        # Oldest first: tests read this as a timeline.
        return _ok({"data": [sim.store.event_view(e) for e in items]})


@_route("POST", "/_sim/events/{event_id}/redeliver")
def redeliver(sim: Simulator, request: Request, event_id: str) -> Response:
    with sim.store.lock:
        event = sim.store.get("event", event_id)
        body = sim.store.event_body(event)
    count = sim.deliverer.redeliver(event_id, event["type"], body)
    return _ok({"ok": True, "event": event_id, "endpoints": count})


@_route("POST", "/_sim/release")
def release(sim: Simulator, request: Request) -> Response:
    order = _body(request).get("order", "created")
    if order not in ("created", "reverse"):
        raise invalid("order must be created or reverse", param="order")
    return _ok({"ok": True, "released": sim.deliverer.release(order)})


@_route("POST", "/_sim/payment_intents/{pi_id}/succeed")
def succeed(sim: Simulator, request: Request, pi_id: str) -> Response:
    with _acting(sim, request):
        pi = sim.store.get("payment_intent", pi_id)
        return _ok(payments.force_succeed(sim.store, pi))


@_route("POST", "/_sim/payment_intents/{pi_id}/fail")
def fail_debit(sim: Simulator, request: Request, pi_id: str) -> Response:
    """Fail a processing bank debit now, whatever its test account would do."""
    with _acting(sim, request):
        pi = sim.store.get("payment_intent", pi_id)
        if pi["status"] != "processing" or pi["id"] not in sim.store.mandates:
            raise invalid("Only a processing bank debit can be failed.")
        debits.settle(sim.store, pi_id, fail=True)
        return _ok(pi)


@_route("POST", "/_sim/advance")
def advance(sim: Simulator, request: Request) -> Response:
    """Move the simulator clock on by ``seconds``; what falls due happens before the answer."""
    seconds = _body(request).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise invalid("seconds must be a non-negative number", param="seconds")
    with _acting(sim, request):
        ran = sim.store.advance(float(seconds))
        return _ok(
            {"ok": True, "clock": objects.now(), "offset": objects.clock_offset(), "ran": ran}
        )


@_route("GET", "/_sim/microdeposits/{pi_id}")
def microdeposit_page(sim: Simulator, request: Request, pi_id: str) -> Response:
    given = {key: values[-1] for key, values in parse_qs(request.query).items()}
    with sim.store.lock:
        pi = sim.store.get("payment_intent", pi_id)
        if given.get("client_secret") != pi["client_secret"]:
            raise invalid("client_secret does not match this PaymentIntent", param="client_secret")
        return Response.html(200, pages.microdeposits(pi))


@_route("POST", "/_sim/payment_methods/{pm_id}/expire")
def expire_card(sim: Simulator, request: Request, pm_id: str) -> Response:
    """Let a saved card run out: its expiry becomes last month on the simulator's clock, so the
    next charge fails with ``expired_card`` (``POST /_sim/advance`` past the expiry does too)."""
    with _acting(sim, request):
        pm = sim.store.get("payment_method", pm_id)
        if pm["type"] != "card":
            raise invalid("Only a card PaymentMethod can expire.")
        today = objects.today()
        month, year = (12, today.year - 1) if today.month == 1 else (today.month - 1, today.year)
        pm["card"].update(exp_month=month, exp_year=year)
        return _ok(pm)


@_route("POST", "/_sim/microdeposits/{pi_id}")
def microdeposit_answer(sim: Simulator, request: Request, pi_id: str) -> Response:
    data = _body(request)
    with _acting(sim, request):
        pi = sim.store.get("payment_intent", pi_id)
        if data.get("client_secret") != pi["client_secret"]:
            raise invalid("client_secret does not match this PaymentIntent", param="client_secret")
        try:
            code = str(data.get("descriptor_code") or "").strip().upper()
            debits.verify_microdeposits(sim.store, pi, {"descriptor_code": code})
        except ApiError as exc:
            return Response.html(400, pages.microdeposits(pi, exc.message))
        return Response.html(200, pages.microdeposits(pi))


@_route("POST", "/_sim/payment_intents/{pi_id}/dispute")
def dispute(sim: Simulator, request: Request, pi_id: str) -> Response:
    data = _body(request)
    amount = data.get("amount")
    if amount is not None and (not isinstance(amount, int) or amount <= 0):
        raise invalid("amount must be a positive integer", param="amount")
    with _acting(sim, request):
        pi = sim.store.get("payment_intent", pi_id)
        reason = str(data.get("reason") or "fraudulent")
        status = str(data.get("status") or "needs_response")
        return _ok(
            disputes.create_dispute(sim.store, pi, reason=reason, amount=amount, status=status)
        )


@_route("POST", "/_sim/disputes/{dp_id}/close")
def close_dispute(sim: Simulator, request: Request, dp_id: str) -> Response:
    status = str(_body(request).get("status") or "")
    with _acting(sim, request):
        dp = sim.store.get("dispute", dp_id)
        return _ok(disputes.close_dispute(sim.store, dp, status))


@_route("POST", "/_sim/refunds/{re_id}/{outcome}")
def settle_refund(sim: Simulator, request: Request, re_id: str, outcome: str) -> Response:
    if outcome not in ("succeed", "fail"):
        raise invalid("outcome must be succeed or fail")
    with _acting(sim, request):
        refund = sim.store.get("refund", re_id)
        return _ok(refunds.settle(sim.store, refund, success=outcome == "succeed"))


@_route("GET", "/_sim/3ds/{pi_id}")
def three_d_secure_page(sim: Simulator, request: Request, pi_id: str) -> Response:
    with sim.store.lock:
        return Response.html(200, pages.three_d_secure(_intent(sim.store, pi_id)))


@_route("POST", "/_sim/3ds/{pi_id}/{answer}")
def three_d_secure_answer(sim: Simulator, request: Request, pi_id: str, answer: str) -> Response:
    if answer not in ("complete", "fail"):
        raise invalid("answer must be complete or fail")
    with _acting(sim, request):
        pi = _intent(sim.store, pi_id)
        given = _body(request).get("client_secret")
        if given != pi["client_secret"]:
            raise invalid("client_secret does not match this intent", param="client_secret")
        finish = (
            setup_intents.authenticate if pi["object"] == "setup_intent" else payments.authenticate
        )
        target = finish(sim.store, pi, success=answer == "complete")
    if target:
        return Response(303, b"", {"Location": target})
    return Response.html(200, pages.authenticated(pi))


def _intent(store: Store, intent_id: str) -> Obj:
    """The PaymentIntent or SetupIntent a 3-D Secure page is for."""
    kind = "setup_intent" if intent_id.startswith("seti_") else "payment_intent"
    return store.get(kind, intent_id)


@_route("GET", "/_sim/receipts/{charge_id}")
def receipt(sim: Simulator, request: Request, charge_id: str) -> Response:
    with sim.store.lock:
        return Response.html(200, pages.receipt(sim.store.get("charge", charge_id)))
