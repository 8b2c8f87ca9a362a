"""The quote editor: the invoice editor's forms, rows and validation, for a quote.

A quote's lines are the same as an invoice's, so the editor binds them with the
invoice editor's own `bind` / `rows_from_post` (one set of rules for both); a
quote adds its expiry date and deposit (`QuoteExtrasForm`). Every post carries
the whole form, and only a fully valid one is saved, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from invoices.models import Quote
from invoices.quotes import QuoteContent, QuoteStateError, save_quote
from invoices.staff.editor import Editor, bind, blank_row, rows_from_post
from invoices.staff.editor_urls import quote_editor_urls
from invoices.staff.quote_forms import EXTRA_FIELDS, QuoteExtrasForm
from portal.access import staff_required
from portal.htmx import wants_fragment
from portal.money import to_major

RowsChange = Callable[[list[dict[str, str]]], list[dict[str, str]]] | None


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


def locked_response(request: HttpRequest, quote: Quote) -> HttpResponse:
    """An answered, expired or converted quote is not edited, whatever the page still shows."""
    messages.error(request, f"{quote} is {quote.get_status_display().lower()}: not editable.")
    if getattr(request, "htmx", None):
        response = HttpResponse(status=409)
        response["HX-Redirect"] = quote.get_absolute_url()  # htmx follows it; nothing swapped
        return response
    return redirect(quote.get_absolute_url())


def editable_quote(pk: int) -> Quote:
    return get_object_or_404(Quote.objects.select_related("customer"), pk=pk)


def apply_posted(
    request: HttpRequest, quote: Quote, rows_change: RowsChange = None, *, extra: dict | None = None
) -> HttpResponse:
    """As the invoice editor's: bind the posted form, apply a line change, save if all of it
    (lines, expiry, deposit) is valid, answer the fragment htmx asked for or the page."""
    try:
        header, rows = rows_from_post(request.POST)
    except BadRequest as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    editor = bind(quote, header, rows if rows_change is None else rows_change(rows))
    extras = _extras(editor, {name: request.POST.get(name, "") for name in EXTRA_FIELDS})
    saved = False
    # A sent quote's line buttons change the form only: its Save makes the one new version.
    may_save = rows_change is None or quote.status == Quote.Status.DRAFT
    extra = {**(extra or {}), "unsaved": not may_save}
    if may_save and editor.is_valid and extras.is_valid():
        try:
            quote = save_quote(quote=quote, content=_content(editor, extras), actor=request.user)
            saved = True
        except QuoteStateError as error:
            if not Quote.objects.get(pk=quote.pk).is_editable:
                return locked_response(request, quote)
            extras.add_error("deposit_value" if "deposit" in str(error) else None, str(error))
    if wants_fragment(request):
        autosave = rows_change is None and request.POST.get("autosave") == "1"
        return _render(
            request, quote, editor, extras, partial="autosave" if autosave else "form", extra=extra
        )
    if saved and rows_change is None:
        messages.success(request, f"{quote} saved.")
        return redirect(quote.get_absolute_url())
    return _render(request, quote, editor, extras, extra=extra)


@require_http_methods(["GET", "POST"])
@staff_required
def edit_quote(request: HttpRequest, pk: int) -> HttpResponse:
    quote = editable_quote(pk)
    if not quote.is_editable:
        return locked_response(request, quote)
    if request.method == "POST":
        return apply_posted(request, quote)
    header, rows = rows_from_quote(quote)
    editor = bind(quote, header, rows or [blank_row()])
    extras = QuoteExtrasForm(initial=extras_initial(quote), currency="", issue_date=None, terms="")
    return _render(request, quote, editor, extras)


PARTS = {
    "header": "quotes/_editor_header.html",
    "totals": "quotes/_editor_deposit.html",
    "oob": "quotes/_editor_oob.html",
}


def _render(
    request: HttpRequest,
    quote: Quote,
    editor: Editor,
    extras: QuoteExtrasForm,
    *,
    partial: str = "",
    extra: dict | None = None,
) -> HttpResponse:
    # The page is the invoice editor's, extended; a fragment is the invoice editor's own.
    template = f"invoices/editor.html#{partial}" if partial else "quotes/editor.html"
    context = {
        "quote": quote,
        "editor": editor,
        "extras": extras,
        "customer": quote.customer,
        "editor_urls": quote_editor_urls(quote),
        "editor_parts": PARTS,
        **(extra or {}),
    }
    return render(request, template, context)
