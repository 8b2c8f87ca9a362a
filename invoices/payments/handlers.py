"""What Stripe reports, applied: the webhook's dispatch table and the reconcile
command call these inside the caller's transaction. Each is idempotent and only
moves state forward, so deliveries may arrive twice and in any order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from invoices import balance, payment_methods, stripe_api
from invoices.activity import announce, record_activity
from invoices.models import AutopayCharge, Invoice, InvoiceActivity, InvoiceFlag, Payment
from invoices.outbox import email_owed, notice_owed, queue_all, queue_email, queue_staff_notice
from invoices.payments import group_handlers, refunds


class Ignored(Exception):
    """Not this deployment's to apply: the event is stored as ignored, with this reason."""


class UnknownInvoice(Ignored):
    """The PaymentIntent's metadata names an invoice the portal does not have."""


def _locked_payment(intent: dict[str, Any], *, stamped: bool = True) -> Payment | None:
    """The intent's Payment with its invoice locked (invoice first, then payment).

    Only an intent this deployment created is applied: it carries our stamp
    (`metadata.portal`, checked for PaymentIntent objects; charges and disputes
    carry only the intent's id) and we stored its id when we created it. On a
    Stripe account shared by several deployments, someone else's PaymentIntent
    naming one of our invoice numbers changes nothing here.
    """
    intent_id = intent["id"]
    metadata = intent.get("metadata") or {}
    if stamped and not stripe_api.is_ours(intent):
        if not metadata.get("invoice_id"):
            return None  # e.g. `stripe trigger`: nothing suggests it was ever ours
        stamp = metadata.get("portal")
        raise Ignored(
            f"PaymentIntent {intent_id} is stamped {stamp!r}, not this portal's"
            if stamp
            else f"PaymentIntent {intent_id} has no portal stamp: another deployment's"
        )
    # One statement; PostgreSQL locks the rows in the order named (invoice first).
    payment = (
        Payment.objects.select_related("invoice__customer")
        .select_for_update(of=("invoice", "self"))
        .filter(stripe_payment_intent_id=intent_id)
        .order_by()
        .first()
    )
    if payment is None:
        if not stamped:
            return None
        raise Ignored(f"PaymentIntent {intent_id} was not created by this database")
    return payment


# What a succeeded intent changes on its payment (besides how it was paid).
SUCCEEDED_FIELDS = ("status", "amount", "currency", "received_on", "failure_message", "updated_at")

IntentHandler = Callable[[dict[str, Any], str], Invoice | None]


def groups_apart(status: str) -> Callable[[IntentHandler], IntentHandler]:
    """An intent paying several invoices at once goes to `group_handlers`; the
    single-invoice path below is unchanged."""

    def decorate(handler: IntentHandler) -> IntentHandler:
        @functools.wraps(handler)
        def wrapper(intent: dict[str, Any], event_id: str = "") -> Invoice | None:
            if group_handlers.names_group(intent):
                return group_handlers.apply(intent, status)
            return handler(intent, event_id)

        return wrapper

    return decorate


def raise_flag(
    invoice: Invoice,
    kind: str,
    message: str,
    event_id: str,
    payment: Payment | None = None,
    amount: int = 0,
    *,
    notice: str = "flag",
) -> None:
    """Flag the invoice for staff and owe them one notice of kind `notice` about it."""
    flag = InvoiceFlag.objects.create(
        invoice=invoice,
        kind=kind,
        message=message,
        stripe_event_id=event_id,
        payment=payment,
        amount=amount,
    )
    record_activity(invoice, InvoiceActivity.Kind.FLAGGED, message=message, source="stripe")
    queue_staff_notice(invoice, notice, message, ref=f"flag-{flag.pk}")


