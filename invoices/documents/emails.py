"""The emails an invoice sends: each builds its context and goes through `portal.emails`.

The outbox calls these from its delivery task (`invoices.outbox`), so each takes
model instances, reads what it needs itself and returns the sent message.
The `*_context` builders are public so the staff previews render exactly what
would be sent, without sending it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Concatenate

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django.utils.translation import gettext

from invoices import payment_methods
from invoices.documents import pdf as documents
from invoices.language import in_customer_language
from invoices.models import BusinessProfile, Invoice, Payment
from invoices.quote_records import deposit_deduction
from invoices.saved_methods import autopay_label, removal_url
from portal.emails import InlineImage, render_email, send_email
from portal.i18n import language
from portal.timezones import business_today

STAFF_NOTICE_SUBJECTS = {
    "payment_received": "Payment received",
    "payment_failed": "Payment failed",
    "dispute": "Payment disputed",
    "flag": "Needs review",
    "autopay_failed": "Automatic payment failed",
}

Attachment = tuple[str, bytes, str]
# The outbox passes a fixed Message-ID, the same on every attempt of one email.
Headers = dict[str, str] | None


# The logo travels inside each email (a cid: link to an inline part): emails must
# not depend on the portal serving /media/, nor on clients fetching remote images.
LOGO_CID = "business-logo@invoices"


def in_invoice_language[**P, R](
    function: Callable[Concatenate[Invoice, P], R],
) -> Callable[Concatenate[Invoice, P], R]:
    """Build and render the whole email (and its PDFs) in the invoice customer's language."""

    @functools.wraps(function)
    def wrapper(invoice: Invoice, *args: P.args, **kwargs: P.kwargs) -> R:
        with in_customer_language(invoice.customer):
            return function(invoice, *args, **kwargs)

    return wrapper


def base_context(invoice: Invoice) -> dict[str, Any]:
    profile = BusinessProfile.load()
    logo = documents.read_logo(profile)
    return {
        "business": profile,
        "logo": logo,
        "logo_src": f"cid:{LOGO_CID}" if logo else "",
        "invoice": invoice,
        "customer": invoice.customer,
        "pay_url": invoice.get_absolute_pay_url(),
        "site_url": settings.SITE_URL,
        # Every customer email carries the link that removes a saved payment method.
        "saved_method_url": removal_url(invoice.customer),
        # ("INV-0003", amount) when a quote's paid deposit is deducted, as on the pay page.
        "deposit_paid": deposit_deduction(invoice.pk) if invoice.amount_credited else None,
    }


def inline_images(context: dict[str, Any]) -> tuple[InlineImage, ...]:
    logo = context.get("logo")
    return ((LOGO_CID, *logo),) if logo else ()


def _send_to_customer(
    name: str,
    invoice: Invoice,
    context: dict[str, Any],
    attachments: tuple[Attachment, ...] = (),
    headers: Headers = None,
) -> EmailMultiAlternatives:
    # Replies go to the business, not to the no-reply sender address.
    return send_email(
        name,
        to=[invoice.customer.email],
        context=context,
        attachments=attachments,
        reply_to=[context["business"].email],
        headers=headers,
        images=inline_images(context),
    )


def invoice_attachment(invoice: Invoice) -> Attachment:
    return (
        documents.invoice_filename(invoice),
        documents.invoice_pdf(invoice),
        documents.PDF_MIMETYPE,
    )


# -- invoice ------------------------------------------------------------------


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    # "It will be paid automatically with your saved Visa •••• 4242" while autopay is on it.
    return {**base_context(invoice), "autopay_label": autopay_label(invoice)}


@in_invoice_language
def send_invoice_email(invoice: Invoice, headers: Headers = None) -> EmailMultiAlternatives:
    return _send_to_customer(
        "invoice", invoice, invoice_context(invoice), (invoice_attachment(invoice),), headers
    )


# -- receipt ------------------------------------------------------------------


