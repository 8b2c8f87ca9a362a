"""What Stripe reports about a combined payment (`invoices.payments.groups`), applied.

Called by the single-invoice handlers when the intent names a payment group, inside
the webhook's transaction. Idempotent: the group row is locked and a group already
booked is left alone, so repeated or reordered deliveries book each invoice once.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from invoices import payment_methods, stripe_api
from invoices.activity import announce, record_activity
from invoices.models import (
    CustomerCredit,
    Invoice,
    InvoiceActivity,
    InvoiceFlag,
    Payment,
    PaymentGroup,
)
from invoices.outbox import queue_email, queue_staff_notice
from invoices.payments.groups import METADATA_KEY, allocate
from portal.money import format_money

# Only forward: a booked group never moves again; a canceled one only to booked money.
_ENDED = (PaymentGroup.Status.SUCCEEDED, PaymentGroup.Status.CANCELED)


def names_group(intent: dict[str, Any]) -> bool:
    return bool((intent.get("metadata") or {}).get(METADATA_KEY))


def _locked(intent: dict[str, Any]) -> tuple[PaymentGroup, list[Invoice]] | None:
    """The group (locked) and its invoices (locked in id order, oldest-first list), if
    this deployment created the intent: stamped as ours and stored under its id."""
    if not stripe_api.is_ours(intent):
        return None
    group = (
        PaymentGroup.objects.select_for_update()
        .filter(stripe_payment_intent_id=intent["id"])
        .first()
    )
    if group is None:
        return None
    allocations = list(group.allocations.all())
    locked = {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_for_update()
        .select_related("customer")
        .filter(pk__in=[a.invoice_id for a in allocations])
        .order_by("pk")
    }
    return group, [locked[a.invoice_id] for a in sorted(allocations, key=lambda a: a.position)]


def apply(intent: dict[str, Any], status: str) -> Invoice | None:
    """`status`: Stripe's word for the event (succeeded, processing, failed, canceled ...)."""
    found = _locked(intent)
    if found is None:
        return None
    group, invoices = found
    if group.status == PaymentGroup.Status.SUCCEEDED:
        return invoices[0]  # already booked: a duplicate, or news older than the success
    if status == stripe_api.SUCCEEDED:
        _book(group, invoices, intent)
    elif group.status != PaymentGroup.Status.CANCELED:
        _note(group, invoices, intent, status)
    return invoices[0]


def _note(
    group: PaymentGroup, invoices: list[Invoice], intent: dict[str, Any], status: str
) -> None:
    """Failed, canceled, processing: the group says so; no invoice's amounts change."""
    new = {
        "failed": PaymentGroup.Status.FAILED,
        stripe_api.CANCELED: PaymentGroup.Status.CANCELED,
        stripe_api.PROCESSING: PaymentGroup.Status.PROCESSING,
    }.get(status, PaymentGroup.Status.PENDING)
    error = intent.get("last_payment_error") or {}
    message = str(error.get("message") or "")[:500] if new == PaymentGroup.Status.FAILED else ""
    if (group.status, group.failure_message) == (new, message):
        return  # the same news again
    group.status, group.failure_message = new, message
    group.save(update_fields=["status", "failure_message"])
    if new in (PaymentGroup.Status.FAILED, PaymentGroup.Status.CANCELED):
        kind = (
            InvoiceActivity.Kind.PAYMENT_FAILED
            if new == PaymentGroup.Status.FAILED
            else InvoiceActivity.Kind.PAYMENT_CANCELED
        )
        text = f"Combined payment {new}" + (f": {message}" if message else "")
        for invoice in invoices:
            record_activity(
                invoice, kind, message=text, payment_intent=intent["id"], source="stripe"
            )


def _book(group: PaymentGroup, invoices: list[Invoice], intent: dict[str, Any]) -> None:
    received = int(intent.get("amount_received") or intent.get("amount") or 0)
    currency = str(intent.get("currency", "")).upper()
    if currency != group.currency:
        # Stripe charges in the intent's currency; should it ever not, a person decides.
        message = f"Combined payment {intent['id']} arrived in {currency}, not {group.currency}."
        group.status, group.failure_message = PaymentGroup.Status.FAILED, message
        group.save(update_fields=["status", "failure_message"])
        queue_staff_notice(invoices[0], "flag", message, ref=f"group-currency-{group.pk}")
        return
    dues = [
        i.amount_due if i.status in (Invoice.Status.OPEN, Invoice.Status.UNCOLLECTIBLE) else 0
        for i in invoices
    ]
    shares, excess = allocate(received, dues)
    allocations = {a.invoice_id: a for a in group.allocations.all()}
    total = format_money(received, currency)
    for invoice, share in zip(invoices, shares, strict=True):
        if share:
            allocations[invoice.pk].payment = _book_share(
                group, invoice, share, intent["id"], total
            )
            allocations[invoice.pk].save(update_fields=["payment"])
    if excess:
        _keep_as_credit(group, invoices[0], excess, intent["id"])
    group.status = PaymentGroup.Status.SUCCEEDED
    group.amount_received = received
    group.amount_credited = excess
    group.applied_at = timezone.now()
    group.save()


