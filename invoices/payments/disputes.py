"""Disputes on a payment, as Stripe reports them: applied inside the webhook's
transaction like `handlers` (idempotent, any order). A dispute on a bank debit
is shown like a card dispute.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from invoices.activity import announce, record_activity
from invoices.models import Invoice, InvoiceActivity, InvoiceFlag
from invoices.outbox import queue_staff_notice
from invoices.payments import group_handlers
from invoices.payments.handlers import Ignored, payment_for_charge, raise_flag


def apply_dispute_created(dispute: dict[str, Any], event_id: str = "") -> Invoice | None:
    payment = payment_for_charge(dispute)
    if payment is None:  # a combined payment's (flagged for staff), or not ours
        return group_handlers.flag_unapplied(dispute, "dispute", event_id)
    invoice = payment.invoice
    if invoice.dispute_status == Invoice.DisputeStatus.OPEN:
        return invoice
    invoice.dispute_status = Invoice.DisputeStatus.OPEN
    invoice.save(update_fields=["dispute_status", "updated_at"])
    amount = invoice.money(int(dispute.get("amount") or 0))
    reason = str(dispute.get("reason") or "unspecified").replace("_", " ")
    raise_flag(
        invoice,
        InvoiceFlag.Kind.DISPUTE,
        f"The customer disputed {amount} ({reason}). Respond with evidence in Stripe "
        "before the deadline.",
        event_id,
    )
    record_activity(invoice, InvoiceActivity.Kind.DISPUTED, message=reason, source="stripe")
    announce(invoice)
    queue_staff_notice(
        invoice, "dispute", f"Payment disputed: {amount} ({reason}).", ref=f"{dispute.get('id')}"
    )
    return invoice


# Stripe's closed dispute statuses. Inquiries ("warning_*") and prevented
# disputes never took the money; only "lost" keeps it with the customer.
DISPUTE_OUTCOMES = {
    "won": Invoice.DisputeStatus.WON,
    "lost": Invoice.DisputeStatus.LOST,
    "warning_closed": Invoice.DisputeStatus.WARNING_CLOSED,
    "prevented": Invoice.DisputeStatus.PREVENTED,
}


def apply_dispute_closed(dispute: dict[str, Any], event_id: str = "") -> Invoice | None:
    payment = payment_for_charge(dispute)
    if payment is None:
        return None
    invoice = payment.invoice
    status = str(dispute.get("status") or "")
    outcome = DISPUTE_OUTCOMES.get(status)
    if outcome is None:
        raise Ignored(f"dispute {dispute.get('id')} closed with unknown status {status!r}")
    if invoice.dispute_status == outcome:
        return invoice
    invoice.dispute_status = outcome
    invoice.save(update_fields=["dispute_status", "updated_at"])
    invoice.flags.filter(kind=InvoiceFlag.Kind.DISPUTE, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    record_activity(
        invoice,
        InvoiceActivity.Kind.DISPUTE_CLOSED,
        message=outcome.label,
        dispute=dispute.get("id"),
        source="stripe",
    )
    announce(invoice)
    return invoice


def apply_dispute_funds_withdrawn(dispute: dict[str, Any], event_id: str = "") -> Invoice | None:
    return _dispute_funds(
        dispute, InvoiceActivity.Kind.DISPUTE_FUNDS_WITHDRAWN, "withdrawn from your balance"
    )


def apply_dispute_funds_reinstated(dispute: dict[str, Any], event_id: str = "") -> Invoice | None:
    return _dispute_funds(
        dispute, InvoiceActivity.Kind.DISPUTE_FUNDS_REINSTATED, "returned to your balance"
    )


def _dispute_funds(dispute: dict[str, Any], kind: str, what: str) -> Invoice | None:
    payment = payment_for_charge(dispute)
    if payment is None:
        return None
    invoice = payment.invoice
    dispute_id = dispute.get("id") or ""
    if invoice.activities.filter(kind=kind, data__dispute=dispute_id).exists():
        return invoice  # the same news again
    amount = int(dispute.get("amount") or 0)
    record_activity(
        invoice,
        kind,
        message=f"Disputed {invoice.money(amount)} {what}",
        dispute=dispute_id,
        amount=amount,
        source="stripe",
    )
    announce(invoice)
    return invoice
