"""The customer's language: which one, switching to it, and locale formats.

Staff pages stay in English (the project's `LANGUAGE_CODE`); everything a
customer reads (the pay pages and their live updates, every customer email,
the PDFs) is rendered inside `invoices.language.in_customer_language(...)`. Money and dates on those
outputs are formatted by Babel from CLDR data for the active language, while
English keeps the portal's own formats so staff pages never change.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal
from django.template.defaultfilters import date as django_date
from django.utils import timezone, translation

from portal.money import exponent, format_money, to_major

ENGLISH = "en"
# The languages a customer can be written to in. Labels stay English: only staff see them.
LANGUAGE_CHOICES = [("en", "English"), ("de", "German"), ("fr", "French")]
# The region whose conventions each language's money and dates follow.
BABEL_LOCALES = {"de": "de_DE", "fr": "fr_FR"}


@contextmanager
def language(code: str) -> Iterator[str]:
    """Render in `code` (restored afterwards, even on error)."""
    with translation.override(code):
        yield code


def babel_locale(code: str | None = None) -> Locale | None:
    """The Babel locale for `code` (the active language by default); None for English."""
    code = (code or translation.get_language() or ENGLISH).split("-")[0]
    name = BABEL_LOCALES.get(code)
    return Locale.parse(name) if name else None


def format_money_in(amount: int, currency: str, code: str | None = None) -> str:
    """Minor units formatted for a language: `123456, "eur", "de"` -> `1.234,56 €`.

    The number of decimals is the currency's minor unit as Stripe counts it
    (`portal.money.exponent`), not CLDR's, so a yen amount never grows decimals.
    """
    locale = babel_locale(code)
    if locale is None:
        return format_money(amount, currency)
    currency = currency.upper()
    places = exponent(currency)
    pattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (places, places)
    return pattern.apply(
        to_major(amount, currency), locale, currency=currency, currency_digits=False
    )


def format_date_in(
    value: date | datetime | None, english_format: str, code: str | None = None
) -> str:
    """A date for a language: English keeps `english_format` (Django's syntax), others
    use their CLDR medium form (`29.12.2026`, `29 déc. 2026`)."""
    if value in (None, ""):
        return ""
    locale = babel_locale(code)
    if locale is None:
        return django_date(value, english_format)
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return format_date(value, "medium", locale=locale)


def format_number_in(value: Decimal, code: str | None = None) -> str:
    """A plain number without trailing zeros: `2.500` -> `2.5` (`2,5` in German)."""
    text = f"{value:f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    locale = babel_locale(code)
    if locale is None:
        return text
    return format_decimal(Decimal(text), locale=locale, decimal_quantization=False)
