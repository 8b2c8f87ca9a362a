"""The customer emails of saved methods and autopay, registered with the outbox's kinds.

`autopay_failed`: the automatic payment of an invoice did not go through; the
normal pay link, with a plain sentence why. `card_expiring`: the saved card
expires before the next recurring invoice; asks for a new one (the row names
the customer, not an invoice).
"""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext, gettext_noop

from customers.models import Customer
from invoices.documents import emails
from invoices.documents import pdf as documents
from invoices.language import in_customer_language
from invoices.models import BusinessProfile, Invoice
from invoices.saved_methods import removal_url
from portal.emails import send_email

# Stripe's decline codes, worded for the customer (translated at send time).
REASONS = {
    "authentication_required": gettext_noop(
        "Your bank asked you to confirm this payment yourself, so we could not take it "
        "automatically."
    ),
    "expired_card": gettext_noop("Your saved card has expired."),
    "insufficient_funds": gettext_noop("Your card or account did not have enough funds."),
    "stripe_unreachable": gettext_noop(
        "Our payment provider could not be reached for some time, so we stopped trying."
    ),
}
DEFAULT_REASON = gettext_noop("Your bank or card issuer declined the automatic payment.")


def failure_reason(code: str) -> str:
    """The plain sentence for a decline code, in the active language."""
    return gettext(REASONS.get(code, DEFAULT_REASON))


def autopay_failed_context(invoice: Invoice, code: str) -> dict[str, Any]:
    return {**emails.base_context(invoice), "reason": failure_reason(code)}


@emails.in_invoice_language
def send_autopay_failed(
    invoice: Invoice, code: str, headers: emails.Headers = None
) -> EmailMultiAlternatives:
    context = autopay_failed_context(invoice, code)
    return emails._send_to_customer("autopay_failed", invoice, context, headers=headers)


def card_expiring_context(customer: Customer, params: dict[str, Any]) -> dict[str, Any]:
    profile = BusinessProfile.load()
    logo = documents.read_logo(profile)
    return {
        "business": profile,
        "logo": logo,
        "logo_src": f"cid:{emails.LOGO_CID}" if logo else "",
        "customer": customer,
        "method_label": params.get("method", ""),
        "expiry": params.get("expiry", ""),
        "saved_method_url": removal_url(customer),
    }


def send_card_expiring(
    customer: Customer, params: dict[str, Any], headers: emails.Headers = None
) -> EmailMultiAlternatives:
    with in_customer_language(customer):
        context = card_expiring_context(customer, params)
        return send_email(
            "card_expiring",
            to=[customer.email],
            context=context,
            reply_to=[context["business"].email],
            headers=headers,
            images=emails.inline_images(context),
        )


emails.KINDS["autopay_failed"] = emails.EmailKind(
    send=lambda invoice, payment, params, headers: send_autopay_failed(
        invoice, params.get("reason", ""), headers=headers
    ),
    preview=lambda invoice, payment, offset: autopay_failed_context(
        invoice, "authentication_required"
    ),
)
emails.KINDS["card_expiring"] = emails.EmailKind(
    send=lambda invoice, payment, params, headers: send_card_expiring(
        Customer.objects.get(pk=params["customer_id"]), params, headers=headers
    )
)
