"""The quote editor: the invoice editor's forms, rows and validation, for a quote.

A quote's lines are the same as an invoice's, so the editor binds them with the
invoice editor's own `bind` / `rows_from_post` (one set of rules for both); a
quote adds its expiry date and deposit (`QuoteExtrasForm`). Every post carries
the whole form, and only a fully valid one is saved, in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from invoices.models import Quote
from invoices.quotes import QuoteContent, QuoteStateError, save_quote
from invoices.staff.editor import MAX_LINES, Editor, bind, blank_row, rows_from_post
from invoices.staff.quote_forms import EXTRA_FIELDS, QuoteExtrasForm
from portal.access import staff_required
from portal.money import to_major
from portal.params import parse_int


def _plain(value: Any) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def rows_from_quote(quote: Quote) -> tuple[dict[str, str], list[dict[str, str]]]:
    discount = quote.discount_value
    if quote.discount_kind == Quote.DiscountKind.AMOUNT:
        discount = to_major(int(discount), quote.currency)
    header = {
        "currency": quote.currency,
        "issue_date": quote.issue_date.isoformat(),
        "terms": quote.terms,
        "due_date": "",
        "discount_kind": quote.discount_kind,
        "discount_value": _plain(discount) if quote.discount_kind else "",
        "memo": quote.memo,
        "footer": quote.footer,
        "po_number": "",  # the invoice's own: set on it after converting
    }
    rows = [
        {
            **blank_row(),
            "description": line.description,
            "quantity": _plain(line.quantity),
            "unit_price": str(to_major(line.unit_amount, quote.currency)),
            "tax_rate": _plain(line.tax_rate),
            "named_tax": str(line.named_tax_id or ""),
        }
        for line in quote.lines.all()
    ]
    return header, rows


def extras_initial(quote: Quote) -> dict[str, str]:
    value = quote.deposit_value
    if quote.deposit_kind == Quote.DepositKind.AMOUNT:
        value = to_major(int(value), quote.currency)
    return {
        "expires_on": quote.expires_on.isoformat() if quote.expires_on else "",
        "deposit_kind": quote.deposit_kind,
        "deposit_value": _plain(value) if quote.deposit_kind else "",
    }


def _extras(editor: Editor, data: dict[str, str]) -> QuoteExtrasForm:
    header = editor.header
    cleaned = getattr(header, "cleaned_data", {})
    return QuoteExtrasForm(
        data,
        currency=cleaned.get("currency") or editor.invoice.currency,
        issue_date=cleaned.get("issue_date"),
        terms=header.data.get("terms", ""),
    )


def _content(editor: Editor, extras: QuoteExtrasForm) -> QuoteContent:
    lines = [
        {
            "description": form.cleaned_data["description"],
            "quantity": form.cleaned_data["quantity"],
            "unit_amount": form.cleaned_data["unit_price"],
            "tax_rate": form.cleaned_data["tax_rate"],
            "tax_name": form.cleaned_data["tax_name"],
            "named_tax": form.cleaned_data["tax_rate_obj"],
        }
        for form in editor.lines
        if not form.is_blank
    ]
    return QuoteContent(
        header=editor.header.cleaned_data,
        lines=lines,
        expires_on=extras.cleaned_data["expires_on"],
        deposit_kind=extras.cleaned_data.get("deposit_kind") or "",
        deposit_value=extras.cleaned_data["deposit"],
    )


def _changed_rows(request: HttpRequest, rows: list[dict[str, str]]) -> list[dict[str, str]] | None:
    """Add or remove a row when that button was pressed; None for a plain save."""
    if "add_line" in request.POST:
        return [*rows, blank_row()][:MAX_LINES]
    remove = parse_int(request.POST.get("remove_line"), minimum=0, maximum=MAX_LINES)
    if remove is not None:
        return rows[:remove] + rows[remove + 1 :]
    return None


@require_http_methods(["GET", "POST"])
@staff_required
def edit_quote(request: HttpRequest, pk: int) -> HttpResponse:
    quote = get_object_or_404(Quote.objects.select_related("customer"), pk=pk)
    if not quote.is_editable:
        messages.error(request, f"{quote} is {quote.get_status_display().lower()}: not editable.")
        return redirect(quote.get_absolute_url())
    if request.method == "GET":
        header, rows = rows_from_quote(quote)
        editor = bind(quote, header, rows or [blank_row()])
        extras = QuoteExtrasForm(
            initial=extras_initial(quote), currency="", issue_date=None, terms=""
        )
        return _render(request, quote, editor, extras)
    try:
        header, rows = rows_from_post(request.POST)
    except BadRequest as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    changed = _changed_rows(request, rows)
    editor = bind(quote, header, rows if changed is None else changed)
    extra_data = {name: request.POST.get(name, "") for name in EXTRA_FIELDS}
    extras = _extras(editor, extra_data)
    if changed is None and editor.is_valid and extras.is_valid():
        try:
            quote = save_quote(quote=quote, content=_content(editor, extras), actor=request.user)
        except QuoteStateError as error:
            extras.add_error("deposit_value" if "deposit" in str(error) else None, str(error))
        else:
            messages.success(request, f"{quote} saved.")
            return redirect(quote.get_absolute_url())
    return _render(request, quote, editor, extras)


def _render(
    request: HttpRequest, quote: Quote, editor: Editor, extras: QuoteExtrasForm
) -> HttpResponse:
    context = {"quote": quote, "editor": editor, "extras": extras, "customer": quote.customer}
    return render(request, "quotes/editor.html", context)
