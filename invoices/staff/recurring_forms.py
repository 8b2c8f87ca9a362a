"""The recurring template form: the schedule, and up to `LINE_ROWS` lines typed in major units."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.http import QueryDict

from customers.models import Customer
from invoices.forms import BoundedDateField, LineForm
from invoices.models import Invoice, RecurringTemplate, TaxRate
from invoices.recurring import month_day
from portal.forms import BoundedTextMixin
from portal.money import to_major

LINE_ROWS = 6


class RecurringTemplateForm(BoundedTextMixin, forms.ModelForm):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.active(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose an active customer from the list."},
    )
    start_date = BoundedDateField()
    end_on = BoundedDateField(required=False, label="End on")

    class Meta:
        model = RecurringTemplate
        fields = [
            "customer",
            "currency",
            "terms",
            "frequency",
            "interval",
            "day_of_month",
            "start_date",
            "end_after",
            "end_on",
            "create_as_draft",
            "catch_up",
            "memo",
        ]
        labels = {"interval": "Every N (days or weeks)", "end_after": "End after N invoices"}
        widgets = {"memo": forms.Textarea(attrs={"rows": 2})}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_on")
        if start and end and end < start:
            self.add_error("end_on", "The end date cannot be before the start date.")
        return cleaned


def offered_tax_rates(initial: list[dict[str, Any]]) -> list[TaxRate]:
    """The named rates a line may pick: the active ones, and any the lines start with
    ("Make recurring" from an invoice whose rate was archived since keeps it)."""
    used = [row["named_tax"] for row in initial if str(row.get("named_tax", "")).isdecimal()]
    return list(TaxRate.objects.filter(Q(archived_at__isnull=True) | Q(pk__in=used)))


def line_forms(data: QueryDict | None, currency: str, initial: list[dict] | None = None) -> list:
    initial = initial or []
    rates = offered_tax_rates(initial)
    return [
        LineForm(
            data,
            prefix=f"line-{index}",
            currency=currency,
            tax_rates=rates,
            initial=initial[index] if index < len(initial) else None,
        )
        for index in range(max(LINE_ROWS, len(initial)))
    ]


def clean_lines(forms_: list[LineForm]) -> list[dict[str, Any]] | None:
    """The typed lines as model fields; None when one is invalid or none was typed.
    A named rate is kept by reference (each run bills it as it is then) and by copy."""
    typed = [form for form in forms_ if not form.is_blank]
    if not typed or not all(form.is_valid() for form in typed):
        return None
    return [
        {
            "description": form.cleaned_data["description"],
            "quantity": form.cleaned_data["quantity"],
            "unit_amount": form.cleaned_data["unit_price"],
            "tax_rate": form.cleaned_data["tax_rate"],
            "tax_name": form.cleaned_data["tax_name"],
            "named_tax": form.cleaned_data["tax_rate_obj"],
        }
        for form in typed
    ]


def initial_from_invoice(invoice: Invoice) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """For "Make recurring": the invoice's customer, money and lines, starting a month
    after its issue date (starting on it would bill that month a second time)."""
    issued = invoice.issue_date
    header = {
        "customer": invoice.customer_id,
        "currency": invoice.currency,
        "terms": invoice.terms,
        "memo": invoice.memo,
        "start_date": month_day(
            issued.year + issued.month // 12, issued.month % 12 + 1, issued.day
        ),
        "day_of_month": issued.day,
    }
    lines = [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": to_major(line.unit_amount, invoice.currency),
            "tax_rate": line.tax_rate,
            "named_tax": str(line.named_tax_id or ""),
        }
        for line in invoice.lines.all()
    ]
    return header, lines
