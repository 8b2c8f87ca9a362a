"""What Stripe told us and what we asked of it: webhook events, refunds, our key.

Models of the `invoices` app, registered through `invoices.models`; they name
the invoice and payment by string, so this module imports no other model module.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from portal.money import format_money


def new_install_key() -> str:
    return secrets.token_hex(8)


class StripeEvent(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"
        INVALID = "invalid", "Invalid (flagged)"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField()
    livemode = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    invoice = models.ForeignKey(
        "Invoice", null=True, blank=True, on_delete=models.SET_NULL, related_name="stripe_events"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # Both end with the id so a page link seeks straight to its row (portal/keyset.py).
            models.Index(fields=["status", "-received_at", "-id"], name="event_status_received_id"),
            models.Index(fields=["-received_at", "-id"], name="event_received_id"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Refund(models.Model):
    """One Stripe refund of a card payment. Only `succeeded` money is refunded money;
    `pending` already counts against what can still be refunded."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        REQUIRES_ACTION = "requires_action", "Requires action"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    payment = models.ForeignKey("Payment", on_delete=models.PROTECT, related_name="refunds")
    stripe_refund_id = models.CharField(max_length=255, unique=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=100, blank=True)
    # Stripe's fee and net for the refund, from its balance transaction (net is negative:
    # money leaving the balance), in the balance's currency.
    stripe_fee = models.BigIntegerField(null=True, blank=True)
    stripe_net = models.BigIntegerField(null=True, blank=True)
    balance_currency = models.CharField(max_length=3, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.stripe_refund_id} {format_money(self.amount, self.currency)} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.REQUIRES_ACTION)


class Installation(models.Model):
    """One row: a random key made when this database was first used.

    It goes into every Stripe idempotency key, so two deployments on one Stripe
    account, or one deployment after its database was reset, never send the
    same key for different requests (Stripe would replay the old answer for 24 h).
    """

    key = models.CharField(max_length=32, default=new_install_key, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key

    @classmethod
    def current_key(cls) -> str:
        row, _ = cls.objects.get_or_create(pk=1)
        return row.key
