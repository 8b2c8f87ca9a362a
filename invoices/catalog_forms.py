"""Staff forms for the item catalog and its named tax rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from invoices.catalog_records import (
    ITEM_DESCRIPTION_LENGTH,
    ITEM_NAME_LENGTH,
    PERCENT_DIGITS,
    PERCENT_PLACES,
    CatalogItem,
    TaxRate,
)
from invoices.forms import minor_amount, plain_text
from portal.forms import BoundedTextMixin
from portal.money import CURRENCY_CHOICES, to_major


class TaxRateForm(BoundedTextMixin, forms.Form):
    name = forms.CharField(max_length=60, help_text="As the customer reads it, e.g. “VAT 20%”.")
    percent = forms.DecimalField(
        label="Rate (%)",
        max_digits=PERCENT_DIGITS,
        decimal_places=PERCENT_PLACES,
        validators=[
            MinValueValidator(Decimal(0), "A rate is between 0 and 100."),
            MaxValueValidator(Decimal(100), "A rate is between 0 and 100."),
        ],
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}),
    )

    def __init__(self, *args: Any, rate: TaxRate | None = None, **kwargs: Any) -> None:
        if rate is not None:
            kwargs.setdefault("initial", {"name": rate.name, "percent": rate.percent.normalize()})
        super().__init__(*args, **kwargs)
        self.rate = rate

    def clean_name(self) -> str:
        name = plain_text(self.cleaned_data["name"], multiline=False).strip()
        if not name:
            raise forms.ValidationError("Name the rate, e.g. “VAT 20%”.")
        others = TaxRate.objects.active().filter(name=name)
        if self.rate is not None:
            others = others.exclude(pk=self.rate.pk)
        if others.exists():
            raise forms.ValidationError("Another active rate already has that name.")
        return name

    def save(self) -> TaxRate:
        rate = self.rate or TaxRate()
        rate.name = self.cleaned_data["name"]
        rate.percent = self.cleaned_data["percent"]
        rate.save()
        return rate


class CatalogItemForm(BoundedTextMixin, forms.Form):
    name = forms.CharField(max_length=ITEM_NAME_LENGTH)
    description = forms.CharField(
        required=False,
        max_length=ITEM_DESCRIPTION_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown under the name on the line; several lines are fine.",
    )
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES)
    unit_price = forms.CharField(
        label="Unit price", widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10})
    )
    tax_rate = forms.ModelChoiceField(
        queryset=TaxRate.objects.active(),
        required=False,
        empty_label="No tax",
        label="Default tax rate",
        error_messages={"invalid_choice": "Choose an active tax rate from the list."},
    )

    def __init__(self, *args: Any, item: CatalogItem | None = None, **kwargs: Any) -> None:
        if item is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": item.name,
                    "description": item.description,
                    "currency": item.currency,
                    "unit_price": to_major(item.unit_amount, item.currency),
                    "tax_rate": item.tax_rate_id,
                },
            )
        super().__init__(*args, **kwargs)
        self.item = item
        if item is not None and item.tax_rate_id:
            # The item's own rate stays a valid answer even once archived.
            self.fields["tax_rate"].queryset = TaxRate.objects.filter(
                archived_at__isnull=True
            ) | TaxRate.objects.filter(pk=item.tax_rate_id)

    def clean_name(self) -> str:
        name = plain_text(self.cleaned_data["name"], multiline=False).strip()
        if not name:
            raise forms.ValidationError("Name the item.")
        return name

    def clean_description(self) -> str:
        return plain_text(self.cleaned_data["description"], multiline=True).strip("\n ")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "unit_price" in data and "currency" in data:
            try:
                data["unit_amount"] = minor_amount(data["unit_price"], data["currency"])
            except forms.ValidationError as error:
                self.add_error("unit_price", error)
        return data

    def save(self) -> CatalogItem:
        item = self.item or CatalogItem()
        for name in ("name", "description", "currency", "unit_amount", "tax_rate"):
            setattr(item, name, self.cleaned_data[name])
        item.save()
        return item
