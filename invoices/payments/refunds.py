"""Refunds as they really happen at Stripe.

A refund is asked for (`request_refund`), is `pending` until Stripe says
`succeeded` (and may still end `failed` or `canceled`). Money asked back
counts against what can still be refunded from the moment it is asked for;
only succeeded money is refunded money, and only then is the customer told.
Every refund object Stripe sends (refund.created / refund.updated /
refund.failed / charge.refund.updated, the refunds embedded in older
charge.refunded payloads, or the answer to our own request) goes through
`apply_refund`, which only moves a refund forward, so events may arrive twice
and in any order.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from invoices import balance, stripe_api
from invoices.activity import InvoiceStateError, announce, lock, record_activity
from invoices.models import CreditNote, Invoice, InvoiceActivity, InvoiceFlag, Payment, Refund
from invoices.outbox import queue_email, queue_staff_notice
from invoices.payments import group_handlers

logger = logging.getLogger(__name__)

# Order of a refund's life: a later event may never move it back.
_RANK = {
    Refund.Status.PENDING: 0,
    Refund.Status.REQUIRES_ACTION: 0,
    Refund.Status.SUCCEEDED: 1,
    Refund.Status.FAILED: 2,
    Refund.Status.CANCELED: 2,
}
_ENDED = (Refund.Status.FAILED, Refund.Status.CANCELED)


def request_refund(
    *, payment: Payment, amount: int, actor: Any = None, tell_customer: bool = True
) -> Refund:
    """Ask Stripe to refund a payment made online (a card, or a bank debit: its refund goes
    back through the bank and stays pending for days).

    `tell_customer=False`: the caller tells the customer itself (a credit note's email
    says the refund is on its way), so no refund email goes out for it.

    The invoice and payment stay locked through the Stripe call, so concurrent
    requests queue and each sees what the ones before it asked back: five
    simultaneous full refunds make one refund and four clear refusals.
    """
    with transaction.atomic():
        invoice = lock(payment.invoice)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.method != Payment.Method.ONLINE or not payment.stripe_payment_intent_id:
            raise InvoiceStateError("Only payments made online can be refunded through Stripe.")
        if payment.status != Payment.Status.SUCCEEDED:
            raise InvoiceStateError("Only a succeeded payment can be refunded.")
        if not 0 < amount <= payment.refundable:
            limit = invoice.money(payment.refundable)
            pending = (
                f" ({invoice.money(payment.amount_refund_pending)} is already being refunded)"
                if payment.amount_refund_pending
                else ""
            )
            raise InvoiceStateError(
                f"The refund must be more than zero and at most {limit}{pending}."
            )
        asked = payment.refunds.count()
        try:
            created = stripe_api.create_refund(
                payment_intent_id=payment.stripe_payment_intent_id,
                amount=amount,
                idempotency_key=stripe_api.idempotency_key(
                    "refund", payment.pk, payment.amount_refunded, asked, amount
                ),
            )
        except stripe_api.StripeError as error:
            logger.warning("refund: Stripe error for payment %s: %s", payment.pk, error)
            message = (
                getattr(error, "user_message", None) or "Stripe could not refund it; try again."
            )
            raise InvoiceStateError(message) from error
        record_activity(
            invoice,
            InvoiceActivity.Kind.REFUND_REQUESTED,
            actor=actor,
            message=f"Refund of {invoice.money(amount)} requested",
            refund_id=created.id,
            amount=amount,
        )
        payment.invoice = invoice
        answer = created.to_dict()
        try:
            with transaction.atomic():
                refund = _apply(
                    payment, answer, "", requested_by=actor, ours=True, quiet=not tell_customer
                )
        except IntegrityError:
            # Its webhook got there first (SQLite has no row locks): update that row.
            payment.refresh_from_db()
            payment.invoice.refresh_from_db()
            refund = _apply(payment, answer, "", ours=True, quiet=not tell_customer)
    return refund


def locked_payment_for_refund(refund: dict[str, Any]) -> Payment | None:
    """The refunded payment, invoice then payment locked; None when not ours."""
    intent_id = refund.get("payment_intent")
    payments = Payment.objects.all()
    if intent_id:
        payments = payments.filter(stripe_payment_intent_id=intent_id)
    elif refund.get("charge"):
        payments = payments.filter(stripe_charge_id=refund["charge"])
    else:
        return None
    found = payments.values_list("pk", "invoice_id").first()
    if found is None:
        return None
    invoice = Invoice.objects.select_for_update().select_related("customer").get(pk=found[1])
    payment = Payment.objects.select_for_update().get(pk=found[0])
    payment.invoice = invoice
    return payment


def apply_refund(refund: dict[str, Any], event_id: str = "") -> Invoice | None:
    fee = balance.refund_fee(refund)  # a Stripe call (once per refund): before any lock
    payment = locked_payment_for_refund(refund)
    if payment is None:  # a combined payment's (flagged for staff), or not ours
        return group_handlers.flag_unapplied(refund, "refund", event_id)
    _apply(payment, refund, event_id, fee=fee)
    return payment.invoice


def _apply(
    payment: Payment,
    data: dict[str, Any],
    event_id: str,
    *,
    requested_by: Any = None,
    ours: bool = False,
    quiet: bool = False,
    fee: balance.Fee | None = None,
) -> Refund:
    """Record what Stripe says of one refund (payment and its invoice locked by the caller).

    `quiet`: the customer hears of it another way (see `request_refund`)."""
    invoice = payment.invoice
    status = data.get("status") if data.get("status") in _RANK else Refund.Status.PENDING
    refund = Refund.objects.select_for_update().filter(stripe_refund_id=data["id"]).first()
    before = refund.status if refund else None
    if refund is None:
        refund = Refund(
            payment=payment,
            stripe_refund_id=data["id"],
            amount=int(data.get("amount") or 0),
            currency=str(data.get("currency") or payment.currency).upper(),
            requested_by=requested_by if getattr(requested_by, "is_authenticated", False) else None,
        )
    if isinstance(data.get("balance_transaction"), dict):
        fee = balance.fee_of(data["balance_transaction"], data["id"])
    fee_is_new = balance.record_refund_fee(refund, fee)
    if refund.pk and (before == status or _RANK[status] < _RANK[before]):
        if fee_is_new:
            refund.save(update_fields=["stripe_fee", "stripe_net", "balance_currency"])
        return refund  # the same news again, or older news arriving late
    _count(payment, invoice, refund, before, -1)
    refund.status = status
    refund.failure_reason = str(data.get("failure_reason") or "")[:100]
    refund.save()
    _count(payment, invoice, refund, status, +1)
    payment.save(update_fields=["amount_refunded", "amount_refund_pending", "updated_at"])
    invoice.save(update_fields=["amount_refunded", "updated_at"])
    quiet = quiet or CreditNote.objects.filter(refund=refund).exists()
    _announce(
        payment, invoice, refund, event_id, made_in_stripe=before is None and not ours, quiet=quiet
    )
    return refund


def _count(
    payment: Payment, invoice: Invoice, refund: Refund, status: str | None, sign: int
) -> None:
    """Add (or take back) the refund's amount where its status says it belongs."""
    if status in (Refund.Status.PENDING, Refund.Status.REQUIRES_ACTION):
        payment.amount_refund_pending += sign * refund.amount
    elif status == Refund.Status.SUCCEEDED:
        payment.amount_refunded += sign * refund.amount
        invoice.add_refund(sign * refund.amount)


