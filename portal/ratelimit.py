"""Sign-in back-off and password-reset limits, on the shared atomic counters.

Sign-in: failures are counted per username + IP and per IP alone. The first
few are free; after that each try from the same place must wait twice as long
as the one before (1 s, 2 s, 4 s, ... up to 15 minutes). Nobody is locked
out: the right password from another address is not slowed by an attacker's
failures, and waiting always works.

Every try takes its number from the counter *before* the password is checked
(an atomic increment), so a burst of parallel tries is numbered 1..n and
slowed like a sequence; a try that is turned away gives its number back.

Why not django-axes or django-ratelimit: axes locks the account or address out
after N failures (a cool-off, not a back-off) and its cache handler reads then
writes; django-ratelimit counts fixed windows and needs a shared cache (its
docs warn that LocMemCache and the database cache are not atomic). The portal
runs without Redis by default, where the counters must live in the database.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from portal.counters import counters, now

COUNT_SECONDS = 24 * 60 * 60  # failures are forgotten a day after the first
MAX_DELAY = 15 * 60


@dataclass(frozen=True)
class Limit:
    scope: str
    value: str
    free_tries: int

    @property
    def key(self) -> str:
        # Hashed so arbitrary usernames make valid (and private) keys.
        digest = hashlib.sha256(self.value.encode()).hexdigest()[:32]
        return f"login-fail:{self.scope}:{digest}"

    def delay(self, failures: int) -> float:
        """Seconds the next try waits after `failures` failed ones."""
        if failures < self.free_tries:
            return 0
        return min(2.0 ** (failures - self.free_tries), MAX_DELAY)


def login_limits(ip: str, username: str) -> list[Limit]:
    """Five free tries per username from one address; more per address (offices share one)."""
    ip = ip or "unknown"
    limits = [Limit("ip", ip, 20)]
    if username:
        limits.append(Limit("user-ip", f"{username.strip().lower()}\n{ip}", 5))
    return limits


def begin_attempt(limits: list[Limit]) -> int:
    """Take a number for this try; 0 to go ahead, else the seconds to wait first."""
    store = counters()
    taken: list[Limit] = []
    wait = 0.0
    for limit in limits:
        number = store.incr(limit.key, COUNT_SECONDS)
        taken.append(limit)
        earlier = number - 1  # tries before this one (failed or in flight)
        if earlier >= limit.free_tries:
            last = store.last(limit.key)
            until = (last if last is not None else now()) + limit.delay(earlier)
            wait = max(wait, until - now())
    if wait > 0:
        for limit in taken:
            store.decr(limit.key)  # a refused try does not lengthen the wait
        return max(1, math.ceil(wait))
    return 0


def record_failure(limits: list[Limit]) -> None:
    store = counters()
    for limit in limits:
        store.stamp(limit.key, now(), COUNT_SECONDS)


def record_success(limits: list[Limit]) -> None:
    """Forget the username's count from this address, not the address's own:
    one good password must not reset an address that is guessing at other accounts."""
    store = counters()
    for limit in limits:
        if limit.scope == "ip":
            store.decr(limit.key)  # this try was not a failure
        else:
            store.reset(limit.key)


def give_back(limits: list[Limit]) -> None:
    """A try that checked no password neither counts nor clears anything."""
    store = counters()
    for limit in limits:
        store.decr(limit.key)


def wait_message(seconds: int) -> str:
    if seconds < 60:
        return f"Too many failed attempts, try again in {seconds} second{'s' * (seconds != 1)}."
    minutes = math.ceil(seconds / 60)
    return f"Too many failed attempts, try again in {minutes} minute{'s' * (minutes != 1)}."


# -- password reset -----------------------------------------------------------

RESET_WINDOW = 60 * 60
RESETS_PER_EMAIL = 3
RESETS_PER_IP = 10


def allow_password_reset(email: str, ip: str) -> bool:
    """Counts this request; False once the email or the address has had its share this hour."""
    store = counters()
    email_key = "reset:email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    ip_key = "reset:ip:" + hashlib.sha256((ip or "unknown").encode()).hexdigest()[:32]
    by_ip = store.incr(ip_key, RESET_WINDOW)
    by_email = store.incr(email_key, RESET_WINDOW)
    return by_ip <= RESETS_PER_IP and by_email <= RESETS_PER_EMAIL
