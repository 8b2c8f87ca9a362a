"""Staff pages for quotes: the list, a new draft, a quote's page, send, convert, PDF.

The editor is `quote_editor.py`; the workflows are `invoices.quotes` and
`invoices.quote_answers`.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from customers.models import Customer
from invoices.documents.quotes import quote_filename, quote_pdf
from invoices.documents.views import pdf_response
from invoices.models import BusinessProfile, Quote
from invoices.quote_answers import convert_quote
from invoices.quotes import QuoteStateError, create_quote, send_quote
from invoices.staff.live import since_token
from invoices.staff.quote_forms import QuoteCreateForm
from portal import once
from portal.access import staff_required
from portal.htmx import render_page
from portal.params import query_text

LIST_SIZE = 200


def quote_for_staff(pk: int) -> Quote:
    return get_object_or_404(
        Quote.objects.select_related("customer", "invoice", "deposit_invoice", "created_by"), pk=pk
    )


@require_safe
@staff_required
def quote_list(request: HttpRequest) -> HttpResponse:
    status = query_text(request.GET, "status")
    quotes = Quote.objects.select_related("customer", "invoice", "deposit_invoice")
    if status in Quote.Status.values:
        quotes = quotes.filter(status=status)
    context = {"quotes": list(quotes[:LIST_SIZE]), "status": status, "statuses": Quote.Status}
    return render(request, "quotes/list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def quote_new(request: HttpRequest) -> HttpResponse:
    profile = BusinessProfile.load()
    initial = {"currency": profile.default_currency, "customer": request.GET.get("customer")}
    form = QuoteCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                claimed = once.claim(request)
                quote = create_quote(
                    customer=form.cleaned_data["customer"],
                    currency=form.cleaned_data["currency"],
                    terms=profile.default_terms,
                    footer=profile.default_footer,
                    actor=request.user,
                )
                once.done(claimed, reverse("quotes:edit", args=[quote.pk]))
        except once.AlreadySubmitted as first:
            return redirect(first.url or reverse("quotes:list"))
        return redirect("quotes:edit", quote.pk)
    q = query_text(request.GET, "customer_q")
    context = {
        "form": form,
        "customers": list(Customer.objects.active().search(q)[:200]),
        "q": q,
        "selected": str(form["customer"].value() or ""),
        "document": "quote",
        "new_url": reverse("quotes:new"),
    }
    return render(request, "invoices/new.html", context)


@require_safe
@staff_required
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_for_staff(pk)
    context = {
        "quote": quote,
        "lines": list(quote.lines.all()),
        "activities": list(quote.activities.select_related("actor")),
        "live_since": since_token(),
    }
    # The live region reloads itself when the quote's stream says the customer answered.
    return render_page(request, "quotes/detail.html", context, fragment="live", target="quote-live")


@require_POST
@staff_required
def quote_send(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_for_staff(pk)
    try:
        with transaction.atomic():
            claimed = once.claim(request)
            quote = send_quote(quote=quote, actor=request.user)
            once.done(claimed, quote.get_absolute_url())
    except once.AlreadySubmitted:
        return redirect(quote.get_absolute_url())
    except QuoteStateError as error:
        messages.error(request, str(error))
        return redirect(quote.get_absolute_url())
    messages.success(request, f"{quote} sent to {quote.customer.email}.")
    return redirect(quote.get_absolute_url())


@require_POST
@staff_required
def quote_convert(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_for_staff(pk)
    try:
        with transaction.atomic():
            claimed = once.claim(request)
            invoice = convert_quote(quote=quote, actor=request.user)
            once.done(claimed, invoice.get_absolute_url())
    except once.AlreadySubmitted as first:
        return redirect(first.url or quote.get_absolute_url())
    except QuoteStateError as error:
        messages.error(request, str(error))
        return redirect(quote.get_absolute_url())
    messages.success(request, f"{quote} is now invoice draft #{invoice.pk}: review, then finalize.")
    return redirect(invoice.get_absolute_url())


@require_safe
@staff_required
@never_cache
def quote_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_for_staff(pk)
    return pdf_response(quote_pdf(quote), quote_filename(quote))
