"""The customer's account page: every invoice, receipt, credit note and their statement,
reached through the account link in their emails, and paying several invoices at once."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from customers.models import Customer
from invoices import stripe_api
from invoices.account import codes
from invoices.account.access import account_view, customer_for_token
from invoices.account.context import MAX_POLLS, POLLS_BEFORE_CHECK, account_context
from invoices.activity import InvoiceStateError
from invoices.documents import credit_notes as credit_note_documents
from invoices.documents import pdf as documents
from invoices.documents.views import pdf_response
from invoices.language import customer_language
from invoices.models import BusinessProfile, CreditNote, Payment
from invoices.pay.context import brand_version
from invoices.pay.views import localized, not_found, pay_sentences
from invoices.payments import groups, reconcile
from invoices.statements import statement_filename, statement_pdf
from portal.i18n import language
from portal.network import client_ip
from portal.params import parse_int

logger = logging.getLogger(__name__)


def _in_language(customer: Customer, business: BusinessProfile) -> AbstractContextManager[str]:
    return language(customer_language(customer, business.default_language))


@require_safe
def account_page(request: HttpRequest, token: str) -> HttpResponse:
    business = BusinessProfile.load()
    try:
        customer = customer_for_token(token)
    except Http404:
        return not_found(request, business)
    if not codes.unlocked(request, customer):
        return _code_page(request, customer, business, token)
    with _in_language(customer, business):
        context = account_context(customer, payment_intent=request.GET.get("payment_intent", ""))
        context.update(
            business=business,
            brand_version=brand_version(business.brand_color),
            token=token,
            stripe_js_url=settings.STRIPE_JS_URL,
            pay_sentences=pay_sentences(),
        )
        return localized(render(request, "account/page.html", context))


def _code_page(
    request: HttpRequest,
    customer: Customer,
    business: BusinessProfile,
    token: str,
    *,
    notice: str = "",
    sent: bool = False,
    status: int = 200,
) -> HttpResponse:
    with _in_language(customer, business):
        context = {
            "business": business,
            "brand_version": brand_version(business.brand_color),
            "customer": customer,
            "token": token,
            "notice": notice,
            "sent": sent,
        }
        return localized(render(request, "account/code.html", context, status=status))


@require_POST
def send_code(request: HttpRequest, token: str) -> HttpResponse:
    business = BusinessProfile.load()
    customer = customer_for_token(token)
    if not customer.account_requires_code:
        return redirect("account:page", token)
    with _in_language(customer, business):
        if codes.send_code(customer, client_ip(request)):
            return _code_page(request, customer, business, token, sent=True)
        notice = _("You have asked for several codes just now. Please wait a few minutes.")
    return _code_page(request, customer, business, token, notice=notice, status=429)


@require_POST
def check_code(request: HttpRequest, token: str) -> HttpResponse:
    business = BusinessProfile.load()
    customer = customer_for_token(token)
    if not customer.account_requires_code:
        return redirect("account:page", token)
    with _in_language(customer, business):
        problem = codes.check_code(request, customer, request.POST.get("code", "")[:20])
    if problem is None:
        return redirect("account:page", token)
    return _code_page(request, customer, business, token, notice=problem, sent=True, status=400)


@require_safe
@never_cache
@account_view
def account_invoices(request: HttpRequest, customer: Customer, token: str) -> HttpResponse:
    """The invoice lists alone: polled while a combined payment is being recorded; after a
    few polls the server asks Stripe itself (the reconciler) instead of waiting longer."""
    business = BusinessProfile.load()
    intent_id = request.GET.get("payment_intent", "")
    poll = parse_int(request.GET.get("poll", ""), minimum=0, maximum=MAX_POLLS) or 0
    group = groups.group_for_intent(customer, intent_id)
    if group is not None and poll >= POLLS_BEFORE_CHECK and group.status == group.Status.PENDING:
        try:
            reconcile.reconcile_group(group)
        except stripe_api.StripeError as error:
            logger.warning("account: could not check combined payment %s: %s", group.pk, error)
    with _in_language(customer, business):
        context = account_context(customer, payment_intent=intent_id, poll=poll)
        context["token"] = token
        return localized(render(request, "account/page.html#invoices", context))


def read_invoice_ids(values: list[str]) -> list[int]:
    """ASCII digits of a sane size only (`²` is a digit to Python); anything else is skipped."""
    return [
        int(value)
        for value in values[: groups.MAX_INVOICES + 1]
        if value.isascii() and value.isdigit() and len(value) <= 12
    ]


@require_POST
@account_view
def start_payment(request: HttpRequest, customer: Customer, token: str) -> HttpResponse:
    """The card form for the chosen invoices. The amount comes from them, never the request."""
    business = BusinessProfile.load()
    ids = read_invoice_ids(request.POST.getlist("invoice"))
    with _in_language(customer, business):
        return _payment_partial(request, customer, token, ids)


def _payment_partial(
    request: HttpRequest, customer: Customer, token: str, ids: list[int], *, status: int = 200
) -> HttpResponse:
    context: dict[str, object] = {"token": token}
    try:
        session = groups.start_group_payment(customer=customer, invoice_ids=ids)
    except InvoiceStateError as refused:
        context["refusal"] = str(refused)  # worded in the customer's language already
    except stripe_api.StripeError as error:
        logger.error("account: could not create a combined PaymentIntent: %s", error)
        context["stripe_error"] = True
    else:
        context.update(
            session=session,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            return_url=settings.SITE_URL + reverse("account:page", args=[token]),
        )
    return localized(render(request, "account/_payment.html", context, status=status))


@require_POST
@account_view
def check_payment(request: HttpRequest, customer: Customer, token: str) -> HttpResponse:
    """As the customer presses Pay: 204 if every chosen invoice still owes what the form
    shows, else 409 with the reason (the intent is canceled; nothing charged)."""
    business = BusinessProfile.load()
    raw = request.POST.get("amount", "")
    shown = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 12 else -1
    with _in_language(customer, business):
        try:
            groups.check_before_confirm(
                customer=customer,
                payment_intent_id=request.POST.get("payment_intent", "")[:255],
                shown_amount=shown,
            )
        except InvoiceStateError as refused:
            context = {"token": token, "refusal": str(refused)}
            return localized(render(request, "account/_payment.html", context, status=409))
    return HttpResponse(status=204)


@require_safe
@never_cache
@account_view
def statement_download(request: HttpRequest, customer: Customer, token: str) -> HttpResponse:
    found = account_context(customer)["statement"]
    return pdf_response(statement_pdf(found), statement_filename(found))


@require_safe
@never_cache
@account_view
def receipt_download(request: HttpRequest, customer: Customer, token: str, pk: int) -> HttpResponse:
    payment = (
        Payment.objects.select_related("invoice__customer")
        .filter(pk=pk, invoice__customer=customer, status=Payment.Status.SUCCEEDED)
        .first()
    )
    if payment is None:
        raise Http404("No such receipt")
    invoice = payment.invoice
    content = documents.receipt_pdf(invoice, payment)
    return pdf_response(content, documents.receipt_filename(invoice, payment))


@require_safe
@never_cache
@account_view
def credit_note_download(
    request: HttpRequest, customer: Customer, token: str, pk: int
) -> HttpResponse:
    note = (
        CreditNote.objects.select_related("invoice__customer")
        .filter(pk=pk, invoice__customer=customer)
        .first()
    )
    if note is None:
        raise Http404("No such credit note")
    return pdf_response(
        credit_note_documents.credit_note_pdf(note),
        credit_note_documents.credit_note_filename(note),
    )
