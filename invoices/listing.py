"""The staff invoice list: filters, sort and paging read from the URL.

Shared by the dashboard, the CSV export and a customer's page, so a link, the
back button and an export all mean the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import BigIntegerField, Case, F, Q, QuerySet, Sum, Value, When
from django.http import QueryDict
from django.utils import timezone

from invoices.models import Invoice
from invoices.totals import Balance, dashboard_totals
from portal.keyset import FIRST_PAGE, KeysetPage, Position, numbered_page, paginate, read_position
from portal.params import MAX_PAGE, query_int, query_text
from portal.timezones import business_today

PAGE_SIZE = 25

TABS = [
    ("all", "All"),
    ("draft", "Draft"),
    ("open", "Open"),
    ("overdue", "Overdue"),
    # A bank debit on its way: days of neither open nor paid, shown as its own state.
    ("processing", "Processing"),
    ("paid", "Paid"),
    ("void", "Void"),
    ("uncollectible", "Uncollectible"),
]

# Each sort ends with a unique key so pages never overlap or skip rows.
NEWEST_FIRST = ("-created_at", "-id")
SORTS: dict[str, tuple[str, ...]] = {
    "number": ("number", "id"),
    "customer": ("customer__name", "id"),
    "issue_date": ("issue_date", "id"),
    "due_date": ("due_date", "id"),
    "total": ("total", "id"),
    "status": ("status", "id"),
    # What is asked for now (`Invoice.amount_owed`): a void or uncollectible one owes nothing.
    "amount_due": ("owed", "id"),
}
SORT_LABELS = {
    "number": "Number",
    "customer": "Customer",
    "status": "Status",
    "issue_date": "Issued",
    "due_date": "Due",
    "total": "Total",
    "amount_due": "Amount due",
}
# Sort keys that are annotations, not fields, with their types (for page tokens).
ANNOTATIONS = {"owed": BigIntegerField()}
OWED = Case(
    When(status__in=[Invoice.Status.VOID, Invoice.Status.UNCOLLECTIBLE], then=Value(0)),
    default=F("amount_due"),
    output_field=BigIntegerField(),
)

# Date-range filters: (parameter, label, lookup).
DATE_FILTERS = (
    ("issued_from", "Issued from", "issue_date__gte"),
    ("issued_to", "Issued to", "issue_date__lte"),
    ("due_from", "Due from", "due_date__gte"),
    ("due_to", "Due to", "due_date__lte"),
)
DATE_RANGES = (("issued_from", "issued_to"), ("due_from", "due_to"))


def read_dates(query: QueryDict) -> tuple[dict[str, date], tuple[str, ...]]:
    """The date filters the URL gives, and a message for each one that cannot apply.

    A value that is not a real YYYY-MM-DD date, or a range that ends before it
    starts, is left out of the filter (the list stays as it was) and said why.
    """
    dates: dict[str, date] = {}
    errors: list[str] = []
    labels = {name: label for name, label, _ in DATE_FILTERS}
    for name, label, _ in DATE_FILTERS:
        raw = query.get(name, "").strip()
        if not raw:
            continue
        try:
            if len(raw) != 10 or not raw.isascii():
                raise ValueError(raw)
            dates[name] = date.fromisoformat(raw)
        except ValueError:
            errors.append(f"“{label}” must be a date written as YYYY-MM-DD; it was left out.")
    for start, end in DATE_RANGES:
        if start in dates and end in dates and dates[start] > dates[end]:
            errors.append(f"“{labels[start]}” is after “{labels[end]}”; the range was left out.")
            del dates[start], dates[end]
    return dates, tuple(errors)


@dataclass(frozen=True)
class InvoiceFilter:
    q: str = ""
    status: str = "all"
    sort: str = ""  # "" = newest first; "-total" = descending
    page: int = 1  # `?page=N` links from before keyset paging still work
    customer_id: int | None = None
    position: Position = FIRST_PAGE
    dates: tuple[tuple[str, date], ...] = ()
    errors: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query: QueryDict) -> InvoiceFilter:
        status = query.get("status", "all")
        sort = query.get("sort", "")
        sort = sort if sort.removeprefix("-") in SORTS else ""
        dates, errors = read_dates(query)
        return cls(
            q=query_text(query, "q"),
            status=status if status in dict(TABS) else "all",
            sort=sort,
            page=query_int(query, "page", default=1, maximum=MAX_PAGE, lenient=True) or 1,
            customer_id=query_int(query, "customer"),
            position=read_position(query, Invoice, order_keys(sort), ANNOTATIONS),
            dates=tuple(dates.items()),
            errors=errors,
        )

    def date_value(self, name: str) -> str:
        """A date filter as its input shows it ("" when not applied)."""
        value = dict(self.dates).get(name)
        return value.isoformat() if value else ""

    @property
    def date_fields(self) -> list[tuple[str, str, str]]:
        """(parameter, label, value) of each date input, for the filter form."""
        return [(name, label, self.date_value(name)) for name, label, _ in DATE_FILTERS]

    def queryset(self, today: date | None = None) -> QuerySet[Invoice]:
        invoices = Invoice.objects.select_related("customer")
        if self.status == "overdue":
            invoices = invoices.overdue(today)
        elif self.status == "processing":
            invoices = invoices.filter(
                status=Invoice.Status.OPEN, payment_state=Invoice.PaymentState.PROCESSING
            )
        elif self.status != "all":
            invoices = invoices.filter(status=self.status)
        if self.customer_id:
            invoices = invoices.filter(customer_id=self.customer_id)
        invoices = invoices.search(self.q)
        lookups = {name: lookup for name, _, lookup in DATE_FILTERS}
        if self.dates:
            invoices = invoices.filter(**{lookups[name]: value for name, value in self.dates})
        if self.sort.removeprefix("-") == "amount_due":
            invoices = invoices.annotate(owed=OWED)
        if self.sort:
            invoices = invoices.order_by(*order_keys(self.sort))
        return invoices

    def params(self, **changes: Any) -> dict[str, str]:
        """The filter's parameters; a page position only when `changes` gives one (a
        new tab, sort or export starts from the first page)."""
        values = {
            "q": self.q,
            "status": self.status,
            "sort": self.sort,
            "customer": self.customer_id,
            **{name: value.isoformat() for name, value in self.dates},
            **changes,
        }
        defaults = {"status": "all", "page": 1}
        return {
            key: str(value)
            for key, value in values.items()
            if value not in ("", None) and defaults.get(key) != value
        }

    def url_query(self, **changes: Any) -> str:
        query = QueryDict(mutable=True)
        query.update(self.params(**changes))
        encoded = query.urlencode()
        return f"?{encoded}" if encoded else "?"

    def sort_query(self, key: str) -> str:
        """The link of a column header: ascending first, then descending."""
        sort = f"-{key}" if self.sort == key else key
        return self.url_query(sort=sort, page=1)

    def sort_state(self, key: str) -> str:
        """The column's `aria-sort`: "ascending", "descending" or "" (not sorted by it)."""
        if self.sort == key:
            return "ascending"
        if self.sort == f"-{key}":
            return "descending"
        return ""


