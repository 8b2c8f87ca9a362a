"""Card payments from the pay page: the PaymentIntent for an invoice's amount due.

What Stripe reports afterwards is applied by `invoices.handlers`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from invoices import stripe_api
from invoices.models import Invoice, InvoiceActivity, Payment
from invoices.services import InvoiceStateError, lock, record_activity

logger = logging.getLogger(__name__)

PROCESSING_MESSAGE = "Your payment is processing. We will email your receipt when it completes."
REFUSALS = {
    Invoice.Status.DRAFT: "This invoice is not ready to be paid yet.",
    Invoice.Status.PAID: "This invoice is already paid. Thank you!",
    Invoice.Status.VOID: "This invoice was voided; there is nothing to pay.",
    Invoice.Status.UNCOLLECTIBLE: "This invoice can no longer be paid online. Please contact us.",
}


@dataclass(frozen=True)
class PaymentSession:
    payment_intent_id: str
    client_secret: str
    amount: int
    currency: str


def refusal(invoice: Invoice) -> str | None:
    if invoice.status in REFUSALS:
        return REFUSALS[invoice.status]
    if invoice.amount_due <= 0:
        return "There is nothing left to pay on this invoice."
    if invoice.payment_state == Invoice.PaymentState.PROCESSING:
        return PROCESSING_MESSAGE
    return None


def start_payment(*, invoice: Invoice) -> PaymentSession:
    """The PaymentIntent for the invoice's amount due: reused while confirmable, else new.

    Raises InvoiceStateError (not payable) or stripe_api.StripeError.
    """
    with transaction.atomic():
        # The row lock makes a double click wait and then reuse the first intent.
        invoice = lock(invoice)
        if message := refusal(invoice):
            raise InvoiceStateError(message)
        amount = invoice.amount_due
        if invoice.stripe_payment_intent_id:
            intent = stripe_api.retrieve_payment_intent(invoice.stripe_payment_intent_id)
            if intent.status in stripe_api.CONFIRMABLE:
                if intent.amount != amount:
                    intent = stripe_api.update_payment_intent_amount(intent.id, amount)
                    Payment.objects.filter(stripe_payment_intent_id=intent.id).update(amount=amount)
                return _session(intent)
            if intent.status == "processing":
                raise InvoiceStateError(PROCESSING_MESSAGE)
            if intent.status == "succeeded":
                raise InvoiceStateError("We have received your payment and are recording it.")
        customer_id = stripe_api.ensure_customer(invoice.customer)
        attempts = invoice.payments.filter(method=Payment.Method.CARD).count()
        intent = stripe_api.create_payment_intent(
            invoice=invoice,
            amount=amount,
            stripe_customer_id=customer_id,
            idempotency_key=f"portal-pi-{invoice.pk}-{amount}-{attempts}",
        )
        Payment.objects.get_or_create(
            stripe_payment_intent_id=intent.id,
            defaults={
                "invoice": invoice,
                "method": Payment.Method.CARD,
                "amount": amount,
                "currency": invoice.currency,
            },
        )
        invoice.stripe_payment_intent_id = intent.id
        invoice.save(update_fields=["stripe_payment_intent_id", "updated_at"])
        record_activity(
            invoice,
            InvoiceActivity.Kind.PAYMENT_ATTEMPTED,
            message=f"Card payment of {invoice.money(amount)} started",
            payment_intent=intent.id,
            source="customer",
        )
    return _session(intent)


def _session(intent: Any) -> PaymentSession:
    return PaymentSession(
        payment_intent_id=intent.id,
        client_secret=intent.client_secret,
        amount=intent.amount,
        currency=intent.currency,
    )