@groups_apart(stripe_api.SUCCEEDED)
def apply_intent_succeeded(intent: dict[str, Any], event_id: str = "") -> Invoice | None:
    payment = _locked_payment(intent)
    if payment is None:
        return None
    invoice = payment.invoice
    if payment.status == Payment.Status.SUCCEEDED:
        return invoice  # already applied (a duplicate under another event id, or reconcile)
    received = int(intent.get("amount_received") or intent.get("amount") or 0)
    currency = str(intent.get("currency", "")).upper()
    payment.status = Payment.Status.SUCCEEDED
    payment.amount = received
    payment.currency = currency
    payment.received_on = timezone.localdate()
    payment.failure_message = ""
    method = note_method(payment, intent.get("latest_charge"))
    payment.save(update_fields=[*SUCCEEDED_FIELDS, *method])
    money = invoice.money(received) if currency == invoice.currency else f"{received} {currency}"
    if currency != invoice.currency:
        raise_flag(
            invoice,
            InvoiceFlag.Kind.CURRENCY_MISMATCH,
            f"Received {money} but the invoice is in {invoice.currency}: "
            "check the payment in Stripe and refund or record it by hand.",
            event_id,
        )
        return invoice
    if invoice.status not in (Invoice.Status.OPEN, Invoice.Status.UNCOLLECTIBLE):
        raise_flag(
            invoice,
            InvoiceFlag.Kind.AMOUNT_MISMATCH,
            f"Received {money} on a {invoice.get_status_display().lower()} invoice: refund it.",
            event_id,
        )
        return invoice
    if received > invoice.amount_due:
        raise_flag(
            invoice,
            InvoiceFlag.Kind.OVERPAID,
            f"Received {money} but only {invoice.money(invoice.amount_due)} was due: "
            f"refund {invoice.money(received - invoice.amount_due)}.",
            event_id,
            payment=payment,
            amount=received - invoice.amount_due,
        )
    if invoice.status == Invoice.Status.UNCOLLECTIBLE:
        invoice.status = Invoice.Status.OPEN
    invoice.add_payment(received)
    invoice.save(update_fields=Invoice.PAYMENT_FIELDS)
    record_activity(
        invoice,
        InvoiceActivity.Kind.PAYMENT_SUCCEEDED,
        message=f"Payment of {money} received ({payment.method_label})",
        payment_intent=intent["id"],
        source="stripe",
    )
    announce(invoice)
    notice = f"Payment of {money} received ({payment.method_label})."
    owed = [notice_owed(invoice, "payment_received", notice, ref=f"{payment.pk}")]
    if invoice.status == Invoice.Status.PAID:
        owed.insert(0, email_owed("receipt", invoice, payment_id=payment.pk))
    queue_all(owed)  # one insert for both
    return invoice


def _apply_pending_state(
    intent: dict[str, Any], payment_status: str, invoice_state: str, kind: str, message: str
) -> Invoice | None:
    payment = _locked_payment(intent)
    if payment is None:
        return None
    invoice = payment.invoice
    if payment.status in (Payment.Status.SUCCEEDED, Payment.Status.CANCELED):
        return invoice  # state only moves forward
    charge_id = _charge_id(intent)
    if (
        payment.status == payment_status
        and payment.failure_message in ("", message[:500])
        and charge_id in ("", payment.stripe_charge_id)
    ):
        # The same news again (a reconcile run, or a resent event); another charge
        # declined with the same words is a new attempt, not a repeat.
        return invoice
    if (
        payment.status == Payment.Status.FAILED
        and payment_status == Payment.Status.PROCESSING
        and charge_id
        and charge_id == payment.stripe_charge_id
    ):
        # Older news of the charge that already failed (a debit's `processing`
        # delivered after its failure); a new attempt would be a new charge.
        return invoice
    payment.status = payment_status
    if payment_status == Payment.Status.FAILED:
        payment.failure_message = message[:500]
    if charge_id:
        payment.stripe_charge_id = charge_id
    if payment_status == Payment.Status.PROCESSING:
        payment.processing_since = timezone.now()
    payment.save()
    if invoice.status == Invoice.Status.OPEN and invoice.stripe_payment_intent_id in (
        "",
        intent["id"],
    ):
        invoice.payment_state = invoice_state
        invoice.last_payment_error = (
            message[:500] if invoice_state == Invoice.PaymentState.FAILED else ""
        )
        invoice.save(update_fields=["payment_state", "last_payment_error", "updated_at"])
    record_activity(invoice, kind, message=message, payment_intent=intent["id"], source="stripe")
    announce(invoice)
    return invoice


