"""Saved payment methods and autopay: what a customer let the business charge later.

Models of the `invoices` app, registered through `invoices.models`; they name
the customer and the invoice by string, so this module imports no other model
module. Stripe keeps the card or account itself; we keep the ids and what
staff and the customer need to recognise it (brand or bank, last 4, expiry).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone


class SavedPaymentMethod(models.Model):
    """A PaymentMethod attached to the customer's Stripe Customer (`payment_method.attached`)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="saved_methods"
    )
    stripe_payment_method_id = models.CharField(max_length=255, unique=True)
    stripe_customer_id = models.CharField(max_length=255)
    method_type = models.CharField(max_length=32)  # card, us_bank_account, sepa_debit
    brand = models.CharField(max_length=32, blank=True)  # a card's brand
    bank_name = models.CharField(max_length=100, blank=True)  # a bank account's bank
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # The customer agreed to future charges when saving it; staff may switch it off.
    autopay = models.BooleanField(default=True)
    # Who asked to remove it ("customer"), set before Stripe is asked to detach it, so
    # whichever records the removal first (us or Stripe's `payment_method.detached`) says so.
    removal_asked_by = models.CharField(max_length=16, blank=True)
    # The expiry ("MM/YYYY") the customer was last asked to replace: one email per card.
    expiry_notice_for = models.CharField(max_length=7, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.label

    @property
    def is_card(self) -> bool:
        return self.method_type == "card"

    @property
    def label(self) -> str:
        """ "Visa •••• 4242", "STRIPE TEST BANK •••• 6789", "SEPA •••• 3000"."""
        if self.is_card:
            name = (self.brand or "card").replace("_", " ").title()
        elif self.method_type == "sepa_debit":
            name = self.bank_name or "SEPA"
        else:
            name = self.bank_name or "Bank account"
        return f"{name} •••• {self.last4}" if self.last4 else name

    @property
    def expiry_label(self) -> str:
        if not (self.exp_month and self.exp_year):
            return ""
        return f"{self.exp_month:02d}/{self.exp_year}"

    def expires_before(self, day: date) -> bool:
        """A card is good through the last day of its expiry month."""
        if not (self.exp_month and self.exp_year):
            return False
        return (self.exp_year, self.exp_month) < (day.year, day.month)


class SavedMethodActivity(models.Model):
    """The customer-level trail: saved, removed, autopay switched, expiry notices."""

    class Kind(models.TextChoices):
        SAVED = "saved", "Saved"
        REMOVED = "removed", "Removed"
        AUTOPAY_ON = "autopay_on", "Autopay switched on"
        AUTOPAY_OFF = "autopay_off", "Autopay switched off"
        EXPIRY_NOTICE = "expiry_notice", "Asked for a new card"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="saved_method_activities"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    method_label = models.CharField(max_length=140, blank=True)
    stripe_payment_method_id = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, default="system")  # staff, customer, stripe
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "saved method activities"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.method_label}"


class AutopayCharge(models.Model):
    """One off-session charge per invoice: the record that makes autopay idempotent.

    Created (pending) in the transaction that finalizes the invoice; the task
    claims it (charging), asks Stripe, and leaves it submitted (the webhook
    books the money) or failed (the customer was emailed the pay link). A
    Stripe outage leaves it pending with a later `next_attempt_at`.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to charge"
        CHARGING = "charging", "Charging"
        SUBMITTED = "submitted", "Charged (Stripe confirms)"
        FAILED = "failed", "Failed: customer asked to pay"
        SKIPPED = "skipped", "Not charged"

    invoice = models.OneToOneField(
        "Invoice", on_delete=models.CASCADE, related_name="autopay_charge"
    )
    saved_method = models.ForeignKey(
        SavedPaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stripe_payment_method_id = models.CharField(max_length=255)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    # The Stripe charge that failed: its `payment_intent.payment_failed` webhook is this
    # row's news, already told to staff by autopay, not a new failure to notify.
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="autopay_due")]

    def __str__(self) -> str:
        return f"Autopay of invoice {self.invoice_id}: {self.status}"
