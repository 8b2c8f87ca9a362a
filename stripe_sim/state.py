"""In-memory object store, event log, pagination and expansion.

One re-entrant lock guards everything; API handlers hold it for their whole run so a request
sees and leaves a consistent state, and concurrent requests with the same idempotency key
queue up behind the first instead of racing it.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stripe_sim import objects
from stripe_sim.config import SimConfig
from stripe_sim.errors import ApiError, invalid, no_such
from stripe_sim.objects import Obj
from stripe_sim.webhooks import Deliverer

KINDS_BY_PREFIX = {
    "cus": "customer",
    "pi": "payment_intent",
    "seti": "setup_intent",
    "pm": "payment_method",
    "ch": "charge",
    "py": "charge",
    "re": "refund",
    "dp": "dispute",
    "txn": "balance_transaction",
    "evt": "event",
    "mandate": "mandate",
}
DISPLAY_NAMES = {
    "payment_intent": "payment_intent",
    "setup_intent": "setupintent",
    "payment_method": "PaymentMethod",
    "balance_transaction": "balance transaction",
    "mandate": "mandate",
}


@dataclass
class RequestInfo:
    request_id: str | None = None
    idempotency_key: str | None = None
    base_url: str = ""
    user_agent: str = ""
    client_ip: str = "127.0.0.1"


@dataclass
class Stored:
    """A recorded response for an idempotency key."""

    fingerprint: tuple[Any, ...]
    status: int
    headers: dict[str, str]
    body: bytes


class Store:
    def __init__(self, config: Callable[[], SimConfig], deliverer: Deliverer) -> None:
        self.lock = threading.RLock()
        self._config = config
        self.deliverer = deliverer
        self._local = threading.local()
        self.generation = 0
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.generation += 1
            self.objects: dict[str, dict[str, Obj]] = {
                kind: {} for kind in set(KINDS_BY_PREFIX.values())
            }
            # Which account each object belongs to: another account's objects are not found,
            # as with Stripe after a key or account switch.
            self.owners: dict[str, str] = {}
            # The test key each PaymentMethod's outcome is looked up by (card number, account
            # number or IBAN), and the bank PaymentMethods that need no microdeposits.
            self.pm_keys: dict[str, str] = {}
            self.verified: set[str] = set()
            # Microdeposit verification state per PaymentIntent: attempts left.
            self.microdeposits: dict[str, int] = {}
            # The Mandate each bank PaymentIntent was confirmed with.
            self.mandates: dict[str, str] = {}
            # Saved payment methods: PaymentMethods that may not be used again (used once
            # without a Customer, or detached), those saved for off-session use, and the
            # multi-use Mandate a saved bank account is debited under.
            self.consumed: set[str] = set()
            self.off_session_ready: set[str] = set()
            self.pm_mandates: dict[str, str] = {}
            self.idempotency: dict[tuple[str, str, str], Stored] = {}
            self.return_urls: dict[str, str] = {}
            for timer in getattr(self, "timers", []):
                timer.cancel()
            self.timers: list[threading.Timer] = []
            self.scheduled: list[tuple[float, int, Callable[[], None]]] = []
            self._sequence = itertools.count()

    # -- request context --------------------------------------------------------------------

    @property
    def request(self) -> RequestInfo:
        info = getattr(self._local, "info", None)
        return info if info is not None else RequestInfo()

    def set_request(self, info: RequestInfo | None) -> None:
        self._local.info = info

    @property
    def config(self) -> SimConfig:
        return self._config()

    # -- objects ----------------------------------------------------------------------------

    def add(self, obj: Obj) -> Obj:
        self.objects[kind_of(obj["id"])][obj["id"]] = obj
        self.owners[obj["id"]] = self.config.account
        return obj

    def _visible(self, obj_id: str) -> bool:
        return self.owners.get(obj_id) == self.config.account

    def find(self, obj_id: str) -> Obj | None:
        kind = kind_of(obj_id)
        if not kind or not self._visible(obj_id):
            return None
        return self.objects[kind].get(obj_id)

    def get(self, kind: str, obj_id: str, *, param: str = "id") -> Obj:
        obj = self.objects[kind].get(obj_id)
        if obj is None or not self._visible(obj_id):
            raise no_such(DISPLAY_NAMES.get(kind, kind), obj_id, param=param)
        return obj

    def all(self, kind: str) -> list[Obj]:
        """This account's objects, newest first, as Stripe lists them."""
        return [o for o in reversed(self.objects[kind].values()) if self._visible(o["id"])]

    # -- events -----------------------------------------------------------------------------

    def emit(self, event_type: str, obj: Obj, previous: Obj | None = None) -> Obj:
        request = self.request
        config = self.config
        event = objects.event(
            event_type,
            copy.deepcopy(obj),
            api_version=config.api_version,
            previous=previous,
            request={"id": request.request_id, "idempotency_key": request.idempotency_key},
            pending=len(config.endpoints) if config.delivery_enabled else 0,
        )
        self.add(event)
        # Rendered once, so every attempt at every endpoint carries identical bytes.
        self.deliverer.publish(event["id"], event_type, self.event_body(event))
        return event

    def event_view(self, event: Obj) -> Obj:
        view = dict(event)
        view["pending_webhooks"] = self.deliverer.pending_for(event["id"])
        return view

    def event_body(self, event: Obj) -> str:
        return json.dumps(event, indent=2)

    # -- timers -----------------------------------------------------------------------------

    def later(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` under the lock once the simulator clock has moved ``delay`` seconds on,
        by waiting or by ``advance``; a reset forgets it."""
        self.scheduled.append((objects.clock() + delay, next(self._sequence), action))
        timer = threading.Timer(delay, self.run_due)
        timer.daemon = True
        self.timers.append(timer)
        timer.start()

    def run_due(self) -> int:
        """Run every scheduled action that is due, oldest first (also those they schedule)."""
        ran = 0
        with self.lock:
            while True:
                due = [entry for entry in self.scheduled if entry[0] <= objects.clock()]
                if not due:
                    return ran
                entry = min(due)
                self.scheduled.remove(entry)
                self.set_request(None)
                entry[2]()
                ran += 1

    def advance(self, seconds: float) -> int:
        with self.lock:
            objects.set_clock_offset(objects.clock_offset() + seconds)
            return self.run_due()

    # -- listing and expansion --------------------------------------------------------------

    def page(self, items: list[Obj], params: Obj, url: str) -> Obj:
        limit = params.get("limit")
        limit = 10 if limit is None else limit
        if not 1 <= limit <= 100:
            raise invalid("Invalid limit: must be an integer between 1 and 100", param="limit")
        ids = [item["id"] for item in items]
        if after := params.get("starting_after"):
            if after not in ids:
                raise no_such_cursor(after, "starting_after")
            rest = items[ids.index(after) + 1 :]
            return objects.list_object(rest[:limit], url, has_more=len(rest) > limit)
        if before := params.get("ending_before"):
            if before not in ids:
                raise no_such_cursor(before, "ending_before")
            rest = items[: ids.index(before)]
            return objects.list_object(rest[-limit:], url, has_more=len(rest) > limit)
        return objects.list_object(items[:limit], url, has_more=len(items) > limit)

    def charge_refunds(self, charge_id: str) -> Obj:
        items = [r for r in self.all("refund") if r["charge"] == charge_id]
        url = f"/v1/charges/{charge_id}/refunds"
        return objects.list_object(copy.deepcopy(items[:10]), url, has_more=len(items) > 10)

    def expand(self, obj: Obj, paths: list[str] | None) -> Obj:
        if not paths:
            return obj
        out = copy.deepcopy(obj)
        for path in paths:
            self._expand(out, path.split("."), path)
        return out

    def _expand(self, node: Any, parts: list[str], path: str) -> None:
        key, rest = parts[0], parts[1:]
        if isinstance(node, dict) and node.get("object") == "list" and key == "data":
            for item in node["data"]:
                if rest:
                    self._expand(item, rest, path)
            return
        if isinstance(node, dict) and node.get("object") == "charge" and key == "refunds":
            # Includable, not stored: the charge's refunds, newest first, as Stripe lists them.
            node["refunds"] = self.charge_refunds(node["id"])
            if rest:
                self._expand(node["refunds"], rest, path)
            return
        if not isinstance(node, dict) or key not in node:
            raise cannot_expand(path)
        value = node[key]
        if isinstance(value, str):
            target = self.find(value)
            if target is None:
                raise cannot_expand(path)
            node[key] = value = copy.deepcopy(
                self.event_view(target) if target["object"] == "event" else target
            )
        elif value is not None and not (rest and isinstance(value, dict)):
            raise cannot_expand(path)
        if rest and value is not None:
            self._expand(value, rest, path)


def kind_of(obj_id: str) -> str | None:
    return KINDS_BY_PREFIX.get(obj_id.split("_", 1)[0]) if "_" in obj_id else None


def no_such_cursor(obj_id: str, param: str) -> ApiError:
    kind = kind_of(obj_id) or "object"
    return no_such(DISPLAY_NAMES.get(kind, kind), obj_id, param=param)


def cannot_expand(path: str) -> ApiError:
    return invalid(f"This property cannot be expanded ({path}).", param="expand")
