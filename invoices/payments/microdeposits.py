"""An ACH account typed in by hand is verified by microdeposits before it is debited:
Stripe's `payment_intent.requires_action` with `next_action.verify_with_microdeposits`
puts the invoice in its own payment state (`VERIFYING`), with Stripe's hosted page to
verify on; any other `requires_action` (3-D Secure) is `handlers`'."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from invoices import stripe_api
from invoices.models import Invoice, InvoiceActivity, Payment
from invoices.payments import handlers


@handlers.groups_apart(stripe_api.REQUIRES_ACTION)
def apply_intent_requires_action(intent: dict[str, Any], event_id: str = "") -> Invoice | None:
    action = intent.get("next_action") or {}
    if action.get("type") == "verify_with_microdeposits":
        return _apply_awaiting(intent, action.get("verify_with_microdeposits") or {})
    return handlers.apply_intent_requires_action(intent, event_id)


def _apply_awaiting(intent: dict[str, Any], details: dict[str, Any]) -> Invoice | None:
    """A bank account typed in by hand: Stripe sends two small deposits, and the payment
    starts once the customer confirms them on Stripe's page (`hosted_verification_url`)."""
    payment = handlers._locked_payment(intent)
    if payment is None:
        return None
    if payment.status == Payment.Status.PROCESSING:
        return payment.invoice  # older news: the verified debit is already on its way
    invoice = handlers._apply_pending_state(
        intent,
        Payment.Status.REQUIRES_ACTION,
        Invoice.PaymentState.VERIFYING,
        InvoiceActivity.Kind.PAYMENT_ACTION,
        "Waiting for the customer to verify their bank account (microdeposits)",
    )
    url = str(details.get("hosted_verification_url") or "")
    arrival = details.get("arrival_date")
    if invoice is not None and url.startswith(("https://", "http://")):
        Payment.objects.filter(stripe_payment_intent_id=intent["id"]).update(
            verification_url=url[:2000],
            deposits_arrive_on=(
                timezone.localdate(datetime.fromtimestamp(arrival, UTC))
                if isinstance(arrival, int)
                else None
            ),
        )
    return invoice