def order_keys(sort: str) -> tuple[str, ...]:
    if not sort:
        return NEWEST_FIRST
    keys = SORTS[sort.removeprefix("-")]
    return tuple(f"-{key}" for key in keys) if sort.startswith("-") else keys


@dataclass
class Page:
    keyset: KeysetPage
    filter: InvoiceFilter

    @property
    def items(self) -> list[Invoice]:
        return self.keyset.items

    @property
    def ids(self) -> list[str]:
        """The rows' ids as text (a template would localize each number on its way out)."""
        return [str(invoice.pk) for invoice in self.keyset.items]

    @property
    def has_previous(self) -> bool:
        return self.keyset.has_previous

    @property
    def has_next(self) -> bool:
        return self.keyset.has_next

    @property
    def first_query(self) -> str:
        return self.filter.url_query()

    @property
    def next_query(self) -> str:
        return self.filter.url_query(after=self.keyset.last_token)

    @property
    def previous_query(self) -> str:
        if not self.keyset.first_token:
            return self.first_query
        return self.filter.url_query(before=self.keyset.first_token)

    @property
    def last_query(self) -> str:
        return self.filter.url_query(last=1)


def page_of(
    invoice_filter: InvoiceFilter, size: int = PAGE_SIZE, fields: tuple[str, ...] = ()
) -> Page:
    """One page in one query, without a COUNT(*) (one row more says if a next page exists).

    `fields`: load only these (and the sort's), for a list that shows a few columns.
    """
    keys = order_keys(invoice_filter.sort)
    invoices = invoice_filter.queryset()
    if fields:
        sort_fields = (key.removeprefix("-") for key in keys)
        invoices = invoices.only(*fields, *(f for f in sort_fields if f not in ANNOTATIONS))
    if invoice_filter.page > 1 and not invoice_filter.position.direction:
        keyset = numbered_page(invoices, keys, invoice_filter.page, size)
    else:
        keyset = paginate(invoices, keys, invoice_filter.position, size)
    return Page(keyset=keyset, filter=invoice_filter)


def balances(invoices: QuerySet[Invoice], paid_since: datetime | None = None) -> list[Balance]:
    """Per currency, in one query: open amount due, the overdue part, and paid totals.

    `paid` counts invoices paid on or after `paid_since` (all paid ones without it).
    """
    today = business_today()
    open_q = Q(status=Invoice.Status.OPEN)
    paid_q = Q(status=Invoice.Status.PAID)
    if paid_since is not None:
        paid_q &= Q(paid_at__gte=paid_since)
    rows = (
        invoices.filter(open_q | paid_q)
        .order_by()
        .values("currency")
        .annotate(
            outstanding=Sum("amount_due", filter=open_q, default=0),
            overdue=Sum("amount_due", filter=open_q & Q(due_date__lt=today), default=0),
            paid=Sum("amount_paid", filter=paid_q, default=0),
        )
        .order_by("currency")
    )
    return [Balance(**row) for row in rows]


def dashboard_balances(paid_since: datetime) -> list[Balance]:
    """`balances()` of every invoice, from the maintained buckets (invoices/totals.py)."""
    # Overdue is judged in the business's calendar; the paid buckets are days in
    # settings.TIME_ZONE (invoices/totals.py), so the month they start from is too.
    return dashboard_totals(business_today(), timezone.localdate(paid_since))
