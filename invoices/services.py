"""Invoice workflows with side effects (numbering, Stripe, email, live push, activity).

Each is a keyword-only function. Database changes happen in one transaction
with the invoice row locked, emails are queued inside it (the outbox), and
live pushes happen after commit, best-effort.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from invoices import stripe_api
from invoices.activity import InvoiceStateError, announce, lock, record_activity
from invoices.email_log import EmailLog
from invoices.models import BusinessProfile, Invoice, InvoiceActivity, InvoiceLine, Payment
from invoices.numbering import take_next_number
from invoices.outbox import queue_email, send_again
from invoices.payment_methods import MethodType
from invoices.payments.autopay import queue_autopay
from invoices.payments.intents import follow_amount_due

logger = logging.getLogger(__name__)


def finalize_invoice(*, invoice: Invoice, actor: Any = None) -> Invoice:
    """Draft -> open: number it from the gapless sequence and lock its lines."""
    with transaction.atomic():
        invoice = lock(invoice)
        if invoice.status != Invoice.Status.DRAFT:
            raise InvoiceStateError("Only a draft can be finalized.")
        lines = list(invoice.lines.all())
        if not lines:
            raise InvoiceStateError("Add at least one line before finalizing.")
        invoice.recalculate(lines)
        if invoice.due_date is None:
            invoice.apply_terms()
        if invoice.due_date is None or invoice.due_date < invoice.issue_date:
            raise InvoiceStateError("The due date cannot be before the issue date.")
        invoice.number = take_next_number(BusinessProfile.load().number_prefix)
        invoice.status = Invoice.Status.OPEN
        invoice.finalized_at = timezone.now()
        invoice.save()
        for line in lines:
            line.save(update_fields=["amount"])
        record_activity(invoice, InvoiceActivity.Kind.FINALIZED, actor=actor, number=invoice.number)
        # Imported here: credit notes build on this module's workflows.
        from invoices.credit_notes import apply_customer_credit

        apply_customer_credit(invoice, actor=actor)
        queue_autopay(invoice)
        announce(invoice)
    return invoice


def send_refusal(invoice: Invoice) -> str | None:
    """Why the invoice cannot be emailed to the customer now (None: it can).

    Its email asks for the amount owed: one that asks for nothing ("$0.00 due") is not
    sent. The single Send, bulk Send and "Send again" all ask this.
    """
    if invoice.status == Invoice.Status.DRAFT:
        return "A draft must be finalized before it is sent."
    if invoice.status == Invoice.Status.VOID:
        return "A voided invoice cannot be sent."
    if invoice.status == Invoice.Status.PAID:
        return "It is paid: there is nothing to ask for."
    if invoice.status == Invoice.Status.UNCOLLECTIBLE:
        return (
            "It is marked uncollectible: it asks for nothing, so it is not sent. "
            "If the customer pays, record the payment; it reopens the invoice."
        )
    if invoice.amount_owed <= 0:
        return "Nothing is left to pay: there is nothing to ask for."
    return None


def send_invoice(*, invoice: Invoice, actor: Any = None) -> None:
    """Email the customer the pay link (first send and every resend)."""
    with transaction.atomic():
        invoice = lock(invoice)
        if refusal := send_refusal(invoice):
            raise InvoiceStateError(refusal)
        resend = invoice.sent_at is not None
        invoice.sent_at = timezone.now()
        invoice.save(update_fields=["sent_at", "updated_at"])
        sent = record_activity(
            invoice,
            InvoiceActivity.Kind.SENT,
            actor=actor,
            message=f"{'Resent' if resend else 'Sent'} to {invoice.customer.email}",
            to=invoice.customer.email,
        )
        queue_email("invoice", invoice, ref=f"{sent.pk}")


def finalize_and_send(*, invoice: Invoice, actor: Any = None) -> Invoice:
    """Draft -> open, then emailed, in one transaction (recurring billing, a quote's deposit).

    Not emailed when finalizing left nothing to ask for: the customer's account credit
    covered it all, so it is already paid (see `send_refusal`).
    """
    with transaction.atomic():
        invoice = finalize_invoice(invoice=invoice, actor=actor)
        if send_refusal(invoice) is None:
            send_invoice(invoice=invoice, actor=actor)
            invoice.refresh_from_db(fields=["sent_at", "updated_at"])
    return invoice


def revoke_pay_link(*, invoice: Invoice, actor: Any = None) -> None:
    with transaction.atomic():
        invoice = lock(invoice)
        invoice.rotate_pay_token()
        record_activity(invoice, InvoiceActivity.Kind.LINK_REVOKED, actor=actor)


def void_invoice(*, invoice: Invoice, actor: Any = None) -> Invoice:
    """Open -> void. An open PaymentIntent is canceled first, so nobody can pay it."""
    with transaction.atomic():
        invoice = lock(invoice)
        if invoice.status == Invoice.Status.PAID or invoice.amount_paid:
            # Money was taken: a credit note gives it back and keeps the books straight.
            raise InvoiceStateError(
                "An invoice with payments cannot be voided: issue a credit note instead."
            )
        if invoice.status not in (Invoice.Status.OPEN, Invoice.Status.UNCOLLECTIBLE):
            raise InvoiceStateError(
                f"A {invoice.get_status_display().lower()} invoice cannot be voided."
            )
        if invoice.payment_state == Invoice.PaymentState.PROCESSING:
            raise InvoiceStateError("A payment is processing; wait for it before voiding.")
        if invoice.stripe_payment_intent_id:
            try:
                intent = stripe_api.retrieve_payment_intent(invoice.stripe_payment_intent_id)
                if intent.status in stripe_api.CONFIRMABLE:
                    stripe_api.cancel_payment_intent(intent.id)
                elif intent.status in (stripe_api.PROCESSING, stripe_api.SUCCEEDED):
                    raise InvoiceStateError("A card payment is under way; it cannot be voided now.")
            except stripe_api.StripeError as error:
                if stripe_api.is_missing(error):
                    # Stripe no longer knows it (key or account switched): nothing to cancel.
                    logger.warning("void: %s unknown to Stripe", invoice.stripe_payment_intent_id)
                else:
                    logger.warning("void: Stripe error for invoice %s: %s", invoice.pk, error)
                    raise InvoiceStateError(
                        "Could not cancel the open card payment with Stripe; try again."
                    ) from error
        invoice.status = Invoice.Status.VOID
        invoice.voided_at = timezone.now()
        invoice.amount_due = 0
        invoice.save()
        record_activity(invoice, InvoiceActivity.Kind.VOIDED, actor=actor)
        announce(invoice)
        queue_email("void", invoice)
    return invoice


def mark_uncollectible(*, invoice: Invoice, actor: Any = None) -> Invoice:
    with transaction.atomic():
        invoice = lock(invoice)
        if invoice.status != Invoice.Status.OPEN:
            raise InvoiceStateError("Only an open invoice can be marked uncollectible.")
        invoice.status = Invoice.Status.UNCOLLECTIBLE
        invoice.save(update_fields=["status", "updated_at"])
        # It can no longer be paid online, so an open card form must not charge it either.
        follow_amount_due(invoice)
        record_activity(invoice, InvoiceActivity.Kind.UNCOLLECTIBLE, actor=actor)
        announce(invoice)
    return invoice


def record_offline_payment(
    *,
    invoice: Invoice,
    amount: int,
    method: str,
    received_on: date,
    reference: str = "",
    actor: Any = None,
) -> Payment:
    """A bank transfer, cash or cheque: partial payments allowed, never more than due."""
    if method not in Payment.Method.values or method == Payment.Method.ONLINE:
        raise InvoiceStateError("Choose how the payment was made.")
    with transaction.atomic():
        invoice = lock(invoice)
        if invoice.status not in (Invoice.Status.OPEN, Invoice.Status.UNCOLLECTIBLE):
            raise InvoiceStateError("Payments can only be recorded on an open invoice.")
        if not 0 < amount <= invoice.amount_due:
            limit = invoice.money(invoice.amount_due)
            raise InvoiceStateError(f"The amount must be more than zero and at most {limit}.")
        if invoice.status == Invoice.Status.UNCOLLECTIBLE:
            invoice.status = Invoice.Status.OPEN
        payment = Payment.objects.create(
            invoice=invoice,
            method=method,
            method_type=MethodType.OFFLINE,
            status=Payment.Status.SUCCEEDED,
            amount=amount,
            currency=invoice.currency,
            reference=reference,
            received_on=received_on,
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        invoice.add_payment(amount)
        invoice.save()
        # The open card form must now ask for the new amount due (or nothing).
        follow_amount_due(invoice)
        record_activity(
            invoice,
            InvoiceActivity.Kind.PAYMENT_RECORDED,
            actor=actor,
            message=f"{payment.method_label} {invoice.money(amount)}",
            payment_id=payment.pk,
        )
        announce(invoice)
        if invoice.status == Invoice.Status.PAID:
            queue_email("receipt", invoice, payment_id=payment.pk)
    return payment


def duplicate_invoice(*, invoice: Invoice, actor: Any = None) -> Invoice:
    with transaction.atomic():
        copy = Invoice.objects.create(
            customer=invoice.customer,
            currency=invoice.currency,
            terms=invoice.terms,
            memo=invoice.memo,
            footer=invoice.footer,
            discount_kind=invoice.discount_kind,
            discount_value=invoice.discount_value,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        lines = [InvoiceLine(invoice=copy, **line.copied_values()) for line in invoice.lines.all()]
        copy.apply_terms()
        copy.recalculate(lines)
        InvoiceLine.objects.bulk_create(lines)
        copy.save()
        record_activity(copy, InvoiceActivity.Kind.CREATED, actor=actor, source_invoice=invoice.pk)
        record_activity(
            invoice,
            InvoiceActivity.Kind.DUPLICATED,
            actor=actor,
            message=f"Copied to draft #{copy.pk}",
        )
    return copy


def record_view(*, invoice: Invoice, ip: str, user_agent: str) -> None:
    """The customer's first look at the link (staff previews do not call this)."""
    updated = Invoice.objects.filter(pk=invoice.pk, viewed_at__isnull=True).update(
        viewed_at=timezone.now()
    )
    if updated:
        record_activity(
            invoice,
            InvoiceActivity.Kind.VIEWED,
            ip=ip,
            user_agent=user_agent[:300],
            source="customer",
        )


def reminder_refusal(invoice: Invoice) -> str | None:
    """Why a payment reminder cannot go out now (None: it can)."""
    if invoice.status == Invoice.Status.DRAFT:
        return "A draft has not been sent; finalize and send it first."
    if invoice.status != Invoice.Status.OPEN:
        return f"A {invoice.get_status_display().lower()} invoice asks for nothing."
    if invoice.payment_state == Invoice.PaymentState.PROCESSING:
        return "A payment is processing; it settles the invoice in a few days."
    if invoice.amount_owed <= 0:
        return "Nothing is left to pay."
    return None


def send_reminder_now(*, invoice: Invoice, actor: Any = None) -> None:
    """A payment reminder on staff's word, outside the schedule (which it leaves as it is)."""
    with transaction.atomic():
        invoice = lock(invoice)
        refusal = reminder_refusal(invoice)
        if refusal:
            raise InvoiceStateError(refusal)
        sent = record_activity(
            invoice,
            InvoiceActivity.Kind.REMINDER_SENT,
            actor=actor,
            message=f"Reminder sent to {invoice.customer.email} (sent by hand)",
            to=invoice.customer.email,
        )
        queue_email("reminder", invoice, ref=f"{sent.pk}")


# A failed email sent again still asks for what it asked for when it was queued: not
# once the invoice asks for nothing. The other kinds (a receipt, a credit note) stay true.
RESEND_REFUSALS: dict[str, Callable[[Invoice], str | None]] = {
    "invoice": send_refusal,
    "reminder": reminder_refusal,
}


def send_email_again(*, email: EmailLog, actor: Any = None) -> None:
    """Staff's "Send again" for a failed email: a fresh round of attempts, starting now."""
    with transaction.atomic():
        invoice = lock(email.invoice)
        refusal = RESEND_REFUSALS.get(email.kind)
        if refusal and (reason := refusal(invoice)):
            raise InvoiceStateError(f"Not sent again. {reason}")
        if not send_again(email):
            raise InvoiceStateError("That email has not failed; nothing to send again.")
        record_activity(
            invoice,
            InvoiceActivity.Kind.UPDATED,
            actor=actor,
            message=f"{email.label} email queued again",
            email_id=email.pk,
        )
