"""Corrections to money already booked: never an edit, always an action with a trail."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from invoices.activity import InvoiceStateError, announce, lock, record_activity
from invoices.models import Invoice, InvoiceActivity, Payment
from invoices.payments.intents import follow_amount_due

# A reversal puts the amount back on the invoice: only where money can still be owed.
REVERSIBLE_ON = (Invoice.Status.OPEN, Invoice.Status.PAID, Invoice.Status.UNCOLLECTIBLE)


def reverse_offline_payment(*, payment: Payment, reason: str, actor: Any = None) -> Payment:
    """Take back an offline payment recorded by mistake (wrong invoice, bounced cheque).

    The row stays, marked reversed with the reason; the invoice owes the amount
    again (a paid invoice reopens) and the activity log says who did it and why.
    """
    reason = reason.strip()
    if not reason:
        raise InvoiceStateError("Say why the payment is reversed.")
    with transaction.atomic():
        invoice = lock(payment.invoice)
        payment = Payment.objects.select_for_update().get(pk=payment.pk, invoice=invoice)
        if payment.method == Payment.Method.ONLINE:
            raise InvoiceStateError("A card payment is given back with a refund through Stripe.")
        if payment.status != Payment.Status.SUCCEEDED:
            raise InvoiceStateError("This payment was already reversed.")
        if invoice.status not in REVERSIBLE_ON:
            raise InvoiceStateError("Payments on a void invoice cannot be reversed.")
        payment.status = Payment.Status.REVERSED
        payment.reversal_reason = reason[:500]
        payment.reversed_at = timezone.now()
        payment.save(update_fields=["status", "reversal_reason", "reversed_at", "updated_at"])
        invoice.remove_payment(payment.amount)
        invoice.save()
        # An open card form must ask for the new amount due.
        follow_amount_due(invoice)
        record_activity(
            invoice,
            InvoiceActivity.Kind.PAYMENT_REVERSED,
            actor=actor,
            message=f"{payment.get_method_display()} {invoice.money(payment.amount)} reversed: "
            f"{reason}",
            payment_id=payment.pk,
            amount=payment.amount,
        )
        announce(invoice)
    return payment
