"""Atomic counters shared by every process, for the rate limits.

With Redis (`REDIS_URL`) they live in the cache: `add` then `incr`, both
atomic in Redis. Without it the cache is per process (LocMemCache), so they
live in the database instead: one `RateCounter` row per key, created with
INSERT ... ON CONFLICT DO NOTHING and changed only by one UPDATE with F()
expressions (a read-then-write, or Django's DatabaseCache, would let two
requests count once).
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from redis.exceptions import RedisError

logger = logging.getLogger("portal.counters")


class Counters(Protocol):
    def incr(self, key: str, ttl: int) -> int:
        """Add one and return the new value; a counter starts at 0 and lives `ttl` seconds."""

    def decr(self, key: str) -> None: ...

    def last(self, key: str) -> float | None:
        """The time stamped with `stamp` (epoch seconds), if any."""

    def stamp(self, key: str, when: float, ttl: int) -> None: ...

    def reset(self, key: str) -> None: ...


class CacheCounters:
    def incr(self, key: str, ttl: int) -> int:
        cache.add(key, 0, ttl)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 0, ttl)
            return cache.incr(key)

    def decr(self, key: str) -> None:
        with contextlib.suppress(ValueError):  # already expired: nothing to give back
            cache.decr(key)

    def last(self, key: str) -> float | None:
        return cache.get(f"{key}:last")

    def stamp(self, key: str, when: float, ttl: int) -> None:
        cache.set(f"{key}:last", when, ttl)

    def reset(self, key: str) -> None:
        cache.delete_many([key, f"{key}:last"])


class DatabaseCounters:
    def incr(self, key: str, ttl: int) -> int:
        from portal.models import RateCounter

        now = timezone.now()
        fresh = now + timedelta(seconds=ttl)
        expired = Q(expires_at__lte=now)
        with transaction.atomic():
            RateCounter.objects.bulk_create(
                [RateCounter(key=key, value=0, expires_at=fresh)], ignore_conflicts=True
            )
            # The UPDATE holds the row until commit, so the value read back is ours.
            RateCounter.objects.filter(key=key).update(
                value=Case(When(expired, then=Value(1)), default=F("value") + 1),
                last=Case(When(expired, then=Value(None)), default=F("last")),
                expires_at=Case(When(expired, then=Value(fresh)), default=F("expires_at")),
            )
            return RateCounter.objects.values_list("value", flat=True).get(key=key)

    def decr(self, key: str) -> None:
        from portal.models import RateCounter

        RateCounter.objects.filter(key=key, value__gt=0).update(value=F("value") - 1)

    def last(self, key: str) -> float | None:
        from portal.models import RateCounter

        row = RateCounter.objects.filter(key=key, expires_at__gt=timezone.now()).first()
        return row.last if row else None

    def stamp(self, key: str, when: float, ttl: int) -> None:
        from portal.models import RateCounter

        RateCounter.objects.filter(key=key).update(last=when)

    def reset(self, key: str) -> None:
        from portal.models import RateCounter

        RateCounter.objects.filter(Q(key=key) | Q(expires_at__lte=timezone.now())).delete()


class RedisOrDatabase:
    """Redis, and the database while Redis cannot be reached: the limits stay
    shared and atomic (a per-process fallback would let an attacker in)."""

    def __init__(self) -> None:
        self.redis, self.database = CacheCounters(), DatabaseCounters()

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.redis, method)(*args)
        except RedisError as error:
            logger.warning("rate counters: Redis unavailable, using the database (%s)", error)
            return getattr(self.database, method)(*args)

    def incr(self, key: str, ttl: int) -> int:
        return self._call("incr", key, ttl)

    def decr(self, key: str) -> None:
        self._call("decr", key)

    def last(self, key: str) -> float | None:
        return self._call("last", key)

    def stamp(self, key: str, when: float, ttl: int) -> None:
        self._call("stamp", key, when, ttl)

    def reset(self, key: str) -> None:
        self._call("reset", key)


def counters() -> Counters:
    """The shared cache when there is one, else the database."""
    backend = settings.CACHES["default"]["BACKEND"]
    if getattr(settings, "RATE_COUNTERS", "") == "database" or not backend.endswith("RedisCache"):
        return DatabaseCounters()
    return RedisOrDatabase()


def now() -> float:
    return time.time()
