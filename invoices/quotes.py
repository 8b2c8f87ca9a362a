"""Quote workflows: draft, send, the customer's answer, expiry, and the invoice it becomes.

Each is a keyword-only function that locks the quote row, writes the trail
(`QuoteActivity`) and queues its email inside the same transaction, as the
invoice workflows in `invoices.services` do. Quotes are numbered from their own
gapless sequence (`Q-0001`) when first sent.

Versions: a sent quote may still be edited; every edit that changes what the
customer reads (lines, totals, deposit, expiry) makes a new version, and an
answer names the version and digest it was given, so an accept form opened
before the change is refused instead of accepting terms nobody showed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from invoices.models import Quote, QuoteActivity, QuoteLine
from invoices.numbering import take_next_number
from invoices.outbox import queue_customer_email
from portal.money import LineInput, compute_totals, minimum_charge, round_half_up, to_major

PREFIX = "Q-"


class QuoteStateError(Exception):
    """An action the quote's state does not allow; the message is for people."""


def record(quote: Quote, kind: str, *, actor: Any = None, message: str = "", **data: Any) -> None:
    QuoteActivity.objects.create(
        quote=quote,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        message=message[:500],
        data=data,
    )


def lock(quote: Quote) -> Quote:
    return Quote.objects.select_for_update().select_related("customer").get(pk=quote.pk)


# -- what the customer reads, and its fingerprint ----------------------------------


def snapshot(quote: Quote, lines: list[QuoteLine] | None = None) -> dict[str, Any]:
    """Everything the customer agrees to, in plain JSON (kept with an acceptance)."""
    lines = list(quote.lines.all()) if lines is None else lines
    return {
        "currency": quote.currency,
        "lines": [
            {
                "description": line.description,
                # As stored (3 and 2 places), so a fresh read gives the same digest.
                "quantity": str(Decimal(line.quantity).quantize(Decimal("0.001"))),
                "unit_amount": line.unit_amount,
                "tax_rate": str(Decimal(line.tax_rate).quantize(Decimal("0.001"))),
                "tax_name": line.tax_name,
                "amount": line.amount,
            }
            for line in lines
        ],
        "subtotal": quote.subtotal,
        "discount": quote.discount,
        "tax": quote.tax,
        "total": quote.total,
        "deposit_amount": quote.deposit_amount,
        "terms": quote.terms,
        "expires_on": quote.expires_on.isoformat() if quote.expires_on else None,
        "memo": quote.memo,
    }


def digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


# -- the deposit ------------------------------------------------------------------


def deposit_for(kind: str, value: Decimal, total: int, currency: str) -> int:
    """The deposit in minor units; ValueError (a sentence for staff) when it cannot be asked.

    A percentage is of the total (tax included), rounded half up to a whole minor
    unit; an amount is already in minor units. Either must be above zero, at most
    the total, and at least Stripe's smallest charge (the customer pays it at once).
    """
    if not kind:
        return 0
    if kind == Quote.DepositKind.PERCENT:
        if not Decimal(0) < value <= Decimal(100):
            raise ValueError("A deposit percentage is above 0 and at most 100.")
        amount = round_half_up(Decimal(total) * value / 100)
    elif kind == Quote.DepositKind.AMOUNT:
        amount = int(value)
    else:
        raise ValueError("Choose how the deposit is asked.")
    if amount <= 0:
        raise ValueError("The deposit must be more than zero.")
    if amount > total:
        raise ValueError("The deposit cannot be more than the quote's total.")
    if amount < minimum_charge(currency):
        smallest = to_major(minimum_charge(currency), currency)
        raise ValueError(f"Card payments start at {smallest} {currency}: ask a larger deposit.")
    return amount


# -- drafting ---------------------------------------------------------------------