def _charge_id(intent: dict[str, Any]) -> str:
    charge = intent.get("latest_charge")
    if isinstance(charge, dict):
        charge = charge.get("id")
    return charge if isinstance(charge, str) else ""


@groups_apart(stripe_api.PROCESSING)
def apply_intent_processing(intent: dict[str, Any], event_id: str = "") -> Invoice | None:
    return _apply_pending_state(
        intent,
        Payment.Status.PROCESSING,
        Invoice.PaymentState.PROCESSING,
        InvoiceActivity.Kind.PAYMENT_PROCESSING,
        "Payment processing",
    )


@groups_apart(stripe_api.REQUIRES_ACTION)
def apply_intent_requires_action(intent: dict[str, Any], event_id: str = "") -> Invoice | None:
    return _apply_pending_state(
        intent,
        Payment.Status.REQUIRES_ACTION,
        Invoice.PaymentState.REQUIRES_ACTION,
        InvoiceActivity.Kind.PAYMENT_ACTION,
        "Waiting for the customer to authenticate the card",
    )


@groups_apart("failed")
def apply_intent_failed(intent: dict[str, Any], event_id: str = "") -> Invoice | None:
    error = intent.get("last_payment_error") or {}
    reason = error.get("message") or "The payment failed."
    # This very charge already failed here: the same news again, nothing more to send.
    already = Payment.objects.filter(
        stripe_payment_intent_id=intent["id"],
        status=Payment.Status.FAILED,
        stripe_charge_id=_charge_id(intent) or "-",
    ).exists()
    invoice = _apply_pending_state(
        intent,
        Payment.Status.FAILED,
        Invoice.PaymentState.FAILED,
        InvoiceActivity.Kind.PAYMENT_FAILED,
        reason,
    )
    if invoice is None or already or invoice.payment_state != Invoice.PaymentState.FAILED:
        return invoice
    method = error.get("payment_method") or {}
    kind = method.get("type") if isinstance(method, dict) else None
    if payment_methods.is_debit(str(kind or "")):
        _debit_failed(invoice, intent, error, event_id)
    elif not _autopay_tells_staff(intent):
        queue_staff_notice(invoice, "payment_failed", f"A payment failed: {reason}")
    return invoice


def _autopay_tells_staff(intent: dict[str, Any]) -> bool:
    """Autopay's own charge failed: autopay sends staff the one notice (why, and that the
    customer was emailed the link), whether this comes while it is charging or after."""
    charge_id = _charge_id(intent) or "-"
    own = Q(status=AutopayCharge.Status.CHARGING) | Q(
        status=AutopayCharge.Status.FAILED, stripe_charge_id=charge_id
    )
    return AutopayCharge.objects.filter(own, stripe_payment_intent_id=intent["id"]).exists()


def _debit_failed(
    invoice: Invoice, intent: dict[str, Any], error: dict[str, Any], event_id: str
) -> None:
    """A bank debit bounced, days after the customer paid: the invoice is open again
    (the pay page takes a new payment), staff are told and the customer is asked to pay
    again, with the bank's reason in plain words."""
    code = str(error.get("code") or "")
    raise_flag(
        invoice,
        InvoiceFlag.Kind.DEBIT_FAILED,
        f"The bank debit of {invoice.money(invoice.amount_due)} failed"
        f" ({code or 'no reason given'}): {payment_methods.debit_failure_reason(code)}"
        " The invoice is open again and the customer was emailed a new pay link.",
        event_id,
    )
    queue_email("debit_failed", invoice, ref=_charge_id(intent) or intent["id"], reason=code)


