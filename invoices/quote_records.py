"""Quotes (estimates): what the business offers, the customer's answer, and the trail.

Models of the `invoices` app, registered through `invoices.models`; they name the
invoice and the customer by string; the only model module imported is the
abstract line item that invoice lines share. The workflows are `invoices.quotes`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from invoices.line_records import LineItem
from invoices.states import DiscountKind, Terms
from invoices.tokens import keep_digest, new_pay_token
from portal.money import CURRENCY_CHOICES, format_money


class QuoteStatus(models.TextChoices):
    # Shown to customers too, in their language.
    DRAFT = "draft", pgettext_lazy("quote status", "Draft")
    SENT = "sent", pgettext_lazy("quote status", "Awaiting answer")
    ACCEPTED = "accepted", pgettext_lazy("quote status", "Accepted")
    DECLINED = "declined", pgettext_lazy("quote status", "Declined")
    EXPIRED = "expired", pgettext_lazy("quote status", "Expired")
    CONVERTED = "converted", pgettext_lazy("quote status", "Invoiced")


class DepositKind(models.TextChoices):
    NONE = "", "No deposit"
    PERCENT = "percent", "Percentage of the total"
    AMOUNT = "amount", "Fixed amount"


class Quote(models.Model):
    Status = QuoteStatus
    DepositKind = DepositKind
    DiscountKind = DiscountKind

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="quotes"
    )
    number = models.CharField(max_length=32, blank=True, help_text="Assigned when first sent.")
    token = models.CharField(max_length=64, default=new_pay_token, editable=False)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD")
    issue_date = models.DateField(default=timezone.localdate)
    expires_on = models.DateField(null=True, blank=True)
    # For the invoice it becomes.
    terms = models.CharField(max_length=20, choices=Terms.choices, default=Terms.NET_30)
    memo = models.TextField(blank=True)
    footer = models.TextField(blank=True)
    discount_kind = models.CharField(
        max_length=8, choices=DiscountKind.choices, default="", blank=True
    )
    discount_value = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    # Computed from the lines by `invoices.quotes`: never edited directly.
    subtotal = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    discount = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)

    deposit_kind = models.CharField(
        max_length=8, choices=DepositKind.choices, default="", blank=True
    )
    # A percentage, or minor units for an amount (as the discount's value).
    deposit_value = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    deposit_amount = models.BigIntegerField(default=0)

    # Each change to a sent quote is a new version: an answer names the one it read.
    version = models.PositiveIntegerField(default=1)
    content_digest = models.CharField(max_length=64, blank=True)

    accepted_name = models.CharField(max_length=200, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_ip = models.GenericIPAddressField(null=True, blank=True)
    accepted_user_agent = models.CharField(max_length=300, blank=True)
    accepted_version = models.PositiveIntegerField(null=True, blank=True)
    accepted_digest = models.CharField(max_length=64, blank=True)
    accepted_snapshot = models.JSONField(default=dict, blank=True)
    decline_note = models.TextField(blank=True)

    deposit_invoice = models.OneToOneField(
        "invoices.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deposit_quote",
    )
    invoice = models.OneToOneField(
        "invoices.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="source_quote",
    )
    # What the final invoice was spared because the deposit was paid.
    deposit_deducted = models.BigIntegerField(default=0)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    viewed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["number"], condition=~models.Q(number=""), name="quote_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gte=models.F("issue_date")),
                name="quote_expires_after_issue",
            ),
            models.CheckConstraint(
                condition=models.Q(deposit_amount__gte=0)
                & models.Q(deposit_amount__lte=models.F("total")),
                name="quote_deposit_within_total",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft quote #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        keep_digest(self, "token", "token_digest", kwargs)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("quotes:detail", args=[self.pk])

    def get_customer_url(self) -> str:
        return reverse("quote_pay:quote", args=[self.token])

    def get_absolute_customer_url(self) -> str:
        return settings.SITE_URL + self.get_customer_url()

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.SENT)

    @property
    def is_past_expiry(self) -> bool:
        """Expired by the calendar, even before `expire_quotes` has run today."""
        return self.expires_on is not None and self.expires_on < timezone.localdate()

    @property
    def display_status(self) -> str:
        if self.status == self.Status.SENT and self.is_past_expiry:
            return self.Status.EXPIRED
        return self.status

    @property
    def display_status_label(self) -> str:
        return str(self.Status(self.display_status).label)

    @property
    def can_answer(self) -> bool:
        return self.status == self.Status.SENT and not self.is_past_expiry

    @property
    def remainder(self) -> int:
        """What is left to invoice after the deposit."""
        return self.total - self.deposit_amount

    def money(self, amount: int) -> str:
        return format_money(amount, self.currency)


class QuoteLine(LineItem):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    amount = models.BigIntegerField(default=0)

    class Meta(LineItem.Meta):
        pass


class QuoteActivity(models.Model):
    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        REVISED = "revised", "Revised (new version)"
        SENT = "sent", "Sent"
        VIEWED = "viewed", "Viewed by the customer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        DEPOSIT_INVOICED = "deposit_invoiced", "Deposit invoiced"
        CONVERTED = "converted", "Converted to an invoice"

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "quote activities"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}" if self.message else self.kind

    @property
    def actor_label(self) -> str:
        if self.actor_id:
            return str(self.actor)
        return str(self.data.get("source", "system"))


# -- what the invoice pages show of a quote (one query each, no workflow imported) --------


# What `linked_quote` reads, for a page that loads the invoice with them (no query more).
QUOTE_LINKS = ("source_quote__deposit_invoice", "deposit_quote")


def linked_quote(invoice: Any) -> Quote | None:
    """The quote an invoice came from, or whose deposit it asks for: free when the invoice
    was read with `select_related(*QUOTE_LINKS)`."""
    for name in ("source_quote", "deposit_quote"):
        try:
            return getattr(invoice, name)
        except ObjectDoesNotExist:
            continue
    return None


def deposit_deduction(invoice_pk: int) -> tuple[str, int] | None:
    """("INV-0003", amount) when this invoice deducts a paid deposit, else None."""
    row = (
        Quote.objects.filter(invoice_id=invoice_pk, deposit_deducted__gt=0)
        .values_list("deposit_invoice__number", "deposit_deducted")
        .first()
    )
    return (row[0], row[1]) if row else None


def invoiced_amount() -> models.Expression:
    """What an invoice charges the customer's account: its total, less a quote's deposit
    it deducts (that deposit was charged once already, by the deposit invoice)."""
    return models.F("total") - Coalesce(models.F("source_quote__deposit_deducted"), 0)
