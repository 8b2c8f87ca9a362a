from __future__ import annotations

from django import template

from portal.money import format_money

register = template.Library()


@register.simple_tag
def money(amount: int, currency: str) -> str:
    """`{% money invoice.total invoice.currency %}` -> `$12.34`."""
    return format_money(amount or 0, currency)
