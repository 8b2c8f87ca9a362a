"""Staff issue a credit note against a finalized invoice (an amount and a reason)."""

from __future__ import annotations

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
from invoices.credit_notes import creditable, issue_credit_note
from invoices.documents import credit_notes as credit_note_documents
from invoices.documents.views import pdf_response
from invoices.forms import minor_amount
from invoices.models import CreditNote, Invoice
from portal import once
from portal.access import staff_required
from portal.forms import BoundedTextMixin
from portal.money import to_major


class CreditNoteForm(BoundedTextMixin, forms.Form):
    amount = forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}))
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

    def clean_amount(self) -> int:
        amount = minor_amount(self.cleaned_data["amount"], self.invoice.currency, allow_zero=False)
        if amount > creditable(self.invoice):
            limit = self.invoice.money(creditable(self.invoice))
            raise forms.ValidationError(f"At most {limit} can still be credited.")
        return amount


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
                note = issue_credit_note(invoice=invoice, actor=request.user, **form.cleaned_data)
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
