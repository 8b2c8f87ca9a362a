"""Invoice workflows with side effects (numbering, Stripe, email, live push, activity).

Each is a keyword-only function. Database changes happen in one transaction
with the invoice row locked; emails and live pushes happen after commit.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from invoices.models import BusinessProfile, Invoice, InvoiceActivity
from invoices.numbering import take_next_number

logger = logging.getLogger(__name__)


class InvoiceStateError(Exception):
    """An action that the invoice's state does not allow; the message is for people."""


def record_activity(
    invoice: Invoice,
    kind: str,
    *,
    actor: Any = None,
    message: str = "",
    **data: Any,
) -> InvoiceActivity:
    return InvoiceActivity.objects.create(
        invoice=invoice,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        message=message[:500],
        data=data,
    )


def lock(invoice: Invoice) -> Invoice:
    """Re-read the invoice with its row locked until the transaction ends."""
    return Invoice.objects.select_for_update().select_related("customer").get(pk=invoice.pk)


def announce(invoice: Invoice) -> None:
    """After commit: push the invoice's new state to every open page."""
    from invoices import live

    def push() -> None:
        fresh = Invoice.objects.select_related("customer").get(pk=invoice.pk)
        live.invoice_changed(fresh)

    transaction.on_commit(push)


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
        announce(invoice)
    return invoice
