"""Staff corrections to booked money: reverse an offline payment (reason required)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from invoices.corrections import reverse_offline_payment
from invoices.models import Invoice, Payment
from invoices.services import InvoiceStateError
from portal import once
from portal.access import staff_required
from portal.forms import BoundedTextMixin


class ReversalForm(BoundedTextMixin, forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the invoice's history, e.g. “Cheque bounced” or “Wrong invoice”.",
    )


def _done(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_http_methods(["GET", "POST"])
@staff_required
def reverse_payment(request: HttpRequest, pk: int, payment_pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=pk)
    payment = get_object_or_404(Payment, pk=payment_pk, invoice=invoice)
    url = invoice.get_absolute_url()
    form = ReversalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                claimed = once.claim(request)
                reverse_offline_payment(
                    payment=payment, reason=form.cleaned_data["reason"], actor=request.user
                )
                once.done(claimed, url)
        except once.AlreadySubmitted:
            messages.info(request, "That was pressed twice: the payment was reversed once.")
            return _done(request, url)
        except InvoiceStateError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{invoice.money(payment.amount)} reversed.")
            return _done(request, url)
    context = {"invoice": invoice, "payment": payment, "form": form}
    return render(request, "invoices/reverse_payment.html", context)
