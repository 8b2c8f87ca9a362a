from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from portal.i18n import format_date_in, format_money_in, format_number_in

register = template.Library()


@register.simple_tag
def money(amount: int, currency: str) -> str:
    """`{% money invoice.total invoice.currency %}` -> `$12.34` (`12,34 €` in German).

    Formatted for the active language: staff pages are English, customer pages
    run in the customer's language (see portal.i18n).
    """
    return format_money_in(amount or 0, currency)


@register.filter(expects_localtime=True)
def localdate(value: date | datetime | None, english_format: str = "j M Y") -> str:
    """`{{ invoice.due_date|localdate:"Y-m-d" }}`: that format in English, the
    active language's medium date otherwise (`29.12.2026`, `29 déc. 2026`)."""
    return format_date_in(value, english_format)


@register.filter
def quantity(value: Decimal | str) -> str:
    """`Decimal("12.500")` -> `12.5` (`12,5` in German), `Decimal("100.000")` -> `100`
    (never `1E+2`)."""
    return format_number_in(Decimal(str(value)))


@register.filter
def strong(value: object) -> SafeString:
    """Bold a value inside a translated sentence (`{% blocktranslate with n=number|strong %}`),
    escaping it: the sentence's words are the translator's, the value is user data."""
    return format_html("<strong>{}</strong>", value)
