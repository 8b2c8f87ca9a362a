"""The pay link's one statement: the invoice, its customer and the business profile.

Every customer page opens its invoice through here (`invoices.pay.views.invoice_for_token`),
many times per invoice, so the statement is written once per database from the models' own
columns instead of being compiled by the ORM on every request. The business profile comes
in the same row, fresh, so a page needs no query of its own for it and can never show a
profile another process changed since.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.http import Http404

from customers.models import Customer
from invoices.models import BusinessProfile, Invoice, digest_token

# The profile is one row, always this one (`BusinessProfile.load`).
PROFILE_PK = 1


class Version:
    """Every column read, as stored: any change to the invoice, its customer or the business
    profile is a new version (what the page's kept fragments are keyed by). Hashed once:
    a page looks up several fragments under it."""

    __slots__ = ("_hash", "row")

    def __init__(self, row: tuple[Any, ...]) -> None:
        try:
            self._hash = hash(row)
        except TypeError:
            # A JSON column reads as a dict or list: compared by its text instead.
            row = tuple(v if isinstance(v, Hashable) else repr(v) for v in row)
            self._hash = hash(row)
        self.row = row

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._hash == other._hash and self.row == other.row


@dataclass(frozen=True)
class Found:
    invoice: Invoice
    # None until the business profile's row exists (`BusinessProfile.load` creates it).
    business: BusinessProfile | None
    version: Version


@dataclass(frozen=True)
class _Part:
    model: type[Model]
    fields: list[Field]
    names: list[str]
    converters: list[tuple[int, list[Any], Any]]


@dataclass(frozen=True)
class _Statement:
    sql: str
    parts: tuple[_Part, _Part, _Part]


_statements: dict[str, _Statement] = {}
_statements_lock = threading.Lock()


def by_token(token: str) -> Found:
    """The one door for customers: a wrong, revoked or draft link is the same 404."""
    statement = _statement(connection)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [PROFILE_PK, digest_token(token), Invoice.Status.DRAFT])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such invoice")
    invoice_part, customer_part, business_part = statement.parts
    invoice = _instance(invoice_part, row, 0)
    if not hmac.compare_digest(invoice.pay_token, token):
        raise Http404("No such invoice")
    customer = _instance(customer_part, row, len(invoice_part.fields))
    Invoice._meta.get_field("customer").set_cached_value(invoice, customer)
    start = len(invoice_part.fields) + len(customer_part.fields)
    business = None if row[start] is None else _instance(business_part, row, start)
    return Found(invoice, business, Version(tuple(row)))


def _instance(part: _Part, row: tuple[Any, ...], start: int) -> Any:
    values = list(row[start : start + len(part.fields)])
    for index, converters, expression in part.converters:
        value = values[index]
        for convert in converters:
            value = convert(value, expression, connection)
        values[index] = value
    return part.model.from_db(connection.alias, part.names, values)


def _statement(database: BaseDatabaseWrapper) -> _Statement:
    with _statements_lock:
        statement = _statements.get(database.vendor)
        if statement is None:
            statement = _statements[database.vendor] = _write(database)
    return statement


def _part(model: type[Model], alias: str, database: BaseDatabaseWrapper) -> _Part:
    fields = list(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        # What the ORM would apply to the column (the backend's, then the field's own).
        column = field.get_col(alias)
        found = database.ops.get_db_converters(column) + column.get_db_converters(database)
        if found:
            converters.append((index, found, column))
    return _Part(model, fields, [field.attname for field in fields], converters)


def _write(database: BaseDatabaseWrapper) -> _Statement:
    quote = database.ops.quote_name
    parts = (
        _part(Invoice, "i", database),
        _part(Customer, "c", database),
        _part(BusinessProfile, "b", database),
    )
    columns = ", ".join(
        f"{alias}.{quote(field.column)}"
        for alias, part in zip("icb", parts, strict=True)
        for field in part.fields
    )
    invoice = Invoice._meta
    customer_id = invoice.get_field("customer").column
    sql = (
        f"SELECT {columns} FROM {quote(invoice.db_table)} i"
        f" INNER JOIN {quote(Customer._meta.db_table)} c"
        f" ON c.{quote(Customer._meta.pk.column)} = i.{quote(customer_id)}"
        f" LEFT OUTER JOIN {quote(BusinessProfile._meta.db_table)} b"
        f" ON b.{quote(BusinessProfile._meta.pk.column)} = %s"
        f" WHERE i.{quote(invoice.get_field('pay_token_digest').column)} = %s"
        f" AND i.{quote(invoice.get_field('status').column)} <> %s"
    )
    return _Statement(sql, parts)
