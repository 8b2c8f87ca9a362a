"""The editor's line helpers beyond typing (pick a catalog item, undo a removal) and
the change of a draft's customer."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from invoices import drafts
from invoices.activity import InvoiceStateError
from invoices.forms import LINE_TEXT_FIELDS, ChangeCustomerForm
from invoices.models import CatalogItem
from invoices.staff.access import invoice_for_staff
from invoices.staff.editor import MAX_LINES, apply_posted, locked_response, plain_number
from portal.access import staff_required
from portal.money import CURRENCIES, to_major
from portal.params import parse_int

NO_ITEM = "That catalog item is no longer offered. Type the line instead."


def row_from_item(item: CatalogItem, row: dict[str, str]) -> dict[str, str]:
    """A line filled from a catalog item; the quantity already typed stays."""
    rate = item.tax_rate if item.tax_rate and not item.tax_rate.is_archived else None
    return {
        **row,
        "description": item.line_description,
        "quantity": row.get("quantity") or "1",
        "unit_price": str(to_major(item.unit_amount, item.currency)),
        "named_tax": str(rate.pk) if rate else "",
        "tax_rate": plain_number(rate.percent) if rate else "0",
    }


@require_POST
@staff_required
def pick_item(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    if not invoice.is_draft:
        return locked_response(request, invoice)
    item_pk = parse_int(request.POST.get("item"), minimum=1, maximum=2**31 - 1)
    item = CatalogItem.objects.active().select_related("tax_rate").filter(pk=item_pk).first()
    currency = request.POST.get("currency", "")
    if item is None or currency not in CURRENCIES:
        return HttpResponseBadRequest(NO_ITEM, content_type="text/plain; charset=utf-8")
    if item.currency != currency:
        return HttpResponseBadRequest(
            f"That item is priced in {item.currency}; this invoice is in {currency}.",
            content_type="text/plain; charset=utf-8",
        )

    def fill(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        if 0 <= index < len(rows):
            rows[index] = row_from_item(item, rows[index])
        return rows

    return apply_posted(request, invoice, fill)


@require_POST
@staff_required
def restore_line(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """Undo a removal: the removed row's values, posted back, become a line again."""
    invoice = invoice_for_staff(pk)
    if not invoice.is_draft:
        return locked_response(request, invoice)
    row = {name: request.POST.get(f"undo-{name}", "") for name in LINE_TEXT_FIELDS}
    row["id"] = ""  # the removed line is gone: it comes back as a new one

    def restore(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        if len(rows) >= MAX_LINES or not any(row.values()):
            return rows
        at = min(index, len(rows))
        return [*rows[:at], row, *rows[at:]]

    return apply_posted(request, invoice, restore)


@require_POST
@staff_required
def change_customer(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    if not invoice.is_draft:
        return locked_response(request, invoice)
    form = ChangeCustomerForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("customer", ["Choose a customer."])))
        return redirect("invoices:edit", pk)
    customer = form.cleaned_data["customer"]
    try:
        change = drafts.change_customer(invoice=invoice, customer=customer, actor=request.user)
    except InvoiceStateError:
        return locked_response(request, invoice)
    if not change.changed:
        messages.info(request, f"The draft is already billed to {customer.name}.")
    elif change.currency_changed:
        messages.success(
            request,
            f"Now billed to {customer.name}, in {change.invoice.currency} "
            "(the currency of their last invoice).",
        )
    else:
        messages.success(request, f"Now billed to {customer.name}.")
    return redirect("invoices:edit", pk)
