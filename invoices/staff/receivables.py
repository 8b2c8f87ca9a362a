"""Who owes what for how long, and what was invoiced and collected month by month.

Everything is summed in the database, a fixed number of queries whatever the
number of invoices; `today` is passed in so a report is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth

from invoices.models import Invoice, Payment
from invoices.quote_records import invoiced_amount

BUCKETS = [
    ("current", "Current"),
    ("days_1_30", "1-30 days"),
    ("days_31_60", "31-60 days"),
    ("days_61_90", "61-90 days"),
    ("over_90", "Over 90 days"),
]
# The per-customer table shows the largest balances; the totals always count everyone.
MAX_CUSTOMER_ROWS = 500


def bucket_filters(today: date) -> dict[str, Q]:
    """Days past due = today - due date; due today (or no due date) is current."""

    def due_before(days: int) -> date:
        return today - timedelta(days=days)

    return {
        "current": Q(due_date__isnull=True) | Q(due_date__gte=today),
        "days_1_30": Q(due_date__lt=today, due_date__gte=due_before(30)),
        "days_31_60": Q(due_date__lt=due_before(30), due_date__gte=due_before(60)),
        "days_61_90": Q(due_date__lt=due_before(60), due_date__gte=due_before(90)),
        "over_90": Q(due_date__lt=due_before(90)),
    }


@dataclass(frozen=True)
class AgingRow:
    currency: str
    amounts: tuple[int, ...]  # in the order of BUCKETS
    customer_id: int | None = None
    customer_name: str = ""

    @property
    def total(self) -> int:
        return sum(self.amounts)

    @property
    def cells(self) -> list[tuple[str, int]]:
        return [(label, amount) for (_, label), amount in zip(BUCKETS, self.amounts, strict=True)]


@dataclass(frozen=True)
class Aging:
    today: date
    totals: list[AgingRow]  # one per currency
    customers: list[AgingRow]  # per customer and currency, largest first
    truncated: bool


def _sums(today: date) -> dict[str, Any]:
    return {key: Sum("amount_due", filter=q, default=0) for key, q in bucket_filters(today).items()}


def _row(values: dict[str, Any], **extra: Any) -> AgingRow:
    amounts = tuple(int(values[key]) for key, _ in BUCKETS)
    return AgingRow(currency=values["currency"], amounts=amounts, **extra)


def aging(today: date) -> Aging:
    """Open invoices' amounts due by how late they are (two queries)."""
    owed = Invoice.objects.filter(status=Invoice.Status.OPEN, amount_due__gt=0).order_by()
    totals = [
        _row(values)
        for values in owed.values("currency").annotate(**_sums(today)).order_by("currency")
    ]
    per_customer = (
        owed.values("currency", "customer_id", "customer__name")
        .annotate(**_sums(today), owed=Sum("amount_due"))
        .order_by("currency", "-owed", "customer__name", "customer_id")[: MAX_CUSTOMER_ROWS + 1]
    )
    customers = [
        _row(v, customer_id=v["customer_id"], customer_name=v["customer__name"])
        for v in per_customer
    ]
    return Aging(
        today=today,
        totals=totals,
        customers=customers[:MAX_CUSTOMER_ROWS],
        truncated=len(customers) > MAX_CUSTOMER_ROWS,
    )


@dataclass(frozen=True)
class Month:
    start: date
    invoiced: int
    collected: int


def last_months(today: date, count: int = 12) -> list[date]:
    """The first day of each of the last `count` months, this one last."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def monthly(today: date) -> dict[str, list[Month]]:
    """Per currency: invoiced (finalized, not void, by issue date) and collected
    (payments received, by the day received) in each of the last 12 months (two queries)."""
    months = last_months(today)
    start = months[0]
    invoiced = (
        Invoice.objects.filter(issue_date__gte=start, issue_date__lte=today)
        .exclude(status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID))
        .order_by()
        .annotate(month=TruncMonth("issue_date"))
        .values("currency", "month")
        .annotate(amount=Sum(invoiced_amount()))
    )
    collected = (
        Payment.objects.filter(
            status=Payment.Status.SUCCEEDED, received_on__gte=start, received_on__lte=today
        )
        .order_by()
        .annotate(month=TruncMonth("received_on"))
        .values("currency", "month")
        .annotate(amount=Sum("amount"))
    )
    found: dict[str, dict[date, list[int]]] = {}
    for column, rows in ((0, invoiced), (1, collected)):
        for row in rows:
            by_month = found.setdefault(row["currency"], {})
            by_month.setdefault(row["month"], [0, 0])[column] += int(row["amount"] or 0)
    return {
        currency: [Month(m, *by_month.get(m, [0, 0])) for m in months]
        for currency, by_month in sorted(found.items())
    }
