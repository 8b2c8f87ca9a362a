"""Line items: what was sold, at what price and tax (`Invoice.recalculate` sums them)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from portal.money import MAX_AMOUNT


class LineItem(models.Model):
    """What one line sells: an invoice's lines and a recurring template's are the same."""

    position = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1000000"))],
    )
    unit_amount = models.BigIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_AMOUNT)]
    )
    tax_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description


class InvoiceLine(LineItem):
    invoice = models.ForeignKey("invoices.Invoice", on_delete=models.CASCADE, related_name="lines")
    amount = models.BigIntegerField(default=0)

    class Meta(LineItem.Meta):
        pass
