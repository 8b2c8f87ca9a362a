"""Line items: what was sold, at what price and tax (`Invoice.recalculate` sums them)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
        max_digits=6,
        decimal_places=3,
        default=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # A named rate from the catalog: its name is copied (what the documents show), the
    # link only tells the editor which rate to offer as chosen.
    tax_name = models.CharField(max_length=60, blank=True)
    named_tax = models.ForeignKey(
        "invoices.TaxRate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description

    def copied_values(self) -> dict[str, Any]:
        """What a copy of this line on another document keeps (duplicate, convert)."""
        return {name: getattr(self, name) for name in COPIED_FIELDS}


# Everything a line sells; the document it belongs to and its computed amount are the copy's.
COPIED_FIELDS = (
    "position",
    "description",
    "quantity",
    "unit_amount",
    "tax_rate",
    "tax_name",
    "named_tax_id",
)


class InvoiceLine(LineItem):
    invoice = models.ForeignKey("invoices.Invoice", on_delete=models.CASCADE, related_name="lines")
    amount = models.BigIntegerField(default=0)

    class Meta(LineItem.Meta):
        pass
