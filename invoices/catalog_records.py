"""The item catalog and its named tax rates, offered by the editor as a line is typed.

Models of the `invoices` app, registered through `invoices.models`. A line copies
what it takes from them (description, price, the rate's name and percentage), so a
later change to an item or a rate never changes an invoice already written.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from portal.money import CURRENCY_CHOICES, MAX_AMOUNT

# Three decimals: 7.25 % (California) and 8.875 % (New York City) are both real rates.
PERCENT_DIGITS = 6
PERCENT_PLACES = 3
ITEM_NAME_LENGTH = 120
ITEM_DESCRIPTION_LENGTH = 370  # name + newline + description fit a line's 500 characters


class ArchivableQuerySet(models.QuerySet):
    def active(self) -> ArchivableQuerySet:
        return self.filter(archived_at__isnull=True)


class TaxRate(models.Model):
    """A named rate ("VAT 20%", "Sales tax CA 7.25%") staff pick instead of typing a number."""

    name = models.CharField(max_length=60)
    percent = models.DecimalField(
        max_digits=PERCENT_DIGITS,
        decimal_places=PERCENT_PLACES,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ArchivableQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(archived_at__isnull=True), name="tax_rate_name"
            ),
            models.CheckConstraint(
                condition=models.Q(percent__gte=0, percent__lte=100), name="tax_rate_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def archive(self) -> None:
        self.archived_at = timezone.now()
        self.save(update_fields=["archived_at"])

    def restore(self) -> None:
        self.archived_at = None
        self.save(update_fields=["archived_at"])


class CatalogItem(models.Model):
    """Something the business sells often: picking it fills a line."""

    name = models.CharField(max_length=ITEM_NAME_LENGTH)
    description = models.CharField(max_length=ITEM_DESCRIPTION_LENGTH, blank=True)
    unit_amount = models.BigIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(MAX_AMOUNT)]
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    tax_rate = models.ForeignKey(
        TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ArchivableQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["currency", "name"], name="catalog_item_currency_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def line_description(self) -> str:
        """What a line picked from this item says: the name, then the description below it."""
        return f"{self.name}\n{self.description}" if self.description else self.name

    def archive(self) -> None:
        self.archived_at = timezone.now()
        self.save(update_fields=["archived_at"])

    def restore(self) -> None:
        self.archived_at = None
        self.save(update_fields=["archived_at"])
