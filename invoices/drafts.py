"""Changes to a draft that are more than an edit of its fields, each with its trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from customers.models import Customer
from invoices.activity import InvoiceStateError, announce, lock, record_activity
from invoices.models import Invoice, InvoiceActivity

LOCKED = "This invoice is finalized: it can no longer be edited."


@dataclass(frozen=True)
class CustomerChange:
    invoice: Invoice
    changed: bool
    currency_changed: bool


def change_customer(*, invoice: Invoice, customer: Customer, actor: Any) -> CustomerChange:
    """Bill a draft to someone else.

    The language of the documents follows the customer by itself (it is read when they
    are rendered). The currency stays, because the prices were typed in it, unless the
    draft has no lines yet: then it becomes the currency the new customer was last
    invoiced in (if ever), as the new draft would most likely have been started in it.
    """
    with transaction.atomic():
        invoice = lock(invoice)
        if not invoice.is_draft:
            raise InvoiceStateError(LOCKED)
        before = invoice.customer
        if before.pk == customer.pk:
            return CustomerChange(invoice, changed=False, currency_changed=False)
        invoice.customer = customer
        old_currency = invoice.currency
        if not invoice.lines.exists():
            last = (
                customer.invoices.exclude(pk=invoice.pk)
                .order_by("-created_at", "-id")
                .values_list("currency", flat=True)
                .first()
            )
            invoice.currency = last or invoice.currency
        invoice.save()
        record_activity(
            invoice,
            InvoiceActivity.Kind.UPDATED,
            actor=actor,
            message=f"Customer changed from {before.name} to {customer.name}"[:500],
            from_customer=before.pk,
            to_customer=customer.pk,
            from_currency=old_currency,
            to_currency=invoice.currency,
        )
        announce(invoice)
    return CustomerChange(invoice, changed=True, currency_changed=old_currency != invoice.currency)
