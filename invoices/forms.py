"""Staff forms. Money is typed in major units ("12.50") and stored in minor units."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from customers.models import Customer
from invoices.models import BusinessProfile, Invoice, Payment, TaxRate
from invoices.states import DEFAULT_BRAND_COLOR, Terms
from portal import timezones
from portal.forms import BoundedTextMixin
from portal.money import CURRENCY_CHOICES, MAX_AMOUNT, format_money, to_minor
from portal.timezones import business_today


def minor_amount(raw: str, currency: str, *, allow_zero: bool = True) -> int:
    """Parse a major-unit amount typed by a person into minor units, or raise a form error."""
    raw = (raw or "").strip().replace(",", "")
    largest = f"The largest amount is {format_money(MAX_AMOUNT, currency)}."
    if not raw:
        raise forms.ValidationError("Enter an amount.")
    if len(raw) > 40:
        raise forms.ValidationError(largest)
    try:
        amount = to_minor(raw, currency)
    except ValueError as error:
        if "decimals" in str(error):
            message = str(error)  # short: the input is at most 40 characters
        elif "too large" in str(error):
            message = largest
        else:
            message = "Enter a number, e.g. 12.50."
        raise forms.ValidationError(message) from error
    if amount < 0:
        raise forms.ValidationError("The amount cannot be negative.")
    if amount == 0 and not allow_zero:
        raise forms.ValidationError("Enter an amount above zero.")
    if amount > MAX_AMOUNT:
        raise forms.ValidationError(largest)
    return amount


# Dates the portal accepts anywhere: a typo such as 0001 or 9999 is refused at
# the form (9999-12-31 plus net terms would not even be a date).
MIN_DATE = date(1990, 1, 1)
MAX_DATE = date(2099, 12, 31)


# Control, surrogate, private-use and unassigned code points; the bidirectional
# overrides too, which can make a name read backwards on an invoice.
UNPRINTABLE = frozenset({"Cc", "Cs", "Co", "Cn"})
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def plain_text(value: str, *, multiline: bool) -> str:
    """Text as typed, with Windows line ends made plain; refuses control characters
    (a line break, and a tab in multi-line text, are the only ones a person types)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    allowed = "\n\t" if multiline else ""
    if any(
        (unicodedata.category(c) in UNPRINTABLE or c in BIDI_CONTROLS) and c not in allowed
        for c in text
    ):
        raise forms.ValidationError(
            "Remove the control characters (they do not print)."
            if multiline
            else "Use one line of plain text, without control characters."
        )
    return text


class BoundedDateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widget.attrs.update(min=MIN_DATE.isoformat(), max=MAX_DATE.isoformat())

    def clean(self, value: Any) -> date | None:
        cleaned = super().clean(value)
        if cleaned is not None and not MIN_DATE <= cleaned <= MAX_DATE:
            raise forms.ValidationError(
                f"Enter a date between {MIN_DATE:%Y-%m-%d} and {MAX_DATE:%Y-%m-%d}.",
                code="out_of_range",
            )
        return cleaned


class DraftCreateForm(BoundedTextMixin, forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.active(),
        empty_label=None,
        error_messages={
            "required": "Choose a customer.",
            "invalid_choice": "Choose an active customer from the list.",
        },
    )
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES)


