"""Failed-login rate limits, kept in the shared cache (Redis when there are several workers;
the database cache while Redis is down, see `portal.safecache`).

A fixed window opens at the first failure for a key (an IP or a username) and
counts failures until it expires. Once a key reaches its limit, sign-in is
refused without checking the password until the window closes, so guessing
cannot continue and the refusal costs no password hash.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from portal.safecache import shared_cache as cache

WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Limit:
    scope: str
    value: str
    max_failures: int

    @property
    def key(self) -> str:
        # Hashed so arbitrary usernames make valid (and private) cache keys.
        digest = hashlib.sha256(self.value.encode()).hexdigest()[:32]
        return f"login-fail:{self.scope}:{digest}"


def login_limits(ip: str, username: str) -> list[Limit]:
    """Five failures per username; more per IP because offices share one address."""
    limits = [Limit("ip", ip or "unknown", 20)]
    if username:
        limits.append(Limit("user", username.strip().lower(), 5))
    return limits


def retry_after(limits: list[Limit]) -> int:
    """Seconds until sign-in may be tried again (0: not blocked)."""
    now = time.time()
    waits = [0]
    for limit in limits:
        state = cache.get(limit.key)
        # The window is checked here too, not only by the cache's expiry: a
        # shared cache (Redis) keeps its own clock.
        left = state["start"] + WINDOW_SECONDS - now if state else 0
        if state and state["count"] >= limit.max_failures and left > 0:
            waits.append(math.ceil(left))
    return max(waits)


def record_failure(limits: list[Limit]) -> None:
    now = time.time()
    for limit in limits:
        state = cache.get(limit.key)
        if not state or state["start"] + WINDOW_SECONDS <= now:
            state = {"start": now, "count": 0}
        state["count"] += 1
        remaining = max(1, math.ceil(state["start"] + WINDOW_SECONDS - now))
        cache.set(limit.key, state, remaining)


def reset(limits: list[Limit]) -> None:
    cache.delete_many([limit.key for limit in limits])


def minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))
