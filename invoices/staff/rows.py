"""An invoice's row in the staff lists (the dashboard, a customer's page, the live feed).

Written with `format_html` rather than a template: a list renders a row per
invoice on every request, and the template engine's cost per variable (resolve,
localize, escape) made the rows most of the page's time. Every value is escaped
here as the template did it.
"""

from __future__ import annotations

from django.template.defaultfilters import date as format_date
from django.utils.html import format_html
from django.utils.safestring import SafeString

from invoices.models import Invoice
from portal.i18n import format_money_in

DATE_FORMAT = "M j, Y"

ROW = (
    '<tr id="invoice-row-{pk}" sse-swap="invoice-{pk}-row" hx-swap="outerHTML settle:0ms"'
    ' hx-target="this">\n'
    '  <td><input type="checkbox" class="row-select" name="ids" value="{pk}" form="bulk-form"'
    ' id="pick-{pk}" hx-preserve aria-label="Pick {name}"> <a href="{url}">{name}</a></td>\n'
    "  <td hx-disable>{customer}</td>\n"
    '  <td><span class="badge badge-{status}">{status_label}</span>{payment_state}</td>\n'
    '  <td class="hide-sm">{issued}</td>\n'
    '  <td class="hide-sm">{due}</td>\n'
    '  <td class="num">{total}</td>\n'
    '  <td class="num">{owed}</td>\n'
    "</tr>\n"
)
PAYMENT_STATE = ' <span class="badge badge-{}">{}</span>'


def invoice_row(invoice: Invoice) -> SafeString:
    """The `<tr>` the live feed swaps by its id (`invoice-row-<pk>`); the invoice's
    customer should be loaded with it (`select_related`)."""
    payment_state = (
        format_html(PAYMENT_STATE, invoice.payment_state, invoice.get_payment_state_display())
        if invoice.payment_state
        else ""
    )
    return format_html(
        ROW,
        pk=invoice.pk,
        name=str(invoice),
        url=invoice.get_absolute_url(),
        customer=invoice.customer.name,
        status=invoice.display_status,
        status_label=invoice.display_status_label,
        payment_state=payment_state,
        issued=format_date(invoice.issue_date, DATE_FORMAT),
        due=format_date(invoice.due_date, DATE_FORMAT) or "—",
        total=format_money_in(invoice.total or 0, invoice.currency),
        owed=format_money_in(invoice.amount_owed or 0, invoice.currency),
    )