def receipt_context(invoice: Invoice, payment: Payment) -> dict[str, Any]:
    return {
        **base_context(invoice),
        "payment": payment,
        "payment_method": payment.method_label,
        "payment_reference": documents.payment_reference(payment),
        "payment_date": documents.payment_date(payment),
    }


@in_invoice_language
def send_receipt_email(
    invoice: Invoice, payment: Payment, headers: Headers = None
) -> EmailMultiAlternatives:
    attachment = (
        documents.receipt_filename(invoice, payment),
        documents.receipt_pdf(invoice, payment),
        documents.PDF_MIMETYPE,
    )
    context = receipt_context(invoice, payment)
    return _send_to_customer("receipt", invoice, context, (attachment,), headers)


# -- reminder -----------------------------------------------------------------


def reminder_context(
    invoice: Invoice, offset_days: int, today: date | None = None
) -> dict[str, Any]:
    """The wording follows the real calendar, not the schedule: a reminder caught
    up late for the "3 days before" slot must not say "due in 3 days"."""
    today = today or business_today()
    days = (invoice.due_date - today).days if invoice.due_date else 0
    if days > 0:
        timing = "before"
    elif days == 0:
        timing = "on"
    else:
        timing = "after"
    return {
        **base_context(invoice),
        "offset_days": offset_days,
        "timing": timing,
        "days_until_due": max(days, 0),
        "days_overdue": max(-days, 0),
    }


@in_invoice_language
def send_reminder_email(
    invoice: Invoice, offset_days: int, headers: Headers = None
) -> EmailMultiAlternatives:
    return _send_to_customer(
        "reminder",
        invoice,
        reminder_context(invoice, offset_days),
        (invoice_attachment(invoice),),
        headers,
    )


# -- refund -------------------------------------------------------------------


def refund_context(invoice: Invoice, payment: Payment, amount: int) -> dict[str, Any]:
    return {
        **base_context(invoice),
        "payment": payment,
        "payment_method": payment.method_label,
        "payment_reference": documents.payment_reference(payment),
        "amount": amount,
        "fully_refunded": payment.amount_refunded >= payment.amount,
    }


@in_invoice_language
def send_refund_email(
    invoice: Invoice, payment: Payment, amount: int, headers: Headers = None
) -> EmailMultiAlternatives:
    context = refund_context(invoice, payment, amount)
    return _send_to_customer("refund", invoice, context, headers=headers)


# -- a bank debit that failed after processing ----------------------------------


def debit_failed_context(invoice: Invoice, reason_code: str) -> dict[str, Any]:
    return {
        **base_context(invoice),
        # Rendered inside the customer's language (`in_invoice_language`).
        "reason": gettext(payment_methods.debit_failure_reason(reason_code)),
    }


@in_invoice_language
def send_debit_failed_email(
    invoice: Invoice, reason_code: str, headers: Headers = None
) -> EmailMultiAlternatives:
    context = debit_failed_context(invoice, reason_code)
    return _send_to_customer("debit_failed", invoice, context, headers=headers)


# -- void ---------------------------------------------------------------------


def void_context(invoice: Invoice) -> dict[str, Any]:
    return base_context(invoice)


@in_invoice_language
def send_void_email(invoice: Invoice, headers: Headers = None) -> EmailMultiAlternatives:
    return _send_to_customer("void", invoice, void_context(invoice), headers=headers)


# -- staff --------------------------------------------------------------------


def staff_notice_context(invoice: Invoice, kind: str, message: str) -> dict[str, Any]:
    if kind not in STAFF_NOTICE_SUBJECTS:
        raise ValueError(f"Unknown staff notice kind {kind!r}")
    return {
        **base_context(invoice),
        "kind": kind,
        "headline": STAFF_NOTICE_SUBJECTS[kind],
        "message": message,
        "staff_url": settings.SITE_URL + invoice.get_absolute_url(),
    }


def send_staff_notice(
    invoice: Invoice, kind: str, message: str, headers: Headers = None
) -> EmailMultiAlternatives:
    # Staff read English, whatever language the customer's emails are in.
    with language(settings.LANGUAGE_CODE):
        context = staff_notice_context(invoice, kind, message)
        return send_email(
            "staff_notice",
            to=[context["business"].email],
            context=context,
            headers=headers,
            images=inline_images(context),
        )


