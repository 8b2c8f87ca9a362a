"""The states and choices of invoices and payments, and why an invoice cannot be paid.

Constants, not literal strings: code compares with these (`InvoiceStatus.PAID`),
and the models take their choices from them (`Invoice.Status` is `InvoiceStatus`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext, gettext_noop, pgettext_lazy

from portal.i18n import format_money_in
from portal.money import minimum_charge

# The portal's own accent: what the pay page wears until the business picks a colour.
DEFAULT_BRAND_COLOR = "#3446c9"


class Terms(models.TextChoices):
    DUE_ON_RECEIPT = "due_on_receipt", "Due on receipt"
    NET_15 = "net_15", "Net 15"
    NET_30 = "net_30", "Net 30"
    NET_60 = "net_60", "Net 60"
    CUSTOM = "custom", "Custom due date"

    @classmethod
    def days(cls, terms: str) -> int | None:
        return {"due_on_receipt": 0, "net_15": 15, "net_30": 30, "net_60": 60}.get(terms)


class InvoiceStatus(models.TextChoices):
    # Labels are shown to customers too (pay page, PDFs), in their language.
    DRAFT = "draft", pgettext_lazy("invoice status", "Draft")
    OPEN = "open", pgettext_lazy("invoice status", "Open")
    PAID = "paid", pgettext_lazy("invoice status", "Paid")
    VOID = "void", pgettext_lazy("invoice status", "Void")
    UNCOLLECTIBLE = "uncollectible", pgettext_lazy("invoice status", "Uncollectible")


class DiscountKind(models.TextChoices):
    NONE = "", "No discount"
    AMOUNT = "amount", "Amount"
    PERCENT = "percent", "Percent"


class PaymentState(models.TextChoices):
    """What the customer's latest card payment is doing (paid or not is `status`)."""

    NONE = "", "None"
    REQUIRES_ACTION = "requires_action", "Waiting for authentication"
    PROCESSING = "processing", "Processing"
    FAILED = "failed", "Failed"
    # An ACH account typed in by hand: Stripe sent microdeposits, the customer must verify.
    VERIFYING = "verifying", "Waiting for bank account verification"


class DisputeStatus(models.TextChoices):
    NONE = "", "None"
    OPEN = "open", "Disputed"
    WON = "won", "Dispute won"
    LOST = "lost", "Dispute lost"
    # An inquiry (retrieval request) that closed without becoming a chargeback.
    WARNING_CLOSED = "warning_closed", "Inquiry closed"
    # Resolved before it became a chargeback (e.g. by the card network's prevention).
    PREVENTED = "prevented", "Dispute prevented"


class PaymentMethod(models.TextChoices):
    # Paid online through Stripe: a card or a bank debit (which one is
    # `Payment.method_type`). The stored value stays "card" from the days of
    # card-only payments, so existing rows keep their meaning.
    ONLINE = "card", pgettext_lazy("payment method", "Paid online")
    BANK_TRANSFER = "bank_transfer", pgettext_lazy("payment method", "Bank transfer")
    CASH = "cash", pgettext_lazy("payment method", "Cash")
    CHECK = "check", pgettext_lazy("payment method", "Check")
    OTHER = "other", pgettext_lazy("payment method", "Other")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    REQUIRES_ACTION = "requires_action", "Requires action"
    PROCESSING = "processing", "Processing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    # An offline payment recorded by mistake, taken back with a reason (never deleted).
    REVERSED = "reversed", "Reversed"


# Why the customer may not pay online (`Invoice.payment_refusal`). Customer-facing:
# marked for translation here, translated where the pay page shows them.
# Uncollectible: Stripe still books a payment that lands on such an invoice (so do
# we, and staff may record one, which reopens it), but the business wrote it off,
# so the portal stops asking for it. Processing: a payment is on its way (a bank
# debit takes days); a second one would charge twice.
PROCESSING_MESSAGE = gettext_noop(
    "Your payment is processing. We will email your receipt when it completes."
)
VERIFYING_MESSAGE = gettext_noop(
    "Your bank account is being verified. Your payment starts as soon as you confirm the "
    "small deposit we sent to it; there is no need to pay again."
)
NOTHING_DUE_MESSAGE = gettext_noop("There is nothing left to pay on this invoice.")
STATUS_REFUSALS = {
    InvoiceStatus.DRAFT: gettext_noop("This invoice is not ready to be paid yet."),
    InvoiceStatus.PAID: gettext_noop("This invoice is already paid. Thank you!"),
    InvoiceStatus.VOID: gettext_noop("This invoice was voided; there is nothing to pay."),
    InvoiceStatus.UNCOLLECTIBLE: gettext_noop(
        "This invoice can no longer be paid online. Please contact us."
    ),
}


def below_minimum_message(amount_due: int, currency: str) -> str | None:
    """Stripe refuses a card payment under its per-currency minimum: say so up front
    (in the active language: the customer's on their pages)."""
    if 0 < amount_due < minimum_charge(currency):
        return gettext(
            "The smallest card payment in %(currency)s is %(smallest)s. Please contact "
            "us to pay the remaining %(remaining)s another way."
        ) % {
            "currency": currency.upper(),
            "smallest": format_money_in(minimum_charge(currency), currency),
            "remaining": format_money_in(amount_due, currency),
        }
    return None
