"""The dashboard totals' rows, kept by `invoices.totals` (models of the `invoices` app,
registered through `invoices.models`; the invoice is named by string)."""

from __future__ import annotations

from django.db import models


class BalanceBucket(models.Model):
    """Money open or paid, per currency and day: the dashboard's totals are a sum of
    a few hundred of these rows instead of a scan of every invoice. invoices/totals.py
    keeps them in the transaction of every change to an invoice."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open (by due date)"
        PAID = "paid", "Paid (by day paid)"

    kind = models.CharField(max_length=4, choices=Kind.choices)
    currency = models.CharField(max_length=3)
    day = models.DateField()
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "currency", "day"], name="balance_bucket_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.currency} {self.day}: {self.amount}"


class BookedBalance(models.Model):
    """What one invoice adds to its bucket now, so a change books only the difference."""

    invoice = models.OneToOneField(
        "Invoice", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=4, choices=BalanceBucket.Kind.choices)
    currency = models.CharField(max_length=3)
    day = models.DateField()
    amount = models.BigIntegerField()

    def __str__(self) -> str:
        return f"invoice {self.invoice_id}: {self.kind} {self.currency} {self.day} {self.amount}"
