"""Quotes built through the portal's own workflows (what the editor and Send do)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from customers.models import Customer
from invoices.models import Quote
from invoices.quotes import QuoteContent, create_quote, save_quote, send_quote
from tests.factories import CustomerFactory

# 2 x 50.00 at 10% tax (110.00) and 1 x 100.00 untaxed: 210.00 in all.
LINES = [
    {
        "description": "Design",
        "quantity": Decimal(2),
        "unit_amount": 5000,
        "tax_rate": Decimal(10),
    },
    {
        "description": "Build",
        "quantity": Decimal(1),
        "unit_amount": 10000,
        "tax_rate": Decimal(0),
    },
]


def header(**overrides: Any) -> dict[str, Any]:
    return {
        "currency": "USD",
        "issue_date": timezone.localdate(),
        "terms": "net_30",
        "discount_kind": "",
        "discount": Decimal(0),
        "memo": "",
        "footer": "",
        **overrides,
    }


def content(
    *,
    lines: list[dict[str, Any]] | None = None,
    expires_on: date | None = None,
    deposit_kind: str = "",
    deposit_value: Decimal = Decimal(0),
    **header_fields: Any,
) -> QuoteContent:
    return QuoteContent(
        header=header(**header_fields),
        lines=lines if lines is not None else [dict(line) for line in LINES],
        expires_on=expires_on,
        deposit_kind=deposit_kind,
        deposit_value=deposit_value,
    )


def make_quote(
    customer: Customer | None = None, *, send: bool = True, currency: str = "USD", **fields: Any
) -> Quote:
    customer = customer or CustomerFactory()
    quote = create_quote(
        customer=customer, currency=currency, terms="net_30", footer="", actor=None
    )
    quote = save_quote(quote=quote, content=content(currency=currency, **fields))
    if send:
        quote = send_quote(quote=quote)
    return Quote.objects.get(pk=quote.pk)


def accept_post(quote: Quote, name: str = "Ada Lovelace") -> dict[str, str]:
    return {"name": name, "version": str(quote.version), "digest": quote.content_digest}
