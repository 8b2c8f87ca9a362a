"""What the quote editor adds to the invoice editor's forms: expiry and deposit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from invoices.forms import BoundedDateField, DraftCreateForm, minor_amount
from invoices.models import Quote
from invoices.states import Terms
from portal.forms import BoundedTextMixin

EXTRA_FIELDS = ("expires_on", "deposit_kind", "deposit_value")


class QuoteCreateForm(DraftCreateForm):
    """The same first step as a new invoice: who, and in which currency."""


class QuoteExtrasForm(BoundedTextMixin, forms.Form):
    expires_on = BoundedDateField(required=False, label="Valid until")
    deposit_kind = forms.ChoiceField(
        choices=Quote.DepositKind.choices, required=False, label="Deposit"
    )
    deposit_value = forms.CharField(
        required=False,
        max_length=40,
        label="Deposit amount or %",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def __init__(
        self, *args: Any, currency: str, issue_date: date | None, terms: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.currency, self.issue_date, self.terms = currency, issue_date, terms

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        expires = data.get("expires_on")
        if expires and self.issue_date and expires < self.issue_date:
            self.add_error("expires_on", "The quote cannot expire before its issue date.")
        if self.terms == Terms.CUSTOM:
            self.add_error(None, "Pick payment terms: a custom due date is set on the invoice.")
        data["deposit"] = self._deposit(data.get("deposit_kind") or "")
        return data

    def _deposit(self, kind: str) -> Decimal:
        """A percentage, or minor units for an amount (checked against the total later)."""
        raw = (self.cleaned_data.get("deposit_value") or "").strip()
        if not kind:
            return Decimal(0)
        if kind == Quote.DepositKind.AMOUNT:
            try:
                return Decimal(minor_amount(raw, self.currency, allow_zero=False))
            except forms.ValidationError as error:
                self.add_error("deposit_value", error)
                return Decimal(0)
        try:
            value = Decimal(raw)
            if not value.is_finite() or value.as_tuple().exponent < -2:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            self.add_error("deposit_value", "Enter a percentage such as 30 or 12.5.")
            return Decimal(0)
        if not Decimal(0) < value <= Decimal(100):
            self.add_error("deposit_value", "A deposit percentage is above 0 and at most 100.")
        return value
