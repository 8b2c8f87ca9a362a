"""What the customer's pages render: shared by the pay views and the live push."""

from __future__ import annotations

from typing import Any

from invoices.models import BusinessProfile, Invoice, Payment


def pay_status_context(invoice: Invoice, *, live: bool = False) -> dict[str, Any]:
    from invoices.payments import below_minimum, refusal

    receipt = None
    if invoice.status == Invoice.Status.PAID:
        receipt = (
            invoice.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-updated_at").first()
        )
    refused = refusal(invoice)
    minimum = below_minimum(invoice) if invoice.is_payable else None
    return {
        "invoice": invoice,
        "receipt": receipt,
        "can_pay": refused is None,
        "below_minimum": minimum if refused == minimum else "",
        "live": live,
    }


def pay_page_context(invoice: Invoice) -> dict[str, Any]:
    credit_notes = list(invoice.credit_notes.all())
    return {
        **pay_status_context(invoice),
        "business": BusinessProfile.load(),
        "lines": list(invoice.lines.all()),
        "credit_notes": credit_notes,
        # What is credited beyond its own credit notes came from the customer's account.
        "credit_applied": invoice.amount_credited - sum(n.amount for n in credit_notes),
    }
