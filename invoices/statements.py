"""A customer's statement of account for a date range, per currency.

Balance = finalized invoices (not void; an invoice from a quote less the deposit it
deducts, which its deposit invoice charged) - credit notes - payments received + refunds
paid out - write-offs.
A write-off is an uncollectible invoice's unpaid rest (its `amount_due`), dated when it
was marked uncollectible: the customer is no longer asked for it, so, as on their
account page and in the staff's customer list, it is not part of the balance; the
statement shows it as a line of its own instead of leaving it out silently. A payment
recorded later reopens the invoice and the write-off line goes away.
The opening balance sums everything before the range; then each invoice, credit note,
payment, refund and write-off in the range in date order with a running balance. Ten
queries whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import DateTimeField, F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from customers.models import Customer
from invoices.documents import pdf as documents
from invoices.language import in_customer_language
from invoices.models import (
    BusinessProfile,
    CreditNote,
    Invoice,
    InvoiceActivity,
    Payment,
    Refund,
)
from invoices.quote_records import invoiced_amount

INVOICE, CREDIT_NOTE, PAYMENT, REFUND = "invoice", "credit_note", "payment", "refund"
WRITE_OFF = "write_off"


@dataclass
class Line:
    day: date
    kind: str
    reference: str
    charge: int  # what the customer owes more
    credit: int  # what the customer paid
    balance: int = 0


@dataclass
class Account:
    currency: str
    opening: int = 0
    lines: list[Line] = field(default_factory=list)

    @property
    def charges(self) -> int:
        return sum(line.charge for line in self.lines)

    @property
    def credits(self) -> int:
        return sum(line.credit for line in self.lines)

    @property
    def closing(self) -> int:
        return self.opening + self.charges - self.credits


@dataclass(frozen=True)
class Statement:
    customer: Customer
    start: date
    end: date
    accounts: list[Account]


def _invoices(customer: Customer) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(customer=customer)
        .exclude(status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID))
        .annotate(day=F("issue_date"), charge=invoiced_amount())
        .order_by()
    )


def _credit_notes(customer: Customer) -> QuerySet[CreditNote]:
    return (
        CreditNote.objects.filter(invoice__customer=customer)
        .annotate(day=TruncDate("created_at"))
        .order_by()
    )


def _payments(customer: Customer) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(invoice__customer=customer, status=Payment.Status.SUCCEEDED)
        .annotate(day=Coalesce("received_on", TruncDate("created_at")))
        .order_by()
    )


def _refunds(customer: Customer) -> QuerySet[Refund]:
    return (
        Refund.objects.filter(payment__invoice__customer=customer, status=Refund.Status.SUCCEEDED)
        .annotate(day=TruncDate("created_at"))
        .order_by()
    )


def _write_offs(customer: Customer) -> QuerySet[Invoice]:
    """Uncollectible invoices with an unpaid rest, on the day they were last marked so."""
    marked = (
        InvoiceActivity.objects.filter(
            invoice=OuterRef("pk"), kind=InvoiceActivity.Kind.UNCOLLECTIBLE
        )
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    return (
        Invoice.objects.filter(
            customer=customer, status=Invoice.Status.UNCOLLECTIBLE, amount_due__gt=0
        )
        .annotate(
            day=TruncDate(Coalesce(Subquery(marked, output_field=DateTimeField()), "updated_at"))
        )
        .order_by()
    )


def _before(rows: QuerySet[Any], start: date, column: str) -> dict[str, int]:
    sums = rows.filter(day__lt=start).values("currency").annotate(amount=Sum(column))
    return {row["currency"]: int(row["amount"] or 0) for row in sums}


def statement(customer: Customer, start: date, end: date) -> Statement:
    accounts: dict[str, Account] = {}

    def account(currency: str) -> Account:
        return accounts.setdefault(currency, Account(currency))

    for sign, rows, column in (
        (1, _invoices(customer), "charge"),
        (-1, _credit_notes(customer), "amount"),
        (-1, _payments(customer), "amount"),
        (1, _refunds(customer), "amount"),
        (-1, _write_offs(customer), "amount_due"),
    ):
        for currency, amount in _before(rows, start, column).items():
            account(currency).opening += sign * amount
    in_range = {"day__gte": start, "day__lte": end}
    for invoice in (
        _invoices(customer).filter(**in_range).values("day", "number", "currency", "charge", "id")
    ):
        account(invoice["currency"]).lines.append(
            Line(invoice["day"], INVOICE, invoice["number"], invoice["charge"], 0)
        )
    for note in (
        _credit_notes(customer).filter(**in_range).values("day", "currency", "amount", "number")
    ):
        account(note["currency"]).lines.append(
            Line(note["day"], CREDIT_NOTE, note["number"], 0, note["amount"])
        )
    for payment in (
        _payments(customer)
        .filter(**in_range)
        .values("day", "currency", "amount", "id", "invoice__number")
    ):
        account(payment["currency"]).lines.append(
            Line(payment["day"], PAYMENT, payment["invoice__number"], 0, payment["amount"])
        )
    for refund in (
        _refunds(customer)
        .filter(**in_range)
        .values("day", "currency", "amount", "id", "payment__invoice__number")
    ):
        account(refund["currency"]).lines.append(
            Line(refund["day"], REFUND, refund["payment__invoice__number"], refund["amount"], 0)
        )
    for written in (
        _write_offs(customer).filter(**in_range).values("day", "currency", "amount_due", "number")
    ):
        account(written["currency"]).lines.append(
            Line(written["day"], WRITE_OFF, written["number"], 0, written["amount_due"])
        )
    order = {INVOICE: 0, CREDIT_NOTE: 1, PAYMENT: 2, REFUND: 3, WRITE_OFF: 4}
    for acc in accounts.values():
        acc.lines.sort(key=lambda line: (line.day, order[line.kind], line.reference))
        balance = acc.opening
        for line in acc.lines:
            balance += line.charge - line.credit
            line.balance = balance
    found = [accounts[c] for c in sorted(accounts) if accounts[c].opening or accounts[c].lines]
    return Statement(customer=customer, start=start, end=end, accounts=found)


def statement_pdf(statement: Statement) -> bytes:
    """In the customer's language, like their invoices: it is the customer's document."""
    profile = BusinessProfile.load()
    context = {
        "business": profile,
        "logo_src": documents.logo_data_uri(profile),
        "customer": statement.customer,
        "statement": statement,
        "footer": profile.default_footer,
    }
    with in_customer_language(statement.customer):
        return documents.render_pdf("documents/statement.html", context)


def statement_filename(statement: Statement) -> str:
    return f"statement-{statement.customer.pk}-{statement.start}-{statement.end}.pdf"
