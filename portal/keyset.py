"""Keyset paging: any page of a list, the last of a million rows included, in one
indexed query.

`OFFSET n` makes the database walk and drop n rows, so page 40,000 costs 40,000
times page 1. Here a page link carries the sort values of the row it continues
from (`after=` / `before=`, an opaque token), and the query starts right there:
`WHERE (created_at, id) < (...) ORDER BY created_at DESC, id DESC LIMIT 26`,
which an index on the sort keys answers by seeking, whatever the page. `last=1`
reads the index from its other end. Every order ends with the primary key, so
no two rows compare equal and pages never overlap or skip.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import BadRequest, ValidationError
from django.db.models import F, Field, Model, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.http import QueryDict
from django.utils import timezone

BROKEN = "This page link is not valid (it may be cut short): open the list's first page."


@dataclass(frozen=True)
class Position:
    """Where a page starts: after or before a row (its sort values), the last page, or the first."""

    direction: str = ""  # "" first page, "after", "before", "last"
    values: tuple[Any, ...] = ()


FIRST_PAGE = Position()


@dataclass
class KeysetPage:
    items: list[Any]
    has_previous: bool
    has_next: bool
    first_token: str = ""
    last_token: str = ""


def read_position(
    query: QueryDict,
    model: type[Model],
    keys: tuple[str, ...],
    annotations: dict[str, Field] | None = None,
) -> Position:
    """The page the URL asks for; a token that does not decode to the sort's values is a 400.

    `annotations`: the type of each sort key that is an annotation, not a field.
    """
    if query.get("last") == "1":
        return Position("last")
    tokens = {"after": query.get("after", ""), "before": query.get("before", "")}
    for direction, token in tokens.items():
        if token.strip():
            return Position(direction, _decode(token.strip(), model, keys, annotations or {}))
    return FIRST_PAGE


def paginate(
    queryset: QuerySet, keys: tuple[str, ...], position: Position, size: int
) -> KeysetPage:
    """One query: `size` rows from `position` in the order of `keys` (all one way)."""
    descending = keys[0].startswith("-")
    fields = tuple(key.removeprefix("-") for key in keys)
    forward = position.direction in ("", "after")
    ascending_scan = descending != forward  # reading the order backwards flips it
    order = [field if ascending_scan else f"-{field}" for field in fields]
    rows = queryset.order_by(*order)
    if position.values:
        lookup = TupleGreaterThan if ascending_scan else TupleLessThan
        rows = rows.filter(lookup(Tuple(*(F(f) for f in fields)), position.values))
    rows = list(rows[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    return _page(
        rows,
        fields,
        has_previous=more if not forward else position.direction == "after",
        has_next=more if forward else position.direction == "before",
    )


def numbered_page(queryset: QuerySet, keys: tuple[str, ...], number: int, size: int) -> KeysetPage:
    """Page `number` by OFFSET, for `?page=N` links made before keyset paging (its
    cost grows with N; its Previous and Next links continue by keyset)."""
    start = (number - 1) * size
    rows = list(queryset.order_by(*keys)[start : start + size + 1])
    fields = tuple(key.removeprefix("-") for key in keys)
    return _page(rows[:size], fields, has_previous=number > 1, has_next=len(rows) > size)


def _page(rows: list[Any], fields: tuple[str, ...], **flags: bool) -> KeysetPage:
    page = KeysetPage(items=rows, **flags)
    if rows:
        page.first_token = encode(rows[0], fields)
        page.last_token = encode(rows[-1], fields)
    return page


def encode(row: Model, fields: tuple[str, ...]) -> str:
    values = []
    for field in fields:
        value: Any = row
        for part in field.split("__"):
            value = getattr(value, part)
        values.append(value.isoformat() if isinstance(value, date | datetime) else value)
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(
    token: str, model: type[Model], keys: tuple[str, ...], annotations: dict[str, Field]
) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise BadRequest(BROKEN) from error
    if not isinstance(values, list) or len(values) != len(keys):
        raise BadRequest(BROKEN)
    names = [key.removeprefix("-") for key in keys]
    fields = [annotations.get(name) or _field(model, name) for name in names]
    return tuple(_clean(field, value) for field, value in zip(fields, values, strict=True))


def _clean(field: Field, value: Any) -> Any:
    """The value as the sort field's type, or a 400 (never a database error)."""
    # PostgreSQL refuses NUL in text, so it must not reach the query.
    if not isinstance(value, str | int) or isinstance(value, bool) or "\x00" in str(value):
        raise BadRequest(BROKEN)
    try:
        cleaned = field.to_python(value)
        field.run_validators(cleaned)
    except (ValidationError, TypeError, ValueError, OverflowError) as error:
        raise BadRequest(BROKEN) from error
    if cleaned is None or (isinstance(cleaned, datetime) and timezone.is_naive(cleaned)):
        raise BadRequest(BROKEN)
    return cleaned


def _field(model: type[Model], path: str) -> Field:
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def page_links(filters: dict[str, str], page: KeysetPage) -> dict[str, str]:
    """The pager's query strings (first, previous, next, last) that keep `filters`."""

    def query(**position: str) -> str:
        encoded = QueryDict(mutable=True)
        encoded.update({**filters, **position})
        return "?" + encoded.urlencode()

    links = {}
    if page.has_previous:
        links["first"] = query()
        links["previous"] = query(before=page.first_token) if page.first_token else query()
    if page.has_next:
        links["next"] = query(after=page.last_token)
        links["last"] = query(last="1")
    return links
