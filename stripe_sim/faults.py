"""Fault injection for the next API calls (``POST /_sim/faults``): Stripe down or slow.

``{"status": 500, "delay": 0, "count": 2, "when": "before"}`` makes the next two
``/v1`` calls answer 500 without doing anything; ``"when": "after"`` does the call
first and then answers 500 (Stripe did it, the client does not know: only an
idempotency key makes the retry safe); ``delay`` (seconds) answers late, then
normally unless a status is given. ``count`` 0 clears. Controls and Stripe.js are
never affected.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Fault:
    status: int | None = None
    delay: float = 0.0
    count: int = 0
    when: str = "before"


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault = Fault()

    def configure(self, data: dict[str, Any]) -> dict[str, Any]:
        status = data.get("status")
        if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
            raise ValueError("status must be an HTTP error status (400-599) or null")
        delay = data.get("delay", 0)
        if not isinstance(delay, int | float) or not 0 <= delay <= 120:
            raise ValueError("delay must be a number of seconds between 0 and 120")
        count = data.get("count", 1)
        if not isinstance(count, int) or count < 0:
            raise ValueError("count must be a whole number, 0 to clear")
        when = data.get("when", "before")
        if when not in ("before", "after"):
            raise ValueError('when must be "before" or "after"')
        with self._lock:
            self._fault = Fault(status, float(delay), count, when)
            return asdict(self._fault)

    def take(self) -> Fault | None:
        """The fault for this call, if one is armed (and count it down)."""
        with self._lock:
            if self._fault.count <= 0:
                return None
            self._fault.count -= 1
            return Fault(self._fault.status, self._fault.delay, 1, self._fault.when)

    def public(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self._fault)

    def clear(self) -> None:
        with self._lock:
            self._fault = Fault()
