from __future__ import annotations

from decimal import Decimal

from django import template

from portal.money import format_money

register = template.Library()


@register.simple_tag
def money(amount: int, currency: str) -> str:
    """`{% money invoice.total invoice.currency %}` -> `$12.34`."""
    return format_money(amount or 0, currency)


@register.filter
def quantity(value: Decimal | str) -> str:
    """`Decimal("12.500")` -> `12.5`, `Decimal("100.000")` -> `100` (never `1E+2`)."""
    text = f"{Decimal(str(value)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
