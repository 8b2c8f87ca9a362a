"""The cache, allowed to fail: every read and write in the portal goes through here.

Redis going away must never turn a page into a 500. `SafeCache` wraps a
cache alias: an error is logged (once a minute, not once a call) and the call
goes to the fallback alias when there is one, or answers as a cache miss.

- `cache`: the default cache; while it is down, reads miss and writes are dropped
  (dashboard totals are then computed on every load).
- `shared_cache`: what every worker must agree on (the login limits themselves
  use `portal.counters`, atomic in Redis or in the database); while the
  default cache is down it uses the database cache, so limits still hold
  across processes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import caches

logger = logging.getLogger("portal.cache")

LOG_EVERY_SECONDS = 60.0


class SafeCache:
    def __init__(self, alias: str = "default", fallback: str | None = None) -> None:
        self.alias = alias
        self.fallback = fallback
        self._last_logged = 0.0

    def _call(self, name: str, default: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(caches[self.alias], name)(*args, **kwargs)
        except Exception as error:
            self._log(name, error)
        if self.fallback is None:
            return default
        try:
            return getattr(caches[self.fallback], name)(*args, **kwargs)
        except Exception as error:
            logger.warning("cache %s: fallback %r failed too: %s", name, self.fallback, error)
            return default

    def _log(self, name: str, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last_logged >= LOG_EVERY_SECONDS:
            self._last_logged = now
            target = f"using {self.fallback!r}" if self.fallback else "treated as a miss"
            logger.warning("cache %r unavailable (%s: %s), %s", self.alias, name, error, target)

    def get(self, key: str, default: Any = None) -> Any:
        return self._call("get", default, key, default)

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        self._call("set", None, key, value, timeout)

    def add(self, key: str, value: Any, timeout: float | None = None) -> bool:
        return bool(self._call("add", False, key, value, timeout))

    def incr(self, key: str, delta: int = 1) -> int | None:
        return self._call("incr", None, key, delta)

    def delete(self, key: str) -> bool:
        return bool(self._call("delete", False, key))

    def delete_many(self, keys: Iterable[str]) -> None:
        self._call("delete_many", None, list(keys))

    def get_or_set(self, key: str, compute: Callable[[], Any], timeout: float | None) -> Any:
        value = self.get(key)
        if value is None:
            value = compute()
            self.set(key, value, timeout)
        return value

    def clear(self) -> None:
        self._call("clear", None)

    def ping(self) -> bool:
        """True when the primary cache answers (for the status page)."""
        try:
            caches[self.alias].get("portal:ping")
        except Exception:
            return False
        return True


cache = SafeCache("default")
shared_cache = SafeCache("default", fallback="database")
