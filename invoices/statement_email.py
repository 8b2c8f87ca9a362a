"""Email a customer their statement of account (the PDF attached), in their language."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from customers.models import Customer
from invoices import documents, emails
from invoices.models import BusinessProfile, EmailLog
from invoices.outbox import queue_customer_email
from invoices.statements import statement, statement_filename, statement_pdf
from portal.emails import send_email
from portal.i18n import in_customer_language


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