def _book_share(
    group: PaymentGroup, invoice: Invoice, share: int, intent_id: str, total: str
) -> Payment:
    """The invoice's own payment (its receipt line), booked as a card payment is."""
    payment = Payment(
        invoice=invoice,
        method=Payment.Method.ONLINE,
        status=Payment.Status.SUCCEEDED,
        amount=share,
        currency=invoice.currency,
        received_on=timezone.localdate(),
        # What receipts show as the payment's id (the intent is the group's, not the row's).
        reference=intent_id,
    )
    _copy_method(group, payment)
    payment.save()
    if invoice.status == Invoice.Status.UNCOLLECTIBLE:
        invoice.status = Invoice.Status.OPEN
    invoice.add_payment(share)
    invoice.save()
    money = invoice.money(share)
    record_activity(
        invoice,
        InvoiceActivity.Kind.PAYMENT_SUCCEEDED,
        message=f"Payment of {money} received (part of a combined card payment of {total})",
        payment_intent=intent_id,
        source="stripe",
    )
    announce(invoice)
    if invoice.status == Invoice.Status.PAID:
        queue_email("receipt", invoice, payment_id=payment.pk)
    queue_staff_notice(
        invoice,
        "payment_received",
        f"Payment of {money} received (part of a combined card payment of {total}).",
        ref=f"{payment.pk}",
    )
    return payment


def _keep_as_credit(group: PaymentGroup, invoice: Invoice, excess: int, intent_id: str) -> None:
    """Money beyond what the invoices still owed (settled another way meanwhile)."""
    CustomerCredit.objects.create(customer=group.customer, currency=group.currency, amount=excess)
    message = (
        f"{format_money(excess, group.currency)} of combined payment {intent_id} was more than "
        "the invoices still owed: kept as the customer's account credit."
    )
    record_activity(invoice, InvoiceActivity.Kind.UPDATED, message=message, source="stripe")
    queue_staff_notice(invoice, "flag", message, ref=f"group-credit-{group.pk}")


def _copy_method(group: PaymentGroup, payment: Payment) -> None:
    # Not the charge id: refunds and disputes found by it would land on one share.
    payment.method_type = group.method_type or payment_methods.MethodType.CARD
    payment.method_details = group.method_details
    if payment.method_type == payment_methods.MethodType.CARD:
        payment.card_brand = str(group.method_details.get("brand", ""))[:32]
        payment.card_last4 = str(group.method_details.get("last4", ""))[:4]


def note_charge(charge: dict[str, Any]) -> Invoice | None:
    """A combined payment's charge: how it was paid, for each invoice's receipt (the
    charge's events may come before or after the intent's success)."""
    intent_id = charge.get("payment_intent")
    group = (
        PaymentGroup.objects.select_for_update().filter(stripe_payment_intent_id=intent_id).first()
        if isinstance(intent_id, str) and intent_id
        else None
    )
    if group is None:
        return None
    kind, details = payment_methods.from_charge(charge)
    group.stripe_charge_id = str(charge.get("id") or "")[:255]
    if kind:
        group.method_type, group.method_details = kind, details
    group.save(update_fields=["stripe_charge_id", "method_type", "method_details"])
    allocations = list(group.allocations.select_related("invoice", "payment").order_by("position"))
    for allocation in allocations:
        if allocation.payment is not None:
            _copy_method(group, allocation.payment)
            allocation.payment.save()
            announce(allocation.invoice)
    return allocations[0].invoice if allocations else None


def flag_unapplied(obj: dict[str, Any], what: str, event_id: str) -> Invoice | None:
    """A refund or dispute of a combined payment is not split over its invoices by itself:
    each invoice is flagged (once per refund or dispute) for staff to record by hand."""
    intent_id = obj.get("payment_intent")
    group = (
        PaymentGroup.objects.select_for_update().filter(stripe_payment_intent_id=intent_id).first()
        if isinstance(intent_id, str) and intent_id
        else None
    )
    if group is None:
        return None
    amount = format_money(int(obj.get("amount") or 0), group.currency)
    message = (
        f"Stripe reports a {what} of {amount} ({obj.get('id')}) on combined payment "
        f"{intent_id}: record each invoice's part by hand."
    )[:500]
    invoices = [a.invoice for a in group.allocations.select_related("invoice").order_by("position")]
    kind = InvoiceFlag.Kind.DISPUTE if what == "dispute" else InvoiceFlag.Kind.AMOUNT_MISMATCH
    for invoice in invoices:
        if invoice.flags.filter(message=message).exists():
            continue
        InvoiceFlag.objects.create(
            invoice=invoice,
            kind=kind,
            message=message,
            stripe_event_id=event_id,
        )
        record_activity(invoice, InvoiceActivity.Kind.FLAGGED, message=message, source="stripe")
        queue_staff_notice(invoice, "flag", message, ref=f"group-{what}-{obj.get('id')}")
        announce(invoice)
    return invoices[0] if invoices else None
