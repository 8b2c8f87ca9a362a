"""Customers with what they owe: the customer list's figures, its sort and its CSV.

A customer may owe in several currencies, and amounts in different currencies
never add up: each row carries one balance per currency (one query for the
page). Sorting by an amount sorts within one currency, said beside the header:
the one chosen (`?currency=EUR`, which also narrows the figures to it) or the
business's default.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.http import HttpRequest, QueryDict, StreamingHttpResponse
from django.views.decorators.http import require_safe

from customers.models import Customer
from invoices.models import BusinessProfile, Invoice
from portal.access import staff_required
from portal.money import CURRENCIES, to_major
from portal.params import query_text
from portal.spreadsheet import cell, csv_lines
from portal.timezones import business_today

# Each sort ends with the id so pages never overlap.
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "outstanding": ("outstanding", "name", "id"),
    "overdue": ("overdue", "name", "id"),
    "invoices": ("invoice_count", "name", "id"),
    "last_invoice": ("last_invoice", "name", "id"),
}
SORT_LABELS = {
    "name": "Name",
    "outstanding": "Outstanding",
    "overdue": "Overdue",
    "invoices": "Invoices",
    "last_invoice": "Last invoice",
}


def read_sort(query: Any) -> str:
    sort = query.get("sort", "")
    return sort if sort.removeprefix("-") in SORTS else ""


def read_currency(query: Any) -> str:
    """The currency the figures are narrowed to ("" for every currency)."""
    currency = str(query.get("currency", "")).upper()
    return currency if currency in CURRENCIES else ""


def sort_currency(chosen: str) -> str:
    """What amounts sort in: the chosen currency, else the business's default."""
    return chosen or BusinessProfile.load().default_currency


def annotate_figures(
    customers: QuerySet[Customer], today: date, currency: str | None = None
) -> QuerySet[Customer]:
    """Invoice count, last invoice date and (in `currency`, the default one when None)
    outstanding and overdue amounts, annotated in the list's own query."""
    currency = currency or sort_currency("")
    issued = ~Q(invoices__status=Invoice.Status.DRAFT)
    owed = Q(invoices__status=Invoice.Status.OPEN, invoices__currency=currency)
    return customers.annotate(
        invoice_count=Count("invoices", filter=issued),
        last_invoice=Max("invoices__issue_date", filter=issued),
        outstanding=Sum("invoices__amount_due", filter=owed, default=0),
        overdue=Sum(
            "invoices__amount_due", filter=owed & Q(invoices__due_date__lt=today), default=0
        ),
    )


def ordered(customers: QuerySet[Customer], sort: str) -> QuerySet[Customer]:
    keys = SORTS[sort.removeprefix("-")] if sort else SORTS["name"]
    # Customers never invoiced go last either way, on every database.
    if sort.startswith("-"):
        return customers.order_by(*(F(key).desc(nulls_last=True) for key in keys))
    return customers.order_by(*(F(key).asc(nulls_last=True) for key in keys))


def with_figures(
    customers: QuerySet[Customer], sort: str, today: date, currency: str = ""
) -> QuerySet[Customer]:
    return ordered(annotate_figures(customers, today, sort_currency(currency)), sort)


@dataclass
class NumberedPage:
    items: list[Customer]
    has_previous: bool
    has_next: bool


def numbered(
    customers: QuerySet[Customer], sort: str, number: int, size: int, filters: dict[str, str]
) -> tuple[NumberedPage, dict[str, str]]:
    """One page by OFFSET (bounded by MAX_PAGE) and the pager's links."""
    start = (number - 1) * size
    rows = list(ordered(customers, sort)[start : start + size + 1])
    page = NumberedPage(rows[:size], number > 1, len(rows) > size)

    def query(page_number: int) -> str:
        encoded = QueryDict(mutable=True)
        encoded.update({**filters, "page": str(page_number)})
        return "?" + encoded.urlencode()

    links = {}
    if page.has_previous:
        links["first"], links["previous"] = query(1), query(number - 1)
    if page.has_next:
        links["next"] = query(number + 1)
    return page, links


@dataclass(frozen=True)
class Owed:
    currency: str
    outstanding: int
    overdue: int


def balances_of(
    customer_ids: Iterable[int], today: date, currency: str = ""
) -> dict[int, list[Owed]]:
    """Per customer, per currency (only `currency` when given): amount due on open invoices
    and its overdue part (one query)."""
    open_q = Q(status=Invoice.Status.OPEN, amount_due__gt=0)
    if currency:
        open_q &= Q(currency=currency)
    rows = (
        Invoice.objects.filter(open_q, customer_id__in=list(customer_ids))
        .order_by()
        .values("customer_id", "currency")
        .annotate(
            outstanding=Sum("amount_due"),
            overdue=Sum("amount_due", filter=Q(due_date__lt=today), default=0),
        )
        .order_by("customer_id", "currency")
    )
    found: dict[int, list[Owed]] = {}
    for row in rows:
        found.setdefault(row["customer_id"], []).append(
            Owed(row["currency"], row["outstanding"], row["overdue"])
        )
    return found


HEADER = [
    "name",
    "email",
    "company",
    "invoice_count",
    "last_invoice_date",
    "currency",
    "outstanding",
    "overdue",
]

CHUNK = 500


def _csv_rows(
    customers: QuerySet[Customer], today: date, currency: str = ""
) -> Iterator[list[str]]:
    """One row per customer and currency owed (one row with no currency when nothing is)."""
    batch: list[Customer] = []
    for customer in customers.iterator(chunk_size=CHUNK):
        batch.append(customer)
        if len(batch) == CHUNK:
            yield from _batch_rows(batch, today, currency)
            batch = []
    yield from _batch_rows(batch, today, currency)


def _batch_rows(batch: list[Customer], today: date, currency: str) -> Iterator[list[str]]:
    if not batch:
        return
    owed = balances_of((c.pk for c in batch), today, currency)
    for customer in batch:
        head = [
            cell(customer.name),
            cell(customer.email),
            cell(customer.company),
            str(customer.invoice_count),
            customer.last_invoice.isoformat() if customer.last_invoice else "",
        ]
        amounts = owed.get(customer.pk) or [None]
        for o in amounts:
            if o is None:
                yield [*head, "", "0", "0"]
            else:
                c = o.currency
                yield [*head, c, str(to_major(o.outstanding, c)), str(to_major(o.overdue, c))]


@require_safe
@staff_required
def export_customers(request: HttpRequest) -> StreamingHttpResponse:
    today = business_today()
    customers = Customer.objects.search(query_text(request.GET, "q"))
    archived = request.GET.get("archived") == "1"
    customers = customers.filter(archived_at__isnull=False) if archived else customers.active()
    currency = read_currency(request.GET)
    rows = with_figures(customers, read_sort(request.GET), today, currency)
    response = StreamingHttpResponse(
        csv_lines(HEADER, _csv_rows(rows, today, currency)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="customers-{today.isoformat()}.csv"'
    return response
