"""The staff email saying a customer accepted or declined a quote (in English, as every
staff notice; queued by `invoices.quote_notices.notify_staff`)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from invoices.documents import emails
from invoices.models import BusinessProfile, Quote
from portal.emails import send_email
from portal.i18n import language


def send_quote_notice(quote: Quote, headers: emails.Headers = None) -> EmailMultiAlternatives:
    with language(settings.LANGUAGE_CODE):
        business = BusinessProfile.load()
        context = {
            "business": business,
            "logo_src": "",
            "quote": quote,
            "customer": quote.customer,
            "headline": "Quote accepted" if quote.accepted_at else "Quote declined",
            "staff_url": settings.SITE_URL + quote.get_absolute_url(),
        }
        return send_email("quote_notice", to=[business.email], context=context, headers=headers)


emails.KINDS["quote_notice"] = emails.EmailKind(
    send=lambda invoice, payment, params, headers: send_quote_notice(
        Quote.objects.select_related("customer", "deposit_invoice").get(pk=params["quote_id"]),
        headers=headers,
    )
)
