"""An invoice's row in the staff lists (the dashboard, a customer's page, the live feed).

Written in Python rather than as a template: a list renders a row per
invoice on every request, and the template engine's cost per variable (resolve,
localize, escape) made the rows most of the page's time. Every value is escaped
here as the template did it.
"""

from __future__ import annotations

import html
from datetime import date
from functools import lru_cache

from django.template.defaultfilters import date as format_date
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from invoices.models import Invoice
from portal.i18n import format_money_in

DATE_FORMAT = "M j, Y"
# What a row reads: a list loads these alone (any other field would cost a query per row).
FIELDS = (
    "number",
    "status",
    "payment_state",
    "currency",
    "issue_date",
    "due_date",
    "total",
    "amount_due",
    "customer__name",
)

ROW = (
    '<tr id="invoice-row-{pk}" sse-swap="invoice-{pk}-row" hx-swap="outerHTML settle:0ms"'
    ' hx-target="this">\n'
    '  <td><input type="checkbox" class="row-select" name="ids" value="{pk}" form="bulk-form"'
    ' id="pick-{pk}" hx-preserve aria-label="Pick {name}"> <a href="{url}">{name}</a></td>\n'
    "  <td hx-disable>{customer}</td>\n"
    "  <td>{badges}</td>\n"
    '  <td class="hide-sm">{issued}</td>\n'
    '  <td class="hide-sm">{due}</td>\n'
    '  <td class="num">{total}</td>\n'
    '  <td class="num">{owed}</td>\n'
    "</tr>\n"
)
BADGE = '<span class="badge badge-{}">{}</span>'
# Any number: the detail link is reversed once with it, then each row's id takes its place.
URL_MARKER = 987_654_321_987_654_321
_badges: dict[tuple[str, str, str | None], SafeString] = {}


@lru_cache(maxsize=2048)
def _day(value: date | None, language: str | None) -> str:
    """A date as the list shows it; a page repeats few days, and formatting one walks
    Django's date formatter and its translated month names."""
    return format_date(value, DATE_FORMAT) or "—"


@lru_cache(maxsize=16)
def _detail_url_around(script_prefix: str, urlconf: str | None) -> tuple[str, str]:
    """What comes before and after the id in `Invoice.get_absolute_url()`."""
    before, marker, after = reverse("invoices:detail", args=[URL_MARKER]).partition(str(URL_MARKER))
    assert marker, "the detail URL shows the invoice's id"
    return before, after


def _detail_url(invoice: Invoice) -> str:
    before, after = _detail_url_around(get_script_prefix(), get_urlconf())
    return f"{before}{invoice.pk}{after}"


def _status_badges(invoice: Invoice, language: str | None) -> SafeString:
    """The status badge, and the payment's state when one is under way.

    What they say depends only on the status shown, the payment state and the
    language, so each combination is built once (a status label walks every
    choice's lazy translation)."""
    status = invoice.display_status
    key = (status, invoice.payment_state, language)
    badges = _badges.get(key)
    if badges is None:
        badges = format_html(BADGE, status, invoice.display_status_label)
        if invoice.payment_state:
            payment = format_html(BADGE, invoice.payment_state, invoice.get_payment_state_display())
            badges = format_html("{} {}", badges, payment)
        _badges[key] = badges
    return badges


def _fill(template: str, **values: object) -> SafeString:
    """`format_html(template, **values)`: each value escaped unless it is already HTML
    (what `conditional_escape` does, without its lazy-string check per value)."""
    return mark_safe(
        template.format(
            **{
                name: value.__html__() if hasattr(value, "__html__") else html.escape(str(value))
                for name, value in values.items()
            }
        )
    )


def invoice_row(invoice: Invoice) -> SafeString:
    """The `<tr>` the live feed swaps by its id (`invoice-row-<pk>`); the invoice's
    customer should be loaded with it (`select_related`)."""
    language = get_language()
    return _fill(
        ROW,
        pk=invoice.pk,
        name=str(invoice),
        url=_detail_url(invoice),
        customer=invoice.customer.name,
        badges=_status_badges(invoice, language),
        issued=_day(invoice.issue_date, language),
        due=_day(invoice.due_date, language),
        total=format_money_in(invoice.total or 0, invoice.currency),
        owed=format_money_in(invoice.amount_owed or 0, invoice.currency),
    )
