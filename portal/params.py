"""Whole numbers read from a URL or a form, the one way.

`str.isdigit()` is true for "²" and "٣" (which `int()` then refuses or reads),
and `int()` takes 4,000 digits that overflow a database column or a date: so
every number a visitor can type goes through `parse_int`, which accepts only
ASCII digits (an optional leading minus) within the given bounds.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import BadRequest
from django.http import QueryDict

# Comfortably inside a signed 64-bit column (and SQLite's integers).
MAX_ID = 2**63 - 1
# The deepest list page anyone reads; further pages are just empty.
MAX_PAGE = 10_000


def parse_int(value: str | None, *, minimum: int, maximum: int) -> int | None:
    """`value` as an int if it is a plain whole number in [minimum, maximum], else None."""
    text = (value or "").strip()
    digits = text.removeprefix("-")
    if not digits or len(digits) > 19 or not (digits.isascii() and digits.isdigit()):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def query_int(
    query: QueryDict,
    name: str,
    *,
    default: int | None = None,
    minimum: int = 1,
    maximum: int = MAX_ID,
    lenient: bool = False,
) -> int | None:
    """A whole-number query parameter: `default` when absent or empty, 400 when malformed.

    `lenient` is for paging: a malformed value reads as `default` and a number
    beyond `maximum` as `maximum` (a page past the end is just empty).
    """
    raw = query.get(name, "").strip()
    if not raw:
        return default
    if lenient:
        if raw.isascii() and raw.isdigit() and len(raw) > 19:
            return maximum
        number = parse_int(raw, minimum=minimum, maximum=2**63 - 1)
        return default if number is None else min(number, maximum)
    number = parse_int(raw, minimum=minimum, maximum=maximum)
    if number is None:
        raise BadRequest(f"“{name}” must be a whole number from {minimum} to {maximum}.")
    return number


def query_text(query: QueryDict, name: str, *, max_length: int = 100) -> str:
    """A free-text query parameter (a search box), stripped and cut to `max_length`."""
    return query.get(name, "").strip()[:max_length]


def query_date(query: QueryDict, name: str) -> date | None:
    """An ISO date query parameter (`2026-11-29`, what `<input type=date>` sends):
    None when absent or empty, 400 when it is not a real date."""
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) != 10 or not raw.isascii():
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"“{name}” must be a date written as YYYY-MM-DD.") from None