def create_quote(*, customer: Any, currency: str, terms: str, footer: str, actor: Any) -> Quote:
    with transaction.atomic():
        quote = Quote.objects.create(
            customer=customer,
            currency=currency,
            terms=terms,
            footer=footer,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record(quote, QuoteActivity.Kind.CREATED, actor=actor)
    return quote


@dataclass(frozen=True)
class QuoteContent:
    """A valid editor's state for a quote (the header as `InvoiceHeaderForm` cleans it)."""

    header: dict[str, Any]
    lines: list[dict[str, Any]]  # description, quantity, unit_amount, tax_rate
    expires_on: date | None
    deposit_kind: str
    deposit_value: Decimal


def save_quote(*, quote: Quote, content: QuoteContent, actor: Any = None) -> Quote:
    """Write the quote and its lines; a change to a sent quote makes a new version."""
    with transaction.atomic():
        quote = lock(quote)
        if not quote.is_editable:
            raise QuoteStateError(
                f"This quote is {quote.get_status_display().lower()}: it can no longer be edited."
            )
        header = content.header
        for name in ("currency", "issue_date", "terms", "discount_kind", "memo", "footer"):
            setattr(quote, name, header[name])
        quote.discount_value = header["discount"]
        quote.expires_on = content.expires_on
        lines = [
            QuoteLine(quote=quote, position=index, **fields)
            for index, fields in enumerate(content.lines)
        ]
        totals = compute_totals(
            [LineInput(line.quantity, line.unit_amount, line.tax_rate) for line in lines],
            quote.discount_kind,
            quote.discount_value,
        )
        for line, line_totals in zip(lines, totals.lines, strict=True):
            line.amount = line_totals.amount
        quote.subtotal, quote.discount = totals.subtotal, totals.discount
        quote.tax, quote.total = totals.tax, totals.total
        try:
            quote.deposit_amount = deposit_for(
                content.deposit_kind, content.deposit_value, quote.total, quote.currency
            )
        except ValueError as error:
            raise QuoteStateError(str(error)) from error
        quote.deposit_kind = content.deposit_kind
        quote.deposit_value = content.deposit_value if content.deposit_kind else Decimal(0)
        before = quote.content_digest
        quote.content_digest = digest(snapshot(quote, lines))
        revised = quote.status == Quote.Status.SENT and before != quote.content_digest
        if revised:
            quote.version += 1
        quote.lines.all().delete()
        QuoteLine.objects.bulk_create(lines)
        quote.save()
        if revised:
            record(
                quote,
                QuoteActivity.Kind.REVISED,
                actor=actor,
                message=f"Version {quote.version}: an earlier acceptance form is refused.",
                version=quote.version,
            )
    return quote


# -- sending ----------------------------------------------------------------------


def send_quote(*, quote: Quote, actor: Any = None) -> Quote:
    """Email the customer the quote's link; numbers it on the first send."""
    with transaction.atomic():
        quote = lock(quote)
        if quote.status not in (Quote.Status.DRAFT, Quote.Status.SENT):
            raise QuoteStateError(
                f"A {quote.get_status_display().lower()} quote cannot be sent again."
            )
        if not quote.lines.exists():
            raise QuoteStateError("Add at least one line before sending the quote.")
        if quote.is_past_expiry:
            raise QuoteStateError("The quote's expiry date has passed: set a later one first.")
        if not quote.number:
            quote.number = take_next_number(PREFIX)
        resend = quote.sent_at is not None
        quote.status = Quote.Status.SENT
        quote.sent_at = timezone.now()
        quote.save()
        to = quote.customer.email
        record(
            quote,
            QuoteActivity.Kind.SENT,
            actor=actor,
            message=f"{'Resent' if resend else 'Sent'} to {to} (version {quote.version})",
            to=to,
        )
        ref = f"{quote.pk}:{QuoteActivity.objects.filter(quote=quote).count()}"
        queue_customer_email("quote", quote.customer, ref=ref, params={"quote_id": quote.pk})
    return quote


def record_view(*, quote: Quote, ip: str, user_agent: str) -> None:
    """The customer's first look at the link (staff previews do not call this)."""
    if Quote.objects.filter(pk=quote.pk, viewed_at__isnull=True).update(viewed_at=timezone.now()):
        record(
            quote, QuoteActivity.Kind.VIEWED, ip=ip, user_agent=user_agent[:300], source="customer"
        )


# -- expiry -----------------------------------------------------------------------


def expire_quotes(*, today: date | None = None) -> list[Quote]:
    """Sent quotes past their expiry date become expired (cron: `manage.py expire_quotes`).

    Safe to run at any time and concurrently: each quote is re-read locked and
    only a still-sent one changes.
    """
    today = today or timezone.localdate()
    expired = []
    due = Quote.objects.filter(status=Quote.Status.SENT, expires_on__lt=today).order_by("pk")
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            quote = Quote.objects.select_for_update().get(pk=pk)
            if quote.status != Quote.Status.SENT or not quote.expires_on < today:
                continue
            quote.status = Quote.Status.EXPIRED
            quote.expired_at = timezone.now()
            quote.save(update_fields=["status", "expired_at", "updated_at"])
            record(quote, QuoteActivity.Kind.EXPIRED, message=f"Expired on {quote.expires_on}")
            expired.append(quote)
    return expired
