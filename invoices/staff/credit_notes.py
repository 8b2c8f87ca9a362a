"""Staff issue a credit note against a finalized invoice (an amount and a reason)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import HttpResponseClientRedirect

from invoices.activity import InvoiceStateError
from invoices.credit_lines import LineCredit, creditable_lines
from invoices.credit_notes import creditable, issue_credit_note
from invoices.documents import credit_notes as credit_note_documents
from invoices.documents.views import pdf_response
from invoices.forms import minor_amount
from invoices.models import CreditNote, Invoice
from portal import once
from portal.access import staff_required
from portal.forms import BoundedTextMixin
from portal.money import to_major

QUANTITY = forms.DecimalField(
    required=False,
    max_digits=10,
    decimal_places=3,
    min_value=Decimal("0.001"),
    max_value=Decimal("1000000"),
    widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
)


class CreditNoteForm(BoundedTextMixin, forms.Form):
    credit_by = forms.ChoiceField(
        label="Credit by",
        choices=[("amount", "Total"), ("lines", "Lines")],
        required=False,
        widget=forms.RadioSelect,
        initial="amount",
    )
    amount = forms.CharField(required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to the customer on the invoice, e.g. “Two hours billed twice”.",
    )
    keep_as_credit = forms.BooleanField(
        required=False,
        label="Keep as credit for the customer's next invoice instead of refunding",
    )

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invoice = invoice
        if invoice.amount_due:
            del self.fields["keep_as_credit"]  # it only lowers what is due
        self.lines = creditable_lines(invoice)
        for found in self.lines:
            label = found.line.description[:60]
            self.fields[f"line_{found.line.pk}_quantity"] = copy.deepcopy(QUANTITY)
            self.fields[f"line_{found.line.pk}_quantity"].label = f"Quantity of “{label}”"
            self.fields[f"line_{found.line.pk}_amount"] = forms.CharField(
                required=False,
                max_length=40,
                label=f"Before tax, of “{label}”",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 9}),
            )

    @property
    def by_lines(self) -> bool:
        return self.data.get("credit_by") == "lines"

    def line_rows(self) -> list[tuple[Any, Any, Any]]:
        """Each invoice line beside its two inputs, for the template."""
        return [
            (found, self[f"line_{found.line.pk}_quantity"], self[f"line_{found.line.pk}_amount"])
            for found in self.lines
        ]

    def clean_amount(self) -> int | None:
        if self.by_lines:
            return None
        amount = minor_amount(self.cleaned_data["amount"], self.invoice.currency, allow_zero=False)
        if amount > creditable(self.invoice):
            limit = self.invoice.money(creditable(self.invoice))
            raise forms.ValidationError(f"At most {limit} can still be credited.")
        return amount

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["lines"] = self._line_credits(data) if self.by_lines else []
        if self.by_lines and not data["lines"] and not self.errors:
            raise forms.ValidationError("Enter a quantity or an amount for at least one line.")
        return data

    def _line_credits(self, data: dict[str, Any]) -> list[LineCredit]:
        credits = []
        for found in self.lines:
            key = f"line_{found.line.pk}"
            quantity, raw = data.get(f"{key}_quantity"), data.get(f"{key}_amount")
            if quantity is not None and raw:
                self.add_error(f"{key}_amount", "Enter a quantity or an amount, not both.")
            elif quantity is not None:
                credits.append(LineCredit(found.line.pk, quantity=quantity))
            elif raw:
                try:
                    amount = minor_amount(raw, self.invoice.currency, allow_zero=False)
                except forms.ValidationError as error:
                    self.add_error(f"{key}_amount", error)
                else:
                    credits.append(LineCredit(found.line.pk, amount=amount))
        return credits


@require_http_methods(["GET", "POST"])
@staff_required
def new_credit_note(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=pk)
    url = invoice.get_absolute_url()
    initial = {"amount": to_major(invoice.amount_due or creditable(invoice), invoice.currency)}
    form = CreditNoteForm(request.POST or None, invoice=invoice, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                claimed = once.claim(request)
                note = issue_credit_note(invoice=invoice, actor=request.user, **_issue_args(form))
                once.done(claimed, url)
        except once.AlreadySubmitted:
            messages.info(request, "That was pressed twice: one credit note was issued.")
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        except InvoiceStateError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Credit note {note.number} issued.")
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {"invoice": invoice, "form": form, "creditable": creditable(invoice)}
    return render(request, "invoices/credit_note.html", context)


def _issue_args(form: CreditNoteForm) -> dict[str, Any]:
    data = form.cleaned_data
    args = {"reason": data["reason"], "keep_as_credit": data.get("keep_as_credit", False)}
    return {**args, "lines": data["lines"]} if form.by_lines else {**args, "amount": data["amount"]}


@require_safe
@staff_required
@never_cache
def credit_note_pdf(request: HttpRequest, pk: int, note_pk: int) -> HttpResponse:
    note = get_object_or_404(
        CreditNote.objects.select_related("invoice__customer"), pk=note_pk, invoice_id=pk
    )
    return pdf_response(
        credit_note_documents.credit_note_pdf(note),
        credit_note_documents.credit_note_filename(note),
    )