# -- the kinds of email, for the outbox and the previews --------------------------

Params = dict[str, Any]


@dataclass(frozen=True)
class EmailKind:
    """How the outbox sends one kind of email, and (customer emails) how staff preview it."""

    # None: not sent through the outbox.
    send: Callable[[Invoice, Payment | None, Params, Headers], EmailMultiAlternatives] | None
    # (invoice, payment, offset_days) -> the context `send` would render; None: no preview.
    preview: Callable[[Invoice, Payment, int], dict[str, Any]] | None = None


def _reminder_preview(invoice: Invoice, payment: Payment, offset_days: int) -> dict[str, Any]:
    # Show the wording the customer gets on that day of the schedule.
    day = invoice.due_date + timedelta(days=offset_days) if invoice.due_date else None
    return reminder_context(invoice, offset_days, today=day)


KINDS: dict[str, EmailKind] = {
    "invoice": EmailKind(
        send=lambda inv, pay, params, h: send_invoice_email(inv, headers=h),
        preview=lambda inv, pay, offset: invoice_context(inv),
    ),
    "receipt": EmailKind(
        send=lambda inv, pay, params, h: send_receipt_email(inv, pay, headers=h),
        preview=lambda inv, pay, offset: receipt_context(inv, pay),
    ),
    # Scheduled reminders are sent by `send_due_reminders`; one staff send by hand
    # goes through the outbox (its wording follows the calendar, not an offset).
    "reminder": EmailKind(
        send=lambda inv, pay, params, h: send_reminder_email(inv, 0, headers=h),
        preview=_reminder_preview,
    ),
    "refund": EmailKind(
        send=lambda inv, pay, params, h: send_refund_email(
            inv, pay, params.get("amount", 0), headers=h
        ),
        preview=lambda inv, pay, offset: refund_context(
            inv, pay, pay.amount_refunded or pay.amount
        ),
    ),
    "debit_failed": EmailKind(
        send=lambda inv, pay, params, h: send_debit_failed_email(
            inv, params.get("reason", ""), headers=h
        ),
        preview=lambda inv, pay, offset: debit_failed_context(inv, "insufficient_funds"),
    ),
    "void": EmailKind(
        send=lambda inv, pay, params, h: send_void_email(inv, headers=h),
        preview=lambda inv, pay, offset: void_context(inv),
    ),
    "notice": EmailKind(
        send=lambda inv, pay, params, h: send_staff_notice(
            inv, params.get("notice_kind", ""), params.get("message", ""), headers=h
        ),
    ),
}

# -- previews -----------------------------------------------------------------

PREVIEW_KINDS = tuple(name for name, kind in KINDS.items() if kind.preview)


def sample_payment(invoice: Invoice) -> Payment:
    """An unsaved stand-in, so staff can preview a receipt before any payment exists."""
    return Payment(
        invoice=invoice,
        method=Payment.Method.ONLINE,
        status=Payment.Status.SUCCEEDED,
        amount=invoice.amount_due or invoice.total,
        currency=invoice.currency,
        card_brand="visa",
        card_last4="4242",
        method_type=payment_methods.MethodType.CARD,
        method_details={"brand": "visa", "last4": "4242"},
        stripe_payment_intent_id="pi_preview",
        received_on=timezone.localdate(),
    )


@in_invoice_language
def preview_email(invoice: Invoice, kind: str, offset_days: int = 0) -> tuple[str, str, str]:
    """(subject, text, html) of what `kind` would send for this invoice right now."""
    preview = KINDS[kind].preview if kind in KINDS else None
    if preview is None:
        raise ValueError(f"Unknown email kind {kind!r}")
    payment = documents.latest_payment(invoice) or sample_payment(invoice)
    context = preview(invoice, payment, offset_days)
    if context["logo"]:
        # A browser cannot follow cid: links; the preview shows the same image inline.
        context["logo_src"] = documents.data_uri(*context["logo"])
    return render_email(kind, context)
