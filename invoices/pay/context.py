"""What the customer's pages render: shared by the pay views and the live push."""

from __future__ import annotations

from typing import Any

from invoices.models import BusinessProfile, Invoice, Payment


def pay_status_context(invoice: Invoice, *, live: bool = False) -> dict[str, Any]:
    receipt = None
    if invoice.status == Invoice.Status.PAID:
        receipt = (
            invoice.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-updated_at").first()
        )
    refused = invoice.payment_refusal
    return {
        "invoice": invoice,
        "receipt": receipt,
        "can_pay": refused is None,
        # Shown on the page only when it is the reason (not a status that says more).
        "below_minimum": refused if refused and refused == invoice.below_minimum else "",
        "live": live,
    }


def pay_page_context(invoice: Invoice) -> dict[str, Any]:
    return {
        **pay_status_context(invoice),
        "business": BusinessProfile.load(),
        "lines": list(invoice.lines.all()),
    }
