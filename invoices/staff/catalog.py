"""The item catalog and named tax rates: staff list, add, edit and archive them; the
editor asks here for the items matching what is typed into a line."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from invoices.catalog_forms import CatalogItemForm, TaxRateForm
from invoices.models import CatalogItem, TaxRate
from invoices.staff.access import invoice_for_staff
from invoices.staff.editor_urls import invoice_editor_urls
from portal.access import staff_required
from portal.money import CURRENCIES
from portal.params import query_text

SUGGESTIONS = 8


@require_safe
@staff_required
def catalog(request: HttpRequest) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    items = CatalogItem.objects.select_related("tax_rate")
    rates = TaxRate.objects.all()
    if not archived:
        items, rates = items.active(), rates.active()
    context = {"items": list(items), "rates": list(rates), "archived": archived}
    return render(request, "invoices/catalog.html", context)


def _form_page(request: HttpRequest, form: object, title: str) -> HttpResponse:
    context = {"form": form, "title": title}
    return render(request, "invoices/catalog_form.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def item_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    item = get_object_or_404(CatalogItem, pk=pk) if pk is not None else None
    form = CatalogItemForm(request.POST or None, item=item)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Saved the item “{saved.name}”.")
        return redirect("invoices:catalog")
    return _form_page(request, form, f"Edit {item.name}" if item else "New catalog item")


@require_http_methods(["GET", "POST"])
@staff_required
def rate_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rate = get_object_or_404(TaxRate, pk=pk) if pk is not None else None
    form = TaxRateForm(request.POST or None, rate=rate)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Saved the tax rate “{saved.name}”.")
        return redirect("invoices:catalog")
    return _form_page(request, form, f"Edit {rate.name}" if rate else "New tax rate")


@require_POST
@staff_required
def item_archive(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(CatalogItem, pk=pk)
    if item.is_archived:
        item.restore()
        messages.success(request, f"“{item.name}” is offered again.")
    else:
        item.archive()
        messages.success(request, f"“{item.name}” is archived: the editor no longer offers it.")
    return redirect("invoices:catalog")


@require_POST
@staff_required
def rate_archive(request: HttpRequest, pk: int) -> HttpResponse:
    rate = get_object_or_404(TaxRate, pk=pk)
    if rate.is_archived:
        if TaxRate.objects.active().filter(name=rate.name).exists():
            messages.error(request, f"Another active rate is already named “{rate.name}”.")
        else:
            rate.restore()
            messages.success(request, f"“{rate.name}” is offered again.")
    else:
        rate.archive()
        messages.success(request, f"“{rate.name}” is archived: new lines can no longer pick it.")
    return redirect("invoices:catalog")


def matching_items(request: HttpRequest, index: int, default_currency: str) -> tuple[str, list]:
    """The typed description's first line, and the active items in the editor's currency
    whose name or description matches it (for the invoice and the quote editor alike)."""
    typed = query_text(request.GET, f"line-{index}-description").strip()
    # Matched on its first line, without control characters (PostgreSQL refuses a NUL).
    first_line = "".join(c for c in (typed.splitlines() or [""])[0] if c.isprintable()).strip()
    currency = query_text(request.GET, "currency") or default_currency
    if not first_line or currency not in CURRENCIES:
        return first_line, []
    items = (
        CatalogItem.objects.active()
        .filter(currency=currency)
        .filter(Q(name__icontains=first_line) | Q(description__icontains=first_line))
        .select_related("tax_rate")[:SUGGESTIONS]
    )
    return first_line, list(items)


@require_safe
@staff_required
def suggestions(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """The active items in the draft's currency whose name matches the line's description."""
    invoice = invoice_for_staff(pk)
    typed, items = (
        ("", []) if not invoice.is_draft else matching_items(request, index, invoice.currency)
    )
    context = {
        "items": items,
        "index": index,
        "typed": typed,
        "editor_urls": invoice_editor_urls(invoice),
    }
    return render(request, "invoices/catalog_suggestions.html", context)
