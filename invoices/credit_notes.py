"""Credit notes: part or all of a finalized invoice taken back, with a reason.

On an invoice that still asks for money the credit note lowers the amount due;
on a paid one it gives the money back to the card through Stripe. Numbers come
from their own gapless sequence (`CN-0001`), taken in the same transaction, so
a credit note that fails (Stripe refuses the refund) gives its number back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from invoices import refunds
from invoices.models import CreditNote, Invoice, InvoiceActivity, Payment
from invoices.numbering import take_next_number
from invoices.payments import follow_amount_due
from invoices.services import InvoiceStateError, announce, lock, record_activity
from invoices.tasks import queue_email

PREFIX = "CN-"
CREDITABLE = (Invoice.Status.OPEN, Invoice.Status.PAID, Invoice.Status.UNCOLLECTIBLE)


def creditable(invoice: Invoice) -> int:
    """What a credit note may still take back from this invoice."""
    if invoice.status not in CREDITABLE:
        return 0
    return max(invoice.total - invoice.amount_credited, 0)


def _card_payment_for(invoice: Invoice, amount: int) -> Payment | None:
    """The card payment that can give `amount` back in one refund (the latest first)."""
    for payment in invoice.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-id"):
        if payment.refundable >= amount:
            return payment
    return None


def issue_credit_note(
    *, invoice: Invoice, amount: int, reason: str, actor: Any = None
) -> CreditNote:
    reason = reason.strip()
    if not reason:
        raise InvoiceStateError("Say why the credit note is issued.")
    with transaction.atomic():
        invoice = lock(invoice)
        if invoice.status not in CREDITABLE:
            raise InvoiceStateError("Only a finalized invoice that is not void can be credited.")
        if not 0 < amount <= creditable(invoice):
            limit = invoice.money(creditable(invoice))
            raise InvoiceStateError(f"The amount must be more than zero and at most {limit}.")
        refund = None
        if amount <= invoice.amount_due:
            outcome = CreditNote.Outcome.REDUCED
        else:
            if invoice.amount_due:
                raise InvoiceStateError(
                    f"Credit at most the amount due ({invoice.money(invoice.amount_due)}), "
                    "or first credit that and then the rest with a refund."
                )
            payment = _card_payment_for(invoice, amount)
            if payment is None:
                raise InvoiceStateError(
                    "No card payment can give this much back through Stripe; return the money "
                    "another way and record it."
                )
            outcome = CreditNote.Outcome.REFUNDED
            refund = refunds.request_refund(payment=payment, amount=amount, actor=actor)
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