def _announce(
    payment: Payment,
    invoice: Invoice,
    refund: Refund,
    event_id: str,
    *,
    made_in_stripe: bool,
    quiet: bool = False,
) -> None:
    money = invoice.money(refund.amount)
    if refund.status == Refund.Status.SUCCEEDED:
        full = " (full)" if payment.amount_refunded >= payment.amount else ""
        record_activity(
            invoice,
            InvoiceActivity.Kind.REFUNDED,
            message=f"Refunded {money}{full}",
            refund_id=refund.stripe_refund_id,
            amount=refund.amount,
            source="stripe",
        )
        if not quiet:
            queue_email(
                "refund",
                invoice,
                payment_id=payment.pk,
                amount=refund.amount,
                ref=refund.stripe_refund_id,
            )
    elif refund.status in _ENDED:
        reason = refund.failure_reason.replace("_", " ") or refund.status
        message = (
            f"The refund of {money} {refund.status} ({reason}). The customer has not been "
            "refunded: refund again or pay them another way."
        )
        record_activity(
            invoice,
            InvoiceActivity.Kind.REFUND_FAILED,
            message=message,
            refund_id=refund.stripe_refund_id,
            source="stripe",
        )
        InvoiceFlag.objects.create(
            invoice=invoice,
            kind=InvoiceFlag.Kind.REFUND_FAILED,
            message=message,
            stripe_event_id=event_id,
            payment=payment,
            amount=refund.amount,
        )
        queue_staff_notice(invoice, "flag", message, ref=f"refund-failed-{refund.stripe_refund_id}")
    elif made_in_stripe:
        record_activity(
            invoice,
            InvoiceActivity.Kind.REFUND_REQUESTED,
            message=f"Refund of {money} made in Stripe",
            refund_id=refund.stripe_refund_id,
            source="stripe",
        )
    announce(invoice)
