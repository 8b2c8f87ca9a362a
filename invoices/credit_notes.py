"""Credit notes: part or all of a finalized invoice taken back, with a reason.

On an invoice that still asks for money the credit note lowers the amount due;
on a paid one it gives the money back to the card through Stripe. Numbers come
from their own gapless sequence (`CN-0001`), taken in the same transaction, so
a credit note that fails (Stripe refuses the refund) gives its number back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Sum

from customers.models import Customer
from invoices import credit_lines
from invoices.activity import InvoiceStateError, announce, lock, record_activity
from invoices.credit_lines import LineCredit
from invoices.models import (
    CreditNote,
    CreditNoteLine,
    CustomerCredit,
    Invoice,
    InvoiceActivity,
    Payment,
)
from invoices.numbering import take_next_number
from invoices.outbox import queue_email
from invoices.payments import refunds
from invoices.payments.intents import follow_amount_due

PREFIX = "CN-"
CREDITABLE = (Invoice.Status.OPEN, Invoice.Status.PAID, Invoice.Status.UNCOLLECTIBLE)


def creditable(invoice: Invoice) -> int:
    """What a credit note may still take back from this invoice."""
    if invoice.status not in CREDITABLE:
        return 0
    return max(invoice.total - invoice.amount_credited, 0)


def _balance(invoice: Invoice) -> str:
    """The unpaid balance a credit note lowers first, named as the invoice page names it."""
    limit = invoice.money(invoice.amount_due)
    if invoice.status == Invoice.Status.UNCOLLECTIBLE:
        # Written off: it asks for nothing, so that balance is not "due".
        return f"what was outstanding before the write-off ({limit})"
    return f"the amount due ({limit})"


def _card_payment_for(invoice: Invoice, amount: int) -> Payment | None:
    """The card payment that can give `amount` back in one refund (the latest first)."""
    for payment in invoice.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-id"):
        if payment.refundable >= amount:
            return payment
    return None


def issue_credit_note(
    *,
    invoice: Invoice,
    reason: str,
    amount: int | None = None,
    lines: Sequence[LineCredit] = (),
    keep_as_credit: bool = False,
    actor: Any = None,
) -> CreditNote:
    """Credit an amount, or some `lines` (the amount is then theirs, tax included).

    `keep_as_credit`: on money already paid, keep it to the customer's good for their
    next invoice in this currency instead of refunding it."""
    reason = reason.strip()
    if not reason:
        raise InvoiceStateError("Say why the credit note is issued.")
    if (amount is None) == (not lines):
        raise InvoiceStateError("Credit either an amount or some lines.")
    with transaction.atomic():
        invoice = lock(invoice)
        if invoice.status not in CREDITABLE:
            raise InvoiceStateError("Only a finalized invoice that is not void can be credited.")
        priced = credit_lines.price(invoice, lines) if lines else []
        amount = sum(line.total for line in priced) if priced else int(amount or 0)
        if not 0 < amount <= creditable(invoice):
            limit = invoice.money(creditable(invoice))
            raise InvoiceStateError(f"The amount must be more than zero and at most {limit}.")
        refund = None
        if amount <= invoice.amount_due:
            outcome = CreditNote.Outcome.REDUCED
        else:
            if invoice.amount_due:
                raise InvoiceStateError(
                    f"Credit at most {_balance(invoice)}, "
                    "or first credit that and then the rest with a refund."
                )
            payment = None if keep_as_credit else _card_payment_for(invoice, amount)
            if keep_as_credit:
                outcome = CreditNote.Outcome.CREDITED
            elif payment is None:
                raise InvoiceStateError(
                    "No card payment can give this much back through Stripe: keep it as credit "
                    "for the customer's next invoice."
                )
            else:
                outcome = CreditNote.Outcome.REFUNDED
                # The credit note's email says the money is on its way: no refund email too.
                refund = refunds.request_refund(
                    payment=payment, amount=amount, actor=actor, tell_customer=False
                )
                # It booked what Stripe said on its own copy of the row: saving ours
                # below must not write the old refunded amount back over it.
                invoice.refresh_from_db(fields=["amount_refunded"])
        note = CreditNote.objects.create(
            invoice=invoice,
            number=take_next_number(PREFIX),
            amount=amount,
            currency=invoice.currency,
            reason=reason[:500],
            outcome=outcome,
            refund=refund,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        for line in priced:
            line.credit_note = note
        CreditNoteLine.objects.bulk_create(priced)
        if outcome == CreditNote.Outcome.CREDITED:
            CustomerCredit.objects.create(
                customer=invoice.customer,
                currency=invoice.currency,
                amount=amount,
                credit_note=note,
            )
        invoice.add_credit(amount)
        invoice.save()
        follow_amount_due(invoice)
        record_activity(
            invoice,
            InvoiceActivity.Kind.CREDIT_NOTE,
            actor=actor,
            message=f"Credit note {note.number} for {invoice.money(amount)}: {reason}",
            credit_note_id=note.pk,
            amount=amount,
        )
        queue_email("credit_note", invoice, ref=note.number)
        announce(invoice)
    return note


def credit_balance(customer: Customer, currency: str) -> int:
    total = CustomerCredit.objects.filter(customer=customer, currency=currency).aggregate(
        total=Sum("amount", default=0)
    )["total"]
    return int(total)


def apply_customer_credit(invoice: Invoice, actor: Any = None) -> int:
    """At finalize (invoice locked, inside its transaction): use the customer's credit in
    the invoice's currency against its amount due. Returns what was applied."""
    # One customer's credit is spent by one finalize at a time.
    Customer.objects.select_for_update().filter(pk=invoice.customer_id).first()
    applied = min(credit_balance(invoice.customer, invoice.currency), invoice.amount_due)
    if applied <= 0:
        return 0
    CustomerCredit.objects.create(
        customer=invoice.customer, currency=invoice.currency, amount=-applied, invoice=invoice
    )
    invoice.add_credit(applied)
    invoice.save()
    record_activity(
        invoice,
        InvoiceActivity.Kind.CREDIT_APPLIED,
        actor=actor,
        message=f"Account credit of {invoice.money(applied)} applied",
        amount=applied,
    )
    return applied