@groups_apart(stripe_api.CANCELED)
def apply_intent_canceled(intent: dict[str, Any], event_id: str = "") -> Invoice | None:
    payment = _locked_payment(intent)
    if payment is None:
        return None
    invoice = payment.invoice
    if payment.status == Payment.Status.SUCCEEDED:
        return invoice
    payment.status = Payment.Status.CANCELED
    payment.save(update_fields=["status", "updated_at"])
    if invoice.stripe_payment_intent_id == intent["id"] and invoice.payment_state:
        invoice.payment_state = ""
        invoice.save(update_fields=["payment_state", "updated_at"])
    reason = intent.get("cancellation_reason") or "canceled"
    record_activity(
        invoice,
        InvoiceActivity.Kind.PAYMENT_CANCELED,
        message=f"Payment canceled ({reason})",
        payment_intent=intent["id"],
        source="stripe",
    )
    announce(invoice)
    return invoice


def payment_for_charge(charge: dict[str, Any]) -> Payment | None:
    intent_id = charge.get("payment_intent")
    if not intent_id:
        return None
    return _locked_payment({"id": intent_id}, stamped=False)


def note_method(payment: Payment, charge: Any) -> list[str]:
    """Keep how the charge was paid (Stripe's payment_method_details); the fields changed."""
    kind, details = payment_methods.from_charge(charge)
    if not kind or (kind, details) == (payment.method_type, payment.method_details):
        return []
    payment.method_type, payment.method_details = kind, details
    if kind == payment_methods.MethodType.CARD:
        payment.card_brand = str(details.get("brand", ""))[:32]
        payment.card_last4 = str(details.get("last4", ""))[:4]
    return ["method_type", "method_details", "card_brand", "card_last4"]


def apply_charge_succeeded(charge: dict[str, Any], event_id: str = "") -> Invoice | None:
    """Card brand and last 4 (or the bank and its last 4) for the receipt (the
    intent's event carries only ids), and Stripe's fee for the ledger."""
    fee = balance.charge_fee(charge)  # a Stripe call: made before any row is locked
    payment = payment_for_charge(charge)
    if payment is None:
        return group_handlers.note_charge(charge)  # a combined payment's, or not ours
    balance.record_fee(payment, fee)
    return _note_charge(payment, charge)


def apply_charge_pending(charge: dict[str, Any], event_id: str = "") -> Invoice | None:
    """`charge.pending` and `charge.failed`: the bank and its last 4 for the processing
    notice. What they say of the state, the intent's own event says; a pending or
    failed charge has no fee to book."""
    payment = payment_for_charge(charge)
    if payment is None:
        return group_handlers.note_charge(charge)
    # A failed charge's id is the intent's failure event's to record: that event tells a
    # new decline from a repeat by it (a second decline on the same intent is news).
    return _note_charge(payment, charge, charge_id=charge.get("status") != "failed")


def _note_charge(payment: Payment, charge: dict[str, Any], *, charge_id: bool = True) -> Invoice:
    changed = note_method(payment, charge)
    if charge_id and payment.stripe_charge_id != charge["id"]:
        payment.stripe_charge_id = charge["id"]
        changed.append("stripe_charge_id")
    if changed:
        payment.save(update_fields=[*changed, "updated_at"])
        announce(payment.invoice)
    return payment.invoice


def apply_charge_refunded(charge: dict[str, Any], event_id: str = "") -> Invoice | None:
    """Since API 2022-11-15 a charge no longer embeds its refunds: each one arrives
    as its own refund.* event. Older payloads that do embed them are applied."""
    payment = payment_for_charge(charge)
    if payment is None:
        return None
    if charge.get("id") and payment.stripe_charge_id != charge["id"]:
        payment.stripe_charge_id = charge["id"]
        payment.save(update_fields=["stripe_charge_id", "updated_at"])
    embedded = (charge.get("refunds") or {}).get("data") or []
    for refund in embedded:
        if isinstance(refund, dict) and refund.get("id"):
            refunds.apply_refund({**refund, "payment_intent": charge["payment_intent"]}, event_id)
    return payment.invoice
