"""Email a customer their statement of account (the PDF attached), in their language."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from customers.models import Customer
from invoices.documents import emails
from invoices.documents import pdf as documents
from invoices.language import in_customer_language
from invoices.models import BusinessProfile, EmailLog
from invoices.outbox import queue_customer_email
from invoices.saved_methods import removal_url
from invoices.statements import statement, statement_filename, statement_pdf
from portal.emails import send_email


def queue_statement(*, customer: Customer, start: date, end: date, ref: str) -> EmailLog:
    """Owe the customer this statement by email (`ref` makes one press one email)."""
    params = {"start": start.isoformat(), "end": end.isoformat()}
    with transaction.atomic():
        return queue_customer_email("statement", customer, ref=ref, params=params)


def send_statement_email(
    customer: Customer, params: dict[str, Any], headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    found = statement(
        customer, date.fromisoformat(params["start"]), date.fromisoformat(params["end"])
    )
    profile = BusinessProfile.load()
    logo = documents.read_logo(profile)
    context = {
        "business": profile,
        "logo": logo,
        "logo_src": f"cid:{emails.LOGO_CID}" if logo else "",
        "customer": customer,
        "statement": found,
        "saved_method_url": removal_url(customer),
    }
    attachment = (statement_filename(found), statement_pdf(found), documents.PDF_MIMETYPE)
    with in_customer_language(customer):
        return send_email(
            "statement",
            to=[customer.email],
            context=context,
            attachments=(attachment,),
            reply_to=[profile.email],
            headers=headers,
            images=emails.inline_images(context),
        )


# The outbox sends it (`queue_statement`); the row names the customer, not an invoice.
emails.KINDS["statement"] = emails.EmailKind(
    send=lambda invoice, payment, params, headers: send_statement_email(
        Customer.objects.get(pk=params["customer_id"]), params, headers=headers
    )
)
