"""The payments ledger page and its CSV export (staff only)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from customers.models import Customer
from invoices.staff.ledger import (
    KINDS,
    METHODS,
    STATUSES,
    LedgerFilter,
    method_label,
    page_of,
    status_label,
)
from portal import timezones
from portal.access import staff_required
from portal.money import to_major
from portal.spreadsheet import cell, csv_lines

HEADER = [
    "date",
    "type",
    "invoice",
    "customer",
    "method",
    "status",
    "currency",
    "amount",
    "fee",
    "net",
    "fee_currency",
    "reference",
    # When it was recorded, ISO 8601 with the business's UTC offset (`date` is that day).
    "recorded_at",
]


@require_safe
@staff_required
def ledger(request: HttpRequest) -> HttpResponse:
    ledger_filter = LedgerFilter.from_query(request.GET)
    rows, has_next = page_of(ledger_filter)
    customer = (
        Customer.objects.filter(pk=ledger_filter.customer_id).first()
        if ledger_filter.customer_id
        else None
    )
    context = {
        "filter": ledger_filter,
        "rows": rows,
        "has_next": has_next,
        "totals": ledger_filter.totals(),
        "customer": customer,
        "kinds": KINDS,
        "methods": METHODS,
        "statuses": STATUSES,
        "export_query": ledger_filter.url_query(page=1),
        "next_query": ledger_filter.url_query(page=ledger_filter.page + 1),
        "previous_query": ledger_filter.url_query(page=ledger_filter.page - 1),
    }
    template = "payments/ledger.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


def _money(amount: int | None, currency: str) -> str:
    return "" if amount is None or not currency else str(to_major(amount, currency))


def _row(row: dict[str, Any], zone: tzinfo) -> list[str]:
    currency, fee_currency = row["entry_currency"], row["fee_currency"]
    return [
        row["booked_on"].isoformat() if row["booked_on"] else "",
        row["entry_kind"],
        cell(row["invoice_number"] or ""),
        cell(row["customer_name"] or ""),
        cell(method_label(row)),
        status_label(row),
        currency,
        _money(row["entry_amount"], currency),
        _money(row["fee"], fee_currency),
        _money(row["net"], fee_currency),
        fee_currency,
        cell(row["ref"] or ""),
        timezones.iso(row["booked_at"], zone),
    ]


def _rows(entries: Iterator[dict[str, Any]], zone: tzinfo) -> Iterator[list[str]]:
    for entry in entries:
        yield _row(entry, zone)


@require_safe
@staff_required
def ledger_csv(request: HttpRequest) -> StreamingHttpResponse:
    found = LedgerFilter.from_query(request.GET)
    entries = found.entries().iterator(chunk_size=2000)
    response = StreamingHttpResponse(
        csv_lines(HEADER, _rows(entries, found.zone)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="payments-{stamp}.csv"'
    return response
