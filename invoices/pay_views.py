"""The customer's pages: reached only through the pay token, no account."""

from __future__ import annotations

import hmac

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from invoices import live
from invoices.models import Invoice, digest_token
from invoices.pay_context import pay_page_context


def invoice_for_token(token: str) -> Invoice:
    """The one door for customers: a wrong, revoked or draft link is the same 404."""
    invoice = (
        Invoice.objects.select_related("customer")
        .exclude(status=Invoice.Status.DRAFT)
        .filter(pay_token_digest=digest_token(token))
        .first()
    )
    if invoice is None or not hmac.compare_digest(invoice.pay_token, token):
        raise Http404("No such invoice")
    return invoice


@require_safe
def invoice_page(request: HttpRequest, token: str) -> HttpResponse:
    invoice = invoice_for_token(token)
    return render(request, "pay/invoice.html", pay_page_context(invoice))


@require_safe
async def events(request: HttpRequest, token: str) -> HttpResponse:
    from asgiref.sync import sync_to_async

    invoice = await sync_to_async(invoice_for_token)(token)
    return await live.invoice_stream(request, invoice)
