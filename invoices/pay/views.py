"""The customer's pages: reached only through the pay token, no account."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from invoices import partial_payments, stripe_api
from invoices.activity import InvoiceStateError
from invoices.documents.pdf import latest_payment, payment_date
from invoices.language import customer_language, in_customer_language
from invoices.models import BusinessProfile, Invoice
from invoices.pay import live, lookup
from invoices.pay.context import (
    MAX_POLLS,
    POLL_SECONDS,
    brand_css,
    brand_version,
    kept_state_version,
    pay_page_context,
)
from invoices.payments import intents as payments
from invoices.payments import microdeposits, reconcile
from invoices.services import record_view
from invoices.stream_db import Busy, busy_response, on_stream_db
from portal.counters import counters
from portal.i18n import language
from portal.network import client_ip
from portal.params import parse_int

logger = logging.getLogger(__name__)

# The page polls every POLL_SECONDS; checks closer together than that are not the page's.
CHECK_SECONDS = POLL_SECONDS


def invoice_for_token(token: str) -> Invoice:
    """The one door for customers: a wrong, revoked or draft link is the same 404."""
    return lookup.by_token(token).invoice


def localized(response: HttpResponse) -> HttpResponse:
    """Say which language the page is in (rendered inside the customer's language)."""
    response["Content-Language"] = get_language()
    return response


def _is_staff(request: HttpRequest) -> bool:
    return request.user.is_authenticated and request.user.is_staff


def not_found(request: HttpRequest, business: BusinessProfile | None = None) -> HttpResponse:
    """An unknown, revoked or draft link: say what to do (ask the business), still a 404."""
    business = business or BusinessProfile.load()
    with language(business.default_language or "en"):
        context = {"business": business, "brand_version": brand_version(business.brand_color)}
        return localized(render(request, "pay/not_found.html", context, status=404))


@dataclass(frozen=True)
class Return:
    """What Stripe said when it sent the customer back: a notice, or "being recorded"."""

    notice: dict[str, str] | None = None
    recording_intent: str = ""
    # The invoice was read again (its row changed since the page's statement).
    reread: bool = False


def _returned(request: HttpRequest, invoice: Invoice) -> Return:
    """Read from Stripe, never trusted from the query string (and never marking anything
    paid: the webhook does, or the server's own check against Stripe on `?check=1`)."""
    intent_id = request.GET.get("payment_intent", "")
    if not intent_id or invoice.status != Invoice.Status.OPEN:
        return Return()  # no return, or the page's state already says how it ended
    if not invoice.payments.filter(stripe_payment_intent_id=intent_id).exists():
        return Return({"tone": "bad", "text": _("That payment does not belong to this invoice.")})
    try:
        intent = stripe_api.retrieve_payment_intent(intent_id)
    except stripe_api.StripeError as error:
        logger.warning("return page: Stripe error for invoice %s: %s", invoice.pk, error)
        if request.GET.get("redirect_status") == "succeeded":
            # Stripe.js said so; we cannot confirm yet, so wait for it (no Pay button meanwhile).
            return Return(recording_intent=intent_id)
        text = _(
            "We could not check your payment just now; this page will update when it completes."
        )
        return Return({"tone": "warn", "text": text})
    if intent.status == stripe_api.SUCCEEDED:
        return Return(recording_intent=intent_id)
    if _awaiting_microdeposits(intent):
        # Stripe.js says "succeeded" here, but nothing is paid until the customer verifies
        # the account: record that now, so this very page says so (the webhook agrees).
        with transaction.atomic():
            microdeposits.apply_intent_requires_action(intent.to_dict())
        invoice.refresh_from_db()
        return Return(reread=True)
    if intent.status == stripe_api.PROCESSING:
        text = _(
            "Your payment is processing. This page will update "
            "when it completes, and we will email your receipt."
        )
        return Return({"tone": "warn", "text": text})
    error = intent.last_payment_error if intent.status == "requires_payment_method" else None
    reason = (error.message if error else None) or _("The payment was not completed.")
    text = _("%(reason)s You can try again below.") % {"reason": reason}
    return Return({"tone": "bad", "text": text})


def _awaiting_microdeposits(intent: stripe_api.PaymentIntent) -> bool:
    action = intent.next_action
    return (
        intent.status == stripe_api.REQUIRES_ACTION
        and bool(action)
        and (action.type == "verify_with_microdeposits")
    )


@require_safe
def invoice_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = lookup.by_token(token)
    except Http404:
        return not_found(request)
    invoice = found.invoice
    business = found.business or BusinessProfile.load()
    request.log_invoice = invoice.pk
    if not _is_staff(request) and invoice.viewed_at is None:
        record_view(
            invoice=invoice,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
    with language(customer_language(invoice.customer, business.default_language)):
        returned = _returned(request, invoice)
        context = pay_page_context(invoice, business, recording_intent=returned.recording_intent)
        # What the page's unchanging regions are kept under (`{% kept %}`): not the row
        # read before an invoice changed here (that page renders whole).
        version = None if returned.reread else found.version
        context.update(
            page_version=version,
            state_version=None if version is None else kept_state_version(context, version),
            return_notice=returned.notice,
            stripe_js_url=settings.STRIPE_JS_URL,
            pay_sentences=pay_sentences(),
        )
        return localized(render(request, "pay/invoice.html", context))


@require_safe
@never_cache
def state(request: HttpRequest, token: str) -> HttpResponse:
    """Every state-dependent region at once (the "being recorded" poll). `check=1` asks
    Stripe itself, through the reconciler, instead of waiting longer for the webhook."""
    invoice = invoice_for_token(token)
    request.log_invoice = invoice.pk
    intent_id = request.GET.get("payment_intent", "")
    check_failed = False
    if intent_id and intent_id != invoice.stripe_payment_intent_id:
        intent_id = ""  # only the invoice's own active intent can be "being recorded"
    asked = request.GET.get("check") == "1" and invoice.status == Invoice.Status.OPEN
    if intent_id and asked and may_ask_stripe(invoice):
        try:
            reconcile.reconcile_invoice(invoice)
        except stripe_api.StripeError as error:
            logger.warning("pay: could not check invoice %s with Stripe: %s", invoice.pk, error)
            check_failed = True
        invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
    poll = parse_int(request.GET.get("poll", ""), minimum=0, maximum=MAX_POLLS) or 0
    html = live.render_customer_state(
        invoice, recording_intent=intent_id, poll=poll, check_failed=check_failed
    )
    return HttpResponse(html)


def may_ask_stripe(invoice: Invoice) -> bool:
    """One Stripe check per invoice per CHECK_SECONDS, however often the link is polled:
    the pay link is public, and each check is a call against the business's Stripe rate limit.
    A check turned away just renders the state; the page's next poll asks again."""
    return counters().incr(f"pay-check:{invoice.pk}", CHECK_SECONDS) == 1


@require_safe
def receipt(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's receipt: printable (print.css), with the PDF one click away."""
    try:
        found = lookup.by_token(token)
    except Http404:
        return not_found(request)
    invoice = found.invoice
    business = found.business or BusinessProfile.load()
    payment = latest_payment(invoice) if invoice.status == Invoice.Status.PAID else None
    if payment is None:
        return not_found(request, business)
    request.log_invoice = invoice.pk
    with language(customer_language(invoice.customer, business.default_language)):
        context = {
            "invoice": invoice,
            "payment": payment,
            "business": business,
            "brand_version": brand_version(business.brand_color),
            "payment_method": payment.method_label,
            "payment_date": payment_date(payment),
        }
        return localized(render(request, "pay/receipt.html", context))


@require_safe
def brand(request: HttpRequest) -> HttpResponse:
    """The business's colour as a stylesheet; the URL carries its hash, so cache it long."""
    color = BusinessProfile.load().brand_color
    response = HttpResponse(brand_css(color), content_type="text/css; charset=utf-8")
    if request.GET.get("v") == brand_version(color):
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "no-cache"
    return response


def pay_sentences() -> dict[str, str]:
    """pay.js's words, in the customer's language (the CSP allows JSON, not inline code)."""
    return {
        "unavailable": _("Card payments could not be loaded. Check your connection and try again."),
        "notStarted": _(
            "We could not start the card payment. Nothing was charged. "
            "Please reload the page and try again."
        ),
        "unreachable": _(
            "We could not reach the payment service. Nothing was charged. "
            "Check your connection and try again."
        ),
        "noLongerPayable": _(
            "This payment can no longer be completed here. "
            "Please reload the page to see the invoice as it is now."
        ),
        "failed": _("The payment did not go through and nothing was charged. Please try again."),
        "server": _("Something went wrong on our side. Nothing was charged. Please try again."),
        "offline": _("We could not reach the server. Check your connection and try again."),
        "tryAgain": _("Try again"),
        "loading": _("Loading the card form…"),
    }


@require_POST
def start_payment(request: HttpRequest, token: str) -> HttpResponse:
    """Returns the payment partial. The amount comes from the invoice; only where the
    business allows partial payments may the customer ask for less (`amount`, as typed),
    which is checked before Stripe is asked for anything."""
    invoice = invoice_for_token(token)
    request.log_invoice = invoice.pk
    raw = request.POST.get("amount")
    if raw is None or not partial_payments.allowed():
        return _payment_partial(request, invoice)
    return _payment_partial(request, invoice, chosen=raw)


@require_POST
def check_payment(request: HttpRequest, token: str) -> HttpResponse:
    """The moment the customer presses Pay: 204 if the form still shows the amount due,
    else 409 with a fresh form at the new amount and the reason (nothing charged)."""
    invoice = invoice_for_token(token)
    request.log_invoice = invoice.pk
    raw_amount = request.POST.get("amount", "")
    shown = int(raw_amount) if raw_amount.isascii() and raw_amount.isdigit() else -1
    # The "Save this card" tick: "1" or "0"; anything else leaves the intent as it is.
    save_method = {"1": True, "0": False}.get(request.POST.get("save_method", ""))
    try:
        payments.check_before_confirm(
            invoice=invoice,
            payment_intent_id=request.POST.get("payment_intent", ""),
            shown_amount=shown,
            save_method=save_method,
        )
    except InvoiceStateError as refused:
        invoice.refresh_from_db()
        return _payment_partial(request, invoice, notice=str(refused), status=409)
    except stripe_api.StripeError as error:
        logger.error("pay: could not check the intent of invoice %s: %s", invoice.pk, error)
        return _payment_partial(request, invoice, status=409)
    return HttpResponse(status=204)


def _start(invoice: Invoice, chosen: str | None) -> payments.PaymentSession:
    """The PaymentIntent for the amount due, or for the part the customer typed (read in
    their language, which its refusals are worded in)."""
    with in_customer_language(invoice.customer):
        amount = None
        if chosen is not None:
            amount = partial_payments.parse_amount(chosen, invoice.currency)
        return payments.start_payment(invoice=invoice, amount=amount)


def _payment_partial(
    request: HttpRequest,
    invoice: Invoice,
    *,
    notice: str = "",
    status: int = 200,
    chosen: str | None = None,
) -> HttpResponse:
    context: dict[str, object] = {
        "invoice": invoice,
        "notice": notice,
        "business_name": BusinessProfile.load().name,
    }
    try:
        session = _start(invoice, chosen)
    except partial_payments.AmountRefused as refused:
        # Only the amount field, with the reason and what was typed: nothing at Stripe yet.
        with in_customer_language(invoice.customer):
            context["partial"] = partial_payments.field_context(
                invoice, invoice.amount_due, error=str(refused), typed=chosen or ""
            )
            return localized(render(request, "pay/_payment.html", context, status=status))
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
        if "session" in context and partial_payments.allowed():
            context["partial"] = partial_payments.field_context(invoice, session.amount)
        if "refusal" in context:
            # The refusal was worded while the language was still English.
            context["refusal"] = _(context["refusal"])
        return localized(render(request, "pay/_payment.html", context, status=status))


@require_safe
async def events(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invoice = await on_stream_db(invoice_for_token, token)
    except Busy:
        return busy_response(request)
    # Only the page that Stripe sent back shows "being recorded" (see `state`).
    intent_id = request.GET.get("payment_intent", "")
    return await live.invoice_stream(request, invoice, recording_intent=intent_id)
