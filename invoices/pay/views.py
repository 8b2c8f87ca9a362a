"""The customer's pages: reached only through the pay token, no account."""

from __future__ import annotations

import hmac
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from invoices import stripe_api
from invoices.activity import InvoiceStateError
from invoices.language import customer_language, in_customer_language
from invoices.models import Invoice, digest_token
from invoices.pay import live
from invoices.pay.context import pay_page_context
from invoices.payments import intents as payments
from invoices.services import record_view
from portal.i18n import language
from portal.network import client_ip

logger = logging.getLogger(__name__)


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


def localized(response: HttpResponse) -> HttpResponse:
    """Say which language the page is in (rendered inside the customer's language)."""
    response["Content-Language"] = get_language()
    return response


def _is_staff(request: HttpRequest) -> bool:
    return request.user.is_authenticated and request.user.is_staff


def _return_notice(request: HttpRequest, invoice: Invoice) -> dict[str, str] | None:
    """After Stripe.js redirects back: what happened, read from Stripe, never trusted
    from the query string (and never marking anything paid: the webhook does)."""
    intent_id = request.GET.get("payment_intent", "")
    if not intent_id:
        return None
    if not invoice.payments.filter(stripe_payment_intent_id=intent_id).exists():
        return {"tone": "bad", "text": _("That payment does not belong to this invoice.")}
    try:
        intent = stripe_api.retrieve_payment_intent(intent_id)
    except stripe_api.StripeError as error:
        logger.warning("return page: Stripe error for invoice %s: %s", invoice.pk, error)
        return {
            "tone": "warn",
            "text": _(
                "We could not check your payment just now; this page will update when it completes."
            ),
        }
    if intent.status == stripe_api.SUCCEEDED:
        return {"tone": "ok", "text": _("Payment received. Thank you!")}
    if intent.status == stripe_api.PROCESSING:
        return {
            "tone": "warn",
            "text": _(
                "Your payment is processing. This page will update "
                "when it completes, and we will email your receipt."
            ),
        }
    error = intent.last_payment_error if intent.status == "requires_payment_method" else None
    reason = (error.message if error else None) or _("The payment was not completed.")
    return {"tone": "bad", "text": _("%(reason)s You can try again below.") % {"reason": reason}}


@require_safe
def invoice_page(request: HttpRequest, token: str) -> HttpResponse:
    invoice = invoice_for_token(token)
    request.log_invoice = invoice.pk
    if not _is_staff(request) and invoice.viewed_at is None:
        record_view(
            invoice=invoice,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
    context = pay_page_context(invoice)
    with language(customer_language(invoice.customer, context["business"].default_language)):
        context["return_notice"] = _return_notice(request, invoice)
        context["stripe_js_url"] = settings.STRIPE_JS_URL
        return localized(render(request, "pay/invoice.html", context))


@require_POST
def start_payment(request: HttpRequest, token: str) -> HttpResponse:
    """Returns the payment partial. The amount comes from the invoice, never the request."""
    invoice = invoice_for_token(token)
    request.log_invoice = invoice.pk
    return _payment_partial(request, invoice)


@require_POST
def check_payment(request: HttpRequest, token: str) -> HttpResponse:
    """The moment the customer presses Pay: 204 if the form still shows the amount due,
    else 409 with a fresh form at the new amount and the reason (nothing charged)."""
    invoice = invoice_for_token(token)
    request.log_invoice = invoice.pk
    raw_amount = request.POST.get("amount", "")
    shown = int(raw_amount) if raw_amount.isascii() and raw_amount.isdigit() else -1
    try:
        payments.check_before_confirm(
            invoice=invoice,
            payment_intent_id=request.POST.get("payment_intent", ""),
            shown_amount=shown,
        )
    except InvoiceStateError as refused:
        invoice.refresh_from_db()
        return _payment_partial(request, invoice, notice=str(refused), status=409)
    except stripe_api.StripeError as error:
        logger.error("pay: could not check the intent of invoice %s: %s", invoice.pk, error)
        return _payment_partial(request, invoice, status=409)
    return HttpResponse(status=204)


def _payment_partial(
    request: HttpRequest, invoice: Invoice, *, notice: str = "", status: int = 200
) -> HttpResponse:
    context: dict[str, object] = {"invoice": invoice, "notice": notice}
    try:
        session = payments.start_payment(invoice=invoice)
    except InvoiceStateError as refusal:
        context["refusal"] = str(refusal)
    except stripe_api.StripeError as error:
        logger.error(
            "pay: could not create a PaymentIntent for invoice %s: %s (%s)",
            invoice.pk,
            error.user_message or error,
            type(error).__name__,
        )
        context["stripe_error"] = True
    else:
        if not session.client_secret:
            # Stripe.js must never be handed an empty secret: say so instead of a blank form.
            logger.error(
                "pay: PaymentIntent %s came back without a client secret", session.payment_intent_id
            )
            context["stripe_error"] = True
            return render(request, "pay/_payment.html", context)
        context.update(
            session=session,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            return_url=invoice.get_absolute_pay_url(),
        )
    with in_customer_language(invoice.customer):
        if "refusal" in context:
            # The refusal was worded while the language was still English.
            context["refusal"] = _(context["refusal"])
        return localized(render(request, "pay/_payment.html", context, status=status))


@require_safe
async def events(request: HttpRequest, token: str) -> HttpResponse:
    invoice = await sync_to_async(invoice_for_token)(token)
    return await live.invoice_stream(request, invoice)
