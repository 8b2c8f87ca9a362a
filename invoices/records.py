"""The invoice's history: the activity trail, flags for staff, the reminders sent.

Models of the `invoices` app, registered through `invoices.models`; they name
the invoice by string, so this module imports no other model module.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class InvoiceActivity(models.Model):
    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        FINALIZED = "finalized", "Finalized"
        SENT = "sent", "Sent"
        VIEWED = "viewed", "Viewed by the customer"
        PAYMENT_ATTEMPTED = "payment_attempted", "Payment attempted"
        PAYMENT_ACTION = "payment_action", "Payment waiting for authentication"
        PAYMENT_PROCESSING = "payment_processing", "Payment processing"
        PAYMENT_FAILED = "payment_failed", "Payment failed"
        PAYMENT_CANCELED = "payment_canceled", "Payment canceled"
        PAYMENT_SUCCEEDED = "payment_succeeded", "Payment received"
        PAYMENT_RECORDED = "payment_recorded", "Offline payment recorded"
        PAYMENT_REVERSED = "payment_reversed", "Offline payment reversed"
        CREDIT_NOTE = "credit_note", "Credit note issued"
        CREDIT_APPLIED = "credit_applied", "Account credit applied"
        REFUND_REQUESTED = "refund_requested", "Refund requested"
        REFUNDED = "refunded", "Refunded"
        REFUND_FAILED = "refund_failed", "Refund failed"
        DISPUTED = "disputed", "Disputed"
        DISPUTE_FUNDS_WITHDRAWN = "dispute_funds_withdrawn", "Disputed funds withdrawn"
        DISPUTE_FUNDS_REINSTATED = "dispute_funds_reinstated", "Disputed funds reinstated"
        DISPUTE_CLOSED = "dispute_closed", "Dispute closed"
        FLAGGED = "flagged", "Flagged for review"
        VOIDED = "voided", "Voided"
        UNCOLLECTIBLE = "uncollectible", "Marked uncollectible"
        REMINDER_SENT = "reminder_sent", "Reminder sent"
        LINK_REVOKED = "link_revoked", "Pay link replaced"
        DUPLICATED = "duplicated", "Duplicated"
        RECURRING = "recurring", "Created by a recurring template"

    invoice = models.ForeignKey("Invoice", on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "invoice activities"
        indexes = [models.Index(fields=["invoice", "kind"], name="activity_invoice_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}" if self.message else self.kind

    @property
    def actor_label(self) -> str:
        if self.actor_id:
            return str(self.actor)
        return str(self.data.get("source", "system"))


class InvoiceFlag(models.Model):
    """Something a webhook found that staff must look at (never silently fixed)."""

    class Kind(models.TextChoices):
        AMOUNT_MISMATCH = "amount_mismatch", "Amount does not match"
        CURRENCY_MISMATCH = "currency_mismatch", "Currency does not match"
        OVERPAID = "overpaid", "Paid more than due"
        DISPUTE = "dispute", "Payment disputed"
        REFUND_FAILED = "refund_failed", "Refund failed"
        INVALID_EVENT = "invalid_event", "Stripe event could not be applied"
        DEBIT_FAILED = "debit_failed", "Bank debit failed after processing"
        AUTOPAY_FAILED = "autopay_failed", "Automatic payment failed"

    invoice = models.ForeignKey("Invoice", on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    message = models.CharField(max_length=500)
    # For an overpayment: the card payment and the excess, so staff can refund it in one click.
    payment = models.ForeignKey(
        "Payment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.BigIntegerField(default=0)
    stripe_event_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.message


class InvoiceReminder(models.Model):
    """One row per reminder sent: the unique pair makes `send_reminders` idempotent."""

    invoice = models.ForeignKey("Invoice", on_delete=models.CASCADE, related_name="reminders")
    offset_days = models.IntegerField(help_text="Days relative to the due date.")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "offset_days"], name="reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.offset_days:+d}d"
