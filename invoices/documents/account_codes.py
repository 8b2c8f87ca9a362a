"""The one-time code email for account pages that ask for one (`invoices.account.codes`)."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives

from customers.models import Customer
from invoices.documents import emails
from invoices.documents import pdf as documents
from invoices.language import in_customer_language
from invoices.models import AccountCode, BusinessProfile
from portal.emails import send_email


def send_account_code_email(
    customer: Customer, params: dict[str, Any], headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    code = AccountCode.objects.get(pk=params["code_id"], customer=customer)
    profile = BusinessProfile.load()
    logo = documents.read_logo(profile)
    context = {
        "business": profile,
        "logo": logo,
        "logo_src": f"cid:{emails.LOGO_CID}" if logo else "",
        "customer": customer,
        "code": code.code,
        "minutes": 10,
    }
    with in_customer_language(customer):
        return send_email(
            "account_code",
            to=[customer.email],
            context=context,
            reply_to=[profile.email],
            headers=headers,
            images=emails.inline_images(context),
        )


# The outbox sends it; the row names the customer, not an invoice.
emails.KINDS["account_code"] = emails.EmailKind(
    send=lambda invoice, payment, params, headers: send_account_code_email(
        Customer.objects.get(pk=params["customer_id"]), params, headers=headers
    )
)
