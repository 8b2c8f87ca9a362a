"""The quote's email (its link, the PDF attached) and its PDF, in the customer's language."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.utils.translation import pgettext

from invoices.documents import emails
from invoices.documents import pdf as documents
from invoices.language import in_customer_language
from invoices.models import BusinessProfile, Quote
from portal.emails import send_email
from portal.i18n import format_money_in, format_number_in


def line_rows(quote: Quote) -> list[dict[str, Any]]:
    return [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": format_money_in(line.unit_amount, quote.currency),
            "tax_rate": f"{format_number_in(line.tax_rate)}%",
            "amount": format_money_in(line.amount, quote.currency),
        }
        for line in quote.lines.all()
    ]


def quote_context(quote: Quote) -> dict[str, Any]:
    profile = BusinessProfile.load()
    logo = documents.read_logo(profile)
    return {
        "business": profile,
        "logo": logo,
        "logo_src": f"cid:{emails.LOGO_CID}" if logo else "",
        "quote": quote,
        "customer": quote.customer,
        "quote_url": quote.get_absolute_customer_url(),
    }


def quote_pdf(quote: Quote) -> bytes:
    """In the customer's language, whoever downloads it: it is the customer's document."""
    with in_customer_language(quote.customer):
        profile = BusinessProfile.load()
        stamp = {
            Quote.Status.DRAFT: pgettext("stamp on a document", "DRAFT"),
            Quote.Status.EXPIRED: pgettext("stamp on a document", "EXPIRED"),
            Quote.Status.DECLINED: pgettext("stamp on a document", "DECLINED"),
        }.get(quote.display_status, "")
        context = {
            "business": profile,
            "logo_src": documents.logo_data_uri(profile),
            "quote": quote,
            "customer": quote.customer,
            "lines": line_rows(quote),
            "stamp": stamp,
            "stamp_class": quote.display_status,
            "footer": quote.footer or profile.default_footer,
            "quote_url": quote.get_absolute_customer_url() if quote.can_answer else "",
        }
        return documents.render_pdf("documents/quote.html", context)


def quote_filename(quote: Quote) -> str:
    return f"{quote.number or f'quote-draft-{quote.pk}'}.pdf"


def send_quote_email(quote: Quote, headers: emails.Headers = None) -> EmailMultiAlternatives:
    attachment = (quote_filename(quote), quote_pdf(quote), documents.PDF_MIMETYPE)
    with in_customer_language(quote.customer):
        context = quote_context(quote)
        return send_email(
            "quote",
            to=[quote.customer.email],
            context=context,
            attachments=(attachment,),
            reply_to=[context["business"].email],
            headers=headers,
            images=emails.inline_images(context),
        )


# The outbox sends it (`invoices.quotes.send_quote`); the row names the customer.
emails.KINDS["quote"] = emails.EmailKind(
    send=lambda invoice, payment, params, headers: send_quote_email(
        Quote.objects.select_related("customer").get(pk=params["quote_id"]), headers=headers
    )
)
