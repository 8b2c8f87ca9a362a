"""The quote editor's line buttons (add, remove and undo, move, pick a catalog item) and
its catalog suggestions: the invoice editor's, posting to the quote's addresses."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe

from invoices.forms import LINE_TEXT_FIELDS
from invoices.models import CatalogItem
from invoices.staff.catalog import matching_items
from invoices.staff.editor import MAX_LINES, blank_row
from invoices.staff.editor_actions import NO_ITEM, row_from_item
from invoices.staff.editor_urls import quote_editor_urls
from invoices.staff.quote_editor import apply_posted, editable_quote, locked_response
from portal.access import staff_required
from portal.money import CURRENCIES
from portal.params import parse_int

Rows = list[dict[str, str]]


def _posted(request: HttpRequest, pk: int, change: Any, extra: dict | None = None) -> HttpResponse:
    quote = editable_quote(pk)
    if not quote.is_editable:
        return locked_response(request, quote)
    return apply_posted(request, quote, change, extra=extra)


@require_POST
@staff_required
def add_line(request: HttpRequest, pk: int) -> HttpResponse:
    return _posted(request, pk, lambda rows: [*rows, blank_row()][:MAX_LINES])


@require_POST
@staff_required
def remove_line(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    undo: dict[str, Any] = {}

    def remove(rows: Rows) -> Rows:
        if 0 <= index < len(rows):
            undo.update(undo_index=index, undo_row=rows[index])  # "Undo" posts it back
        return rows[:index] + rows[index + 1 :]

    return _posted(request, pk, remove, undo)


@require_POST
@staff_required
def restore_line(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    row = {name: request.POST.get(f"undo-{name}", "") for name in LINE_TEXT_FIELDS}
    row["id"] = ""

    def restore(rows: Rows) -> Rows:
        if len(rows) >= MAX_LINES or not any(row.values()):
            return rows
        at = min(index, len(rows))
        return [*rows[:at], row, *rows[at:]]

    return _posted(request, pk, restore)


@require_POST
@staff_required
def move_line(request: HttpRequest, pk: int, index: int, direction: str) -> HttpResponse:
    if direction not in ("up", "down"):
        raise Http404("No such direction")
    other = index - 1 if direction == "up" else index + 1

    def swap(rows: Rows) -> Rows:
        if 0 <= index < len(rows) and 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
        return rows

    return _posted(request, pk, swap)


@require_POST
@staff_required
def pick_item(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    item_pk = parse_int(request.POST.get("item"), minimum=1, maximum=2**31 - 1)
    item = CatalogItem.objects.active().select_related("tax_rate").filter(pk=item_pk).first()
    currency = request.POST.get("currency", "")
    if item is None or currency not in CURRENCIES or item.currency != currency:
        return HttpResponseBadRequest(NO_ITEM, content_type="text/plain; charset=utf-8")

    def fill(rows: Rows) -> Rows:
        if 0 <= index < len(rows):
            rows[index] = row_from_item(item, rows[index])
        return rows

    return _posted(request, pk, fill)


@require_safe
@staff_required
def suggestions(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    quote = editable_quote(pk)
    typed, items = matching_items(request, index, quote.currency) if quote.is_editable else ("", [])
    context = {
        "items": items,
        "index": index,
        "typed": typed,
        "editor_urls": quote_editor_urls(quote),
    }
    return render(request, "invoices/catalog_suggestions.html", context)
