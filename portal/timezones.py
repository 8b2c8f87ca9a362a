"""The business's time zone: where every time a person reads is shown.

Stored on the business profile (validated against the zoneinfo database) and
applied when a page, PDF or email is rendered (`{% in_business_zone %}` in the
base templates), never while the domain books money: money booked from a webhook
and money booked from a staff page land on the same day either way. The one
domain question asked in it is "what day is it?" (`business_today`): due dates
are days of the business's calendar, so overdue, aging and reminders count from it.

Pages that show no time never read the zone: `BusinessZone` looks it up the first
time a datetime is converted, from this process's memory, the shared cache (the
profile's save updates both) or, when both are cold, the business profile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.safecache import cache as shared_cache

CACHE_KEY = "business:time-zone"
CACHE_SECONDS = 300  # bounded: a write the cache missed (Redis down) heals
MEMO_SECONDS = 30
_memo: dict[str, tuple[str, float]] = {}
# Where the stored zone is read: the business profile registers it (`invoices.business`),
# so this module imports no app.
_loader: list[Callable[[], str]] = []


def register_loader(load: Callable[[], str]) -> None:
    _loader[:] = [load]


@cache
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


# The business profile's choice, Area/City names in order (UTC first).
ZONE_CHOICES = [("UTC", "UTC")] + [
    (name, name.replace("_", " ")) for name in sorted(zone_names()) if "/" in name
]


def default_zone() -> str:
    return settings.TIME_ZONE


def validate_zone(value: str) -> None:
    """Only names the zoneinfo database knows (`ZoneInfo` would also read paths)."""
    if value not in zone_names():
        raise ValidationError("Enter a time zone name such as Europe/Berlin or America/New_York.")


def zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name if name in zone_names() else default_zone())


def remember(name: str) -> None:
    """The profile was saved with `name`: this process uses it at once, the others within
    `MEMO_SECONDS` (they read the shared cache) or the cache's timeout."""
    _memo["name"] = (name, time.monotonic())
    shared_cache.set(CACHE_KEY, name, CACHE_SECONDS)


def assume_default() -> None:
    """A fresh database has no profile yet: its zone is the settings' (test isolation)."""
    _memo["name"] = (default_zone(), time.monotonic())


def current_name() -> str:
    """From this process's memory (checked against the shared cache every `MEMO_SECONDS`),
    the database only when both are cold: one query per process, not per page."""
    found = _memo.get("name")
    now = time.monotonic()
    if found is not None and now - found[1] < MEMO_SECONDS:
        return found[0]
    name = shared_cache.get(CACHE_KEY)
    if name is None:
        name = _loader[0]() if _loader else default_zone()
        shared_cache.set(CACHE_KEY, name, CACHE_SECONDS)
    _memo["name"] = (str(name), now)
    return str(name)


class BusinessZone(tzinfo):
    """The business's zone, read on first use (a page without times never reads it)."""

    def __init__(self, name: str | None = None) -> None:
        self._name = name
        self._zone: ZoneInfo | None = None

    def zone(self) -> ZoneInfo:
        if self._zone is None:
            self._zone = zone_named(self._name or current_name())
        return self._zone

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return self.zone().utcoffset(dt)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return self.zone().dst(dt)

    def tzname(self, dt: datetime | None) -> str | None:
        return self.zone().tzname(dt)

    def fromutc(self, dt: datetime) -> datetime:
        zone = self.zone()
        return zone.fromutc(dt.replace(tzinfo=zone)).replace(tzinfo=self)

    def __str__(self) -> str:
        # What SQL date functions are given (`TruncDate` in a template): the zone's name.
        return self.zone().key

    def __repr__(self) -> str:
        return f"BusinessZone({self._name or '?'})"

    def __reduce__(self) -> Any:
        return (zone_named, (self.zone().key,))


def business_zone(business: Any = None) -> tzinfo:
    """The zone to render in: the profile's own when the caller holds it (no query)."""
    return BusinessZone(getattr(business, "time_zone", None))


def labelled(value: datetime, zone: tzinfo | None = None) -> str:
    """`2026-03-01 14:05 CET`: a time with the zone it is read in (for text and CSV)."""
    local = value.astimezone(zone or BusinessZone())
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def iso(value: datetime | None, zone: tzinfo | None = None) -> str:
    """ISO 8601 with the offset (`2026-03-01T14:05:00+01:00`), for CSV exports."""
    if value is None:
        return ""
    return value.astimezone(zone or BusinessZone()).isoformat(timespec="seconds")


def business_today(business: Any = None) -> date:
    """Today in the business's calendar: what "due today" and "overdue" are judged by.

    A due date is a day of the business's calendar, so an invoice due today there is
    not overdue yet, even where `settings.TIME_ZONE` has already reached tomorrow."""
    return timezone.now().astimezone(business_zone(business)).date()
