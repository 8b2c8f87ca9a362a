"""Credit notes and the credit they leave on a customer's account."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import pgettext_lazy

from portal.money import format_money


class CreditNote(models.Model):
    """Part or all of a finalized invoice taken back, numbered in its own gapless sequence."""

    class Outcome(models.TextChoices):
        REDUCED = "reduced", pgettext_lazy("credit note outcome", "Reduced the amount due")
        REFUNDED = "refunded", pgettext_lazy("credit note outcome", "Refunded to the card")
        CREDITED = "credited", pgettext_lazy("credit note outcome", "Kept as credit")

    invoice = models.ForeignKey(
        "invoices.Invoice", on_delete=models.PROTECT, related_name="credit_notes"
    )
    number = models.CharField(max_length=32, unique=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=500)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    refund = models.ForeignKey(
        "invoices.Refund", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.number


class CreditNoteLine(models.Model):
    """Part of one invoice line taken back: a quantity of it, or an amount before tax.

    `amount` and `tax` are what this credit note takes back of the line's amount (after its
    share of the discount) and of its tax (see `invoices.credit_lines` for the rounding)."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey(
        "invoices.InvoiceLine", on_delete=models.PROTECT, related_name="credits"
    )
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    amount = models.BigIntegerField()
    tax = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description

    @property
    def total(self) -> int:
        return self.amount + self.tax


class CustomerCredit(models.Model):
    """Money kept to a customer's good (a credit note on a paid invoice) and its use:
    positive rows grant credit, negative rows apply it to an invoice."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="credits"
    )
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    credit_note = models.ForeignKey(
        CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.ForeignKey(
        "invoices.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applied_credits",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["customer", "currency"], name="credit_customer_currency")]

    def __str__(self) -> str:
        return f"{self.customer_id} {format_money(self.amount, self.currency)}"
