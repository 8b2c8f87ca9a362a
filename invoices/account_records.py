"""The customer's account: staff actions on its link, and payments that cover several
invoices at once (one PaymentIntent, its amount allocated to the invoices)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from portal.money import format_money


class AccountActivity(models.Model):
    """What staff did to a customer's account link (who, what, when)."""

    class Kind(models.TextChoices):
        LINK_ISSUED = "link_issued", "Account link issued"
        LINK_REVOKED = "link_revoked", "Account link revoked"
        CODE_REQUIRED = "code_required", "Emailed code required"
        CODE_NOT_REQUIRED = "code_not_required", "Emailed code no longer required"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="account_activities"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.customer_id})"


def new_code_nonce() -> str:
    return secrets.token_hex(16)


class AccountCode(models.Model):
    """A one-time code emailed before the account page opens (when staff require one).

    The code itself is never stored: it is an HMAC of this row's id and random nonce
    under SECRET_KEY, worked out again to email it and to check an answer.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="account_codes"
    )
    nonce = models.CharField(max_length=32, default=new_code_nonce, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Code {self.pk} for customer {self.customer_id}"

    @property
    def code(self) -> str:
        key = settings.SECRET_KEY.encode()
        mac = hmac.new(key, f"account-code:{self.pk}:{self.nonce}".encode(), hashlib.sha256)
        return f"{int.from_bytes(mac.digest()[:8], 'big') % 1_000_000:06d}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class PaymentGroup(models.Model):
    """One PaymentIntent paying several of a customer's invoices in one currency.

    The allocation (`GroupAllocation`) is stored before the intent can be confirmed;
    the webhook books each invoice's share once (`invoices.payments.groups`).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"
        SUCCEEDED = "succeeded", "Succeeded"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payment_groups"
    )
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(help_text="What the intent asks for: the allocations' sum.")
    amount_received = models.BigIntegerField(default=0)
    # Received beyond what the invoices still owed when it arrived: kept as account credit.
    amount_credited = models.BigIntegerField(default=0)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    failure_message = models.CharField(max_length=500, blank=True)
    # How it was paid (from the charge's events), copied onto each invoice's payment.
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    method_type = models.CharField(max_length=24, blank=True)
    method_details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_payment_intent_id"],
                condition=~models.Q(stripe_payment_intent_id=""),
                name="payment_group_intent_unique",
            )
        ]

    def __str__(self) -> str:
        return f"Combined payment {format_money(self.amount, self.currency)}"


class GroupAllocation(models.Model):
    """One invoice's share of a combined payment, in the order it is paid (oldest first)."""

    group = models.ForeignKey(PaymentGroup, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(
        "invoices.Invoice", on_delete=models.PROTECT, related_name="group_allocations"
    )
    position = models.PositiveIntegerField()
    amount = models.BigIntegerField(help_text="The invoice's amount due when it was chosen.")
    # Set when the webhook books the share: the invoice's own payment (and receipt line).
    payment = models.OneToOneField(
        "invoices.Payment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="group_allocation",
    )

    class Meta:
        ordering = ["group", "position"]
        constraints = [
            models.UniqueConstraint(fields=["group", "invoice"], name="group_allocation_once")
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {format_money(self.amount, self.group.currency)}"
