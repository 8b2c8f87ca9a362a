"""The payments ledger: every payment and refund as one list, read from the URL.

Payments and refunds are two tables; the ledger is their UNION, filtered on
each side and ordered and paged in the database, so a page is one query
whatever the number of rows. Refunds are negative amounts, so a column sums
to what was kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any

from django.db.models import (
    CharField,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.http import QueryDict

from invoices.models import Payment, Refund
from portal.params import MAX_PAGE, query_date, query_int, query_text
from portal.timezones import current_name, zone_named

PAGE_SIZE = 50

KINDS = {"payment": "Payments", "refund": "Refunds"}
METHODS = dict(Payment.Method.choices)
STATUSES = {**dict(Payment.Status.choices), **dict(Refund.Status.choices)}
# The columns of one ledger row, the same on both sides of the UNION.
COLUMNS = (
    "entry_kind",
    "entry_id",
    "booked_on",
    "booked_at",
    "invoice_pk",
    "invoice_number",
    "customer_pk",
    "customer_name",
    "pay_method",
    "entry_status",
    "entry_amount",
    "entry_currency",
    "fee",
    "net",
    "fee_currency",
    "brand",
    "last4",
    "ref",
)


@dataclass(frozen=True)
class LedgerFilter:
    start: date | None = None
    end: date | None = None
    kind: str = ""
    method: str = ""
    status: str = ""
    customer_id: int | None = None
    q: str = ""
    page: int = 1
    # The day a payment is booked on is the business's day (`portal.timezones`).
    zone: tzinfo = field(default_factory=lambda: zone_named(current_name()), compare=False)

    @classmethod
    def from_query(cls, query: QueryDict) -> LedgerFilter:
        kind, method, status = (query.get(k, "") for k in ("kind", "method", "status"))
        return cls(
            start=query_date(query, "start"),
            end=query_date(query, "end"),
            kind=kind if kind in KINDS else "",
            method=method if method in METHODS else "",
            status=status if status in STATUSES else "",
            customer_id=query_int(query, "customer"),
            q=query_text(query, "q"),
            page=query_int(query, "page", default=1, maximum=MAX_PAGE, lenient=True) or 1,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        values = {
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
            "kind": self.kind,
            "method": self.method,
            "status": self.status,
            "customer": self.customer_id,
            "q": self.q,
            "page": self.page,
            **changes,
        }
        return {
            k: str(v) for k, v in values.items() if v not in ("", None) and (k, v) != ("page", 1)
        }

    def url_query(self, **changes: Any) -> str:
        query = QueryDict(mutable=True)
        query.update(self.params(**changes))
        return f"?{query.urlencode()}"

    # -- the two sides -----------------------------------------------------------

    def _common(self, prefix: str) -> Q:
        """The filters both sides share; `prefix` leads from the row to its payment."""
        q = Q()
        if self.method:
            q &= Q(**{f"{prefix}method": self.method})
        if self.status:
            q &= Q(status=self.status)
        if self.customer_id:
            q &= Q(**{f"{prefix}invoice__customer_id": self.customer_id})
        if self.q:
            q &= (
                Q(**{f"{prefix}invoice__number__icontains": self.q})
                | Q(**{f"{prefix}invoice__customer__name__icontains": self.q})
                | Q(**{f"{prefix}invoice__customer__email__icontains": self.q})
            )
        return q

    def _dated(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        if self.start:
            rows = rows.filter(day__gte=self.start)
        if self.end:
            rows = rows.filter(day__lte=self.end)
        return rows

    def payments(self) -> QuerySet[Payment]:
        # An offline payment is booked on the day it was received, a card one on
        # the day Stripe said so; one not (yet) received on the day it began.
        day = TruncDate("created_at", tzinfo=self.zone)
        rows = Payment.objects.annotate(day=Coalesce("received_on", day))
        return self._dated(rows.filter(self._common("")))

    def refunds(self) -> QuerySet[Refund]:
        rows = Refund.objects.annotate(day=TruncDate("created_at", tzinfo=self.zone))
        return self._dated(rows.filter(self._common("payment__")))

    def entries(self) -> QuerySet[Any]:
        """Every matching row as a dict of COLUMNS, newest first (one query)."""
        payments = (
            self.payments()
            .order_by()
            .values(
                entry_kind=Value("payment", output_field=CharField()),
                entry_id=F("id"),
                booked_on=F("day"),
                booked_at=F("created_at"),
                invoice_pk=F("invoice_id"),
                invoice_number=F("invoice__number"),
                customer_pk=F("invoice__customer_id"),
                customer_name=F("invoice__customer__name"),
                pay_method=F("method"),
                entry_status=F("status"),
                entry_amount=F("amount"),
                entry_currency=F("currency"),
                fee=F("stripe_fee"),
                net=F("stripe_net"),
                fee_currency=F("balance_currency"),
                brand=F("card_brand"),
                last4=F("card_last4"),
                ref=F("reference"),
            )
        )
        refunds = (
            self.refunds()
            .order_by()
            .values(
                entry_kind=Value("refund", output_field=CharField()),
                entry_id=F("id"),
                booked_on=F("day"),
                booked_at=F("created_at"),
                invoice_pk=F("payment__invoice_id"),
                invoice_number=F("payment__invoice__number"),
                customer_pk=F("payment__invoice__customer_id"),
                customer_name=F("payment__invoice__customer__name"),
                pay_method=F("payment__method"),
                entry_status=F("status"),
                entry_amount=-F("amount"),
                entry_currency=F("currency"),
                # As Stripe reports them (the refund's balance transaction): net is negative.
                fee=F("stripe_fee"),
                net=F("stripe_net"),
                fee_currency=F("balance_currency"),
                brand=F("payment__card_brand"),
                last4=F("payment__card_last4"),
                ref=F("stripe_refund_id"),
            )
        )
        if self.kind == "payment":
            rows = payments
        elif self.kind == "refund":
            rows = refunds
        else:
            rows = payments.union(refunds, all=True)
        return rows.order_by("-booked_on", "-booked_at", "entry_kind", "-entry_id")

    def totals(self) -> list[Totals]:
        """Per currency: money received, refunded, Stripe's fees, and what is left (two queries)."""
        found: dict[str, Totals] = {}
        if self.kind != "refund":
            ok = Q(status=Payment.Status.SUCCEEDED)
            for row in (
                self.payments()
                .order_by()
                .values("currency")
                .annotate(
                    received=Sum("amount", filter=ok, default=0),
                    # Only fees charged in the payment's own currency add up with it.
                    fees=Sum(
                        "stripe_fee", filter=ok & Q(balance_currency=F("currency")), default=0
                    ),
                )
            ):
                found[row["currency"]] = Totals(row["currency"], row["received"], 0, row["fees"])
        if self.kind != "payment":
            for row in (
                self.refunds()
                .filter(status=Refund.Status.SUCCEEDED)
                .order_by()
                .values("currency")
                .annotate(
                    refunded=Sum("amount", default=0),
                    # A refund's own fee (Stripe may charge one, or give part of the
                    # payment's back as a negative fee), again only in its own currency.
                    fees=Sum("stripe_fee", filter=Q(balance_currency=F("currency")), default=0),
                )
            ):
                totals = found.get(row["currency"]) or Totals(row["currency"], 0, 0, 0)
                found[row["currency"]] = Totals(
                    totals.currency, totals.received, row["refunded"], totals.fees + row["fees"]
                )
        return [found[c] for c in sorted(found) if found[c].any]


@dataclass(frozen=True)
class Totals:
    currency: str
    received: int
    refunded: int
    fees: int

    @property
    def net(self) -> int:
        return self.received - self.refunded - self.fees

    @property
    def any(self) -> bool:
        return bool(self.received or self.refunded or self.fees)


def method_label(row: dict[str, Any]) -> str:
    label = str(METHODS.get(row["pay_method"], row["pay_method"]))
    if row["brand"]:
        return f"{label} ({row['brand'].title()} ···· {row['last4']})"
    return label


def status_label(row: dict[str, Any]) -> str:
    return str(STATUSES.get(row["entry_status"], row["entry_status"]))


def page_of(ledger: LedgerFilter, size: int = PAGE_SIZE) -> tuple[list[dict[str, Any]], bool]:
    """One page and whether another follows (one row more is fetched, no COUNT)."""
    start = (ledger.page - 1) * size
    rows = list(ledger.entries()[start : start + size + 1])
    for row in rows:
        row["method_label"] = method_label(row)
        row["status_label"] = status_label(row)
        row["customer_query"] = ledger.url_query(customer=row["customer_pk"], page=1)
    return rows[:size], len(rows) > size