class InvoiceHeaderForm(BoundedTextMixin, forms.Form):
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES)
    issue_date = BoundedDateField()
    terms = forms.ChoiceField(choices=Terms.choices)
    due_date = BoundedDateField(
        required=False,
        help_text="Set by the terms unless they are “Custom due date”.",
    )
    discount_kind = forms.ChoiceField(
        choices=Invoice.DiscountKind.choices, required=False, label="Discount"
    )
    discount_value = forms.CharField(
        required=False,
        label="Discount value",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    memo = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    footer = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    po_number = forms.CharField(
        label="PO number",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_po_number(self) -> str:
        return plain_text(self.cleaned_data["po_number"], multiline=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        currency = data.get("currency") or "USD"
        issue: date | None = data.get("issue_date")
        if data.get("terms") == Terms.CUSTOM:
            due = data.get("due_date")
            if due is None:
                self.add_error("due_date", "Enter the due date, or pick payment terms.")
            elif issue and due < issue:
                self.add_error("due_date", "The due date cannot be before the issue date.")
        elif issue and data.get("terms"):
            data["due_date"] = issue + timedelta(days=Terms.days(data["terms"]) or 0)
        data["discount"] = self._discount(data.get("discount_kind", ""), currency)
        return data

    def _discount(self, kind: str, currency: str) -> Decimal:
        """The stored discount value: minor units for an amount, a percentage otherwise."""
        raw = (self.cleaned_data.get("discount_value") or "").strip()
        if not kind:
            return Decimal(0)
        try:
            if kind == Invoice.DiscountKind.AMOUNT:
                return Decimal(minor_amount(raw, currency))
            value = Decimal(raw)
            if not value.is_finite() or value.as_tuple().exponent < -2:
                raise ArithmeticError
        except forms.ValidationError as error:
            self.add_error("discount_value", error)
            return Decimal(0)
        except ArithmeticError:
            self.add_error("discount_value", "Enter a percentage such as 10 or 12.5.")
            return Decimal(0)
        if not Decimal(0) <= value <= Decimal(100):
            self.add_error("discount_value", "A percentage is between 0 and 100.")
        return value


class ChangeCustomerForm(forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.active(),
        empty_label=None,
        error_messages={
            "required": "Choose a customer.",
            "invalid_choice": "Choose an active customer from the list.",
        },
    )


CUSTOM_TAX = ""
# What a person types into a line (its hidden `id` aside).
LINE_TEXT_FIELDS = ["description", "quantity", "unit_price", "tax_rate", "named_tax"]


class LineForm(BoundedTextMixin, forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    description = forms.CharField(
        max_length=500,
        # No strip: the lines of a description keep their indentation; blank ends go.
        strip=False,
        error_messages={"required": "Describe the item."},
        widget=forms.Textarea(attrs={"rows": 2, "cols": 30, "autocomplete": "off"}),
    )
    quantity = forms.DecimalField(
        max_digits=10,
        decimal_places=3,
        validators=[
            MinValueValidator(Decimal("0.001"), "The quantity must be above zero."),
            MaxValueValidator(Decimal("1000000")),
        ],
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
    )
    unit_price = forms.CharField(
        label="Unit price", widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 9})
    )
    tax_rate = forms.DecimalField(
        label="Tax %",
        required=False,
        max_digits=6,
        decimal_places=3,
        validators=[
            MinValueValidator(0, "The tax rate is between 0 and 100."),
            MaxValueValidator(100, "The tax rate is between 0 and 100."),
        ],
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 4}),
    )
    named_tax = forms.ChoiceField(
        label="Tax",
        required=False,
        choices=[(CUSTOM_TAX, "Rate in %")],
        error_messages={"invalid_choice": "Choose a tax rate from the list."},
    )

    def __init__(
        self,
        *args: Any,
        currency: str = "USD",
        tax_rates: Sequence[TaxRate] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        # The rates offered: the active ones, and any the line already uses (an archived
        # rate stays on the drafts that chose it until someone picks another).
        self.tax_rates = {str(rate.pk): rate for rate in tax_rates}
        self.fields["named_tax"].choices = [
            (CUSTOM_TAX, "Rate in %"),
            *((key, rate.name) for key, rate in self.tax_rates.items()),
        ]
        if not self.tax_rates:
            self.fields["named_tax"].widget = forms.HiddenInput()  # nothing to choose from

    def clean_description(self) -> str:
        text = plain_text(self.cleaned_data["description"], multiline=True).strip("\n ")
        if not text.strip():
            raise forms.ValidationError("Describe the item.")
        return text

    def clean_unit_price(self) -> int:
        return minor_amount(self.cleaned_data["unit_price"], self.currency)

    def clean_tax_rate(self) -> Decimal:
        return self.cleaned_data["tax_rate"] or Decimal(0)

    def clean(self) -> dict[str, Any]:
        """A named rate decides the percentage: a typed one never contradicts its name."""
        data = super().clean()
        rate = self.tax_rates.get(data.get("named_tax") or CUSTOM_TAX)
        data["tax_rate_obj"] = rate
        data["tax_name"] = rate.name if rate else ""
        if rate is not None:
            data["tax_rate"] = rate.percent
            self.errors.pop("tax_rate", None)
        return data

    @property
    def is_blank(self) -> bool:
        """A new row nobody has typed into yet: skipped, not an error."""
        values = [
            self.data.get(self.add_prefix(name), "").strip()
            for name in ("id", "description", "unit_price")
        ]
        return not any(values)


class OfflinePaymentForm(BoundedTextMixin, forms.Form):
    amount = forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    received_on = BoundedDateField(label="Received on")
    method = forms.ChoiceField(
        choices=[c for c in Payment.Method.choices if c[0] != Payment.Method.ONLINE]
    )
    reference = forms.CharField(
        max_length=200, required=False, help_text="Check number, transfer reference, ..."
    )

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invoice = invoice

    def clean_amount(self) -> int:
        amount = minor_amount(self.cleaned_data["amount"], self.invoice.currency, allow_zero=False)
        if amount > self.invoice.amount_due:
            written_off = self.invoice.status == Invoice.Status.UNCOLLECTIBLE
            what = "was outstanding before the write-off" if written_off else "the amount due"
            limit = self.invoice.money(self.invoice.amount_due)
            raise forms.ValidationError(f"That is more than {what} ({limit}).")
        return amount

    def clean_received_on(self) -> date:
        received = self.cleaned_data["received_on"]
        if received > business_today():  # staff write days in the business's calendar
            raise forms.ValidationError("The date cannot be in the future.")
        return received


class RefundForm(BoundedTextMixin, forms.Form):
    amount = forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def __init__(self, *args: Any, payment: Payment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.payment = payment

    def clean_amount(self) -> int:
        payment = self.payment
        amount = minor_amount(self.cleaned_data["amount"], payment.currency, allow_zero=False)
        if amount > payment.refundable:
            raise forms.ValidationError(
                "That is more than can be refunded "
                f"({format_money(payment.refundable, payment.currency)})."
            )
        return amount


class BusinessProfileForm(BoundedTextMixin, forms.ModelForm):
    class Meta:
        model = BusinessProfile
        fields = [
            "name",
            "email",
            "phone",
            "address",
            "tax_id",
            "logo",
            "brand_color",
            "default_currency",
            "default_terms",
            "default_language",
            "time_zone",
            "number_prefix",
            "reminder_schedule",
            "default_footer",
            "accept_us_bank_account",
            "accept_sepa_debit",
            "allow_partial_payments",
            "partial_minimum_percent",
            "partial_minimum_amount",
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "default_footer": forms.Textarea(attrs={"rows": 2}),
            "time_zone": forms.Select(choices=timezones.ZONE_CHOICES),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left empty, the pay page keeps the portal's own colour.
        self.fields["brand_color"].required = False
        # Left empty, a partial payment's minimum is only Stripe's smallest charge.
        self.fields["partial_minimum_percent"].required = False
        self.fields["partial_minimum_amount"].required = False
        # Left out, the zone stays what it was.
        self.fields["time_zone"].required = False

    def clean_time_zone(self) -> str:
        return self.cleaned_data.get("time_zone") or self.instance.time_zone

    def clean_brand_color(self) -> str:
        return self.cleaned_data.get("brand_color") or DEFAULT_BRAND_COLOR

    def clean_partial_minimum_percent(self) -> int:
        return self.cleaned_data.get("partial_minimum_percent") or 0

    def clean_partial_minimum_amount(self) -> Decimal:
        return self.cleaned_data.get("partial_minimum_amount") or Decimal(0)

    def clean_reminder_schedule(self) -> str:
        raw = self.cleaned_data["reminder_schedule"]
        offsets = []
        for part in filter(None, (p.strip() for p in raw.split(","))):
            try:
                offset = int(part)
            except ValueError:
                raise forms.ValidationError(
                    f"“{part}” is not a whole number of days (e.g. -3,0,7,14)."
                ) from None
            if not -60 <= offset <= 365:
                raise forms.ValidationError("Each offset is between -60 and 365 days.")
            offsets.append(offset)
        return ",".join(str(o) for o in sorted(set(offsets)))

    def clean_number_prefix(self) -> str:
        prefix = self.cleaned_data["number_prefix"].strip()
        if not prefix:
            raise forms.ValidationError("Enter a prefix, e.g. INV-.")
        return prefix
