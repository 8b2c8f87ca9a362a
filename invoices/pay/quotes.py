"""The customer's quote page: read it, accept it (typing their name) or decline it.

Reached only through the quote's own token link, in the customer's language,
laid out like the pay page. Accepting a quote with a deposit goes straight on to
the deposit invoice's pay page.
"""

from __future__ import annotations

import hmac

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from invoices.documents.quotes import quote_filename, quote_pdf
from invoices.documents.views import pdf_response
from invoices.language import customer_language
from invoices.models import BusinessProfile, Quote, digest_token
from invoices.pay.context import brand_version
from invoices.pay.views import localized, not_found
from invoices.quote_answers import accept_quote, decline_quote
from invoices.quotes import QuoteStateError, record_view
from portal.i18n import language
from portal.network import client_ip
from portal.params import parse_int


def quote_for_token(token: str) -> Quote:
    """The one door for customers: a wrong link or a draft is the same 404."""
    quote = (
        Quote.objects.select_related("customer", "deposit_invoice")
        .exclude(status=Quote.Status.DRAFT)
        .filter(token_digest=digest_token(token))
        .first()
    )
    if quote is None or not hmac.compare_digest(quote.token, token):
        raise Http404("No such quote")
    return quote


def _page(
    request: HttpRequest,
    quote: Quote,
    business: BusinessProfile,
    *,
    error: str = "",
    name: str = "",
    status: int = 200,
) -> HttpResponse:
    with language(customer_language(quote.customer, business.default_language)):
        context = {
            "quote": quote,
            "business": business,
            "brand_version": brand_version(business.brand_color),
            "lines": list(quote.lines.all()),
            "error": error,
            "name": name,
        }
        return localized(render(request, "quotes/customer.html", context, status=status))


@require_safe
def quote_page(request: HttpRequest, token: str) -> HttpResponse:
    business = BusinessProfile.load()
    try:
        quote = quote_for_token(token)
    except Http404:
        return not_found(request, business)
    staff = request.user.is_authenticated and request.user.is_staff
    if not staff and quote.viewed_at is None:
        agent = request.headers.get("User-Agent", "")
        record_view(quote=quote, ip=client_ip(request), user_agent=agent)
    return _page(request, quote, business)


@require_POST
def quote_accept(request: HttpRequest, token: str) -> HttpResponse:
    business = BusinessProfile.load()
    try:
        quote = quote_for_token(token)
    except Http404:
        return not_found(request, business)
    name = request.POST.get("name", "")
    with language(customer_language(quote.customer, business.default_language)):
        try:
            quote = accept_quote(
                quote=quote,
                name=name,
                version=parse_int(request.POST.get("version"), minimum=1, maximum=2**31),
                content_digest=request.POST.get("digest", "")[:64],
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        except QuoteStateError as error:
            fresh = quote_for_token(token)
            return _page(request, fresh, business, error=str(error), name=name[:200], status=409)
    if quote.deposit_invoice is not None:
        return redirect(quote.deposit_invoice.get_pay_url())
    return redirect(quote.get_customer_url())


@require_POST
def quote_decline(request: HttpRequest, token: str) -> HttpResponse:
    business = BusinessProfile.load()
    try:
        quote = quote_for_token(token)
    except Http404:
        return not_found(request, business)
    with language(customer_language(quote.customer, business.default_language)):
        try:
            decline_quote(quote=quote, note=request.POST.get("note", ""), ip=client_ip(request))
        except QuoteStateError as error:
            return _page(request, quote_for_token(token), business, error=str(error), status=409)
    return redirect(quote.get_customer_url())


@require_safe
@never_cache  # The URL carries the customer's secret.
def quote_pdf_download(request: HttpRequest, token: str) -> HttpResponse:
    quote = quote_for_token(token)
    return pdf_response(quote_pdf(quote), quote_filename(quote))
