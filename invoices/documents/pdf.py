"""Invoice and receipt PDFs, rendered by WeasyPrint from templates/documents/.

Everything the PDF shows is inlined (the logo and the QR code as `data:` URIs)
and the URL fetcher refuses every other scheme, so a stray `<img src="https://...">`
in a memo or footer can neither hang the render nor leak the document's existence.
"""

from __future__ import annotations

import base64
import io
import logging
import mimetypes
from datetime import date
from typing import Any

import qrcode
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import pgettext
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from invoices.language import in_customer_language
from invoices.models import BusinessProfile, Invoice, Payment
from invoices.quote_records import deposit_deduction
from portal import timezones
from portal.i18n import format_money_in, format_number_in
from portal.money import LineInput, compute_totals

logger = logging.getLogger(__name__)

PDF_MIMETYPE = "application/pdf"


def data_uri(content: bytes, mimetype: str) -> str:
    return f"data:{mimetype};base64,{base64.b64encode(content).decode('ascii')}"


def qr_data_uri(text: str) -> str:
    """A PNG QR code of `text` (the pay link), for phones that scan a printed invoice."""
    code = qrcode.QRCode(border=2, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return data_uri(buffer.getvalue(), "image/png")


def read_logo(profile: BusinessProfile) -> tuple[bytes, str] | None:
    """The logo's bytes and mimetype, read through the storage API (disk or S3), or None."""
    if not profile.logo:
        return None
    mimetype = mimetypes.guess_type(profile.logo.name)[0] or "image/png"
    try:
        with profile.logo.storage.open(profile.logo.name, "rb") as file:
            content = file.read()
    except OSError:
        # A missing logo file must not stop an invoice from going out.
        logger.warning("Business logo %s could not be read", profile.logo.name)
        return None
    return content, mimetype


def logo_data_uri(profile: BusinessProfile) -> str:
    logo = read_logo(profile)
    return data_uri(*logo) if logo else ""


def latest_payment(invoice: Invoice) -> Payment | None:
    """The payment a receipt is about when none is named: the last one that succeeded."""
    return (
        invoice.payments.filter(status=Payment.Status.SUCCEEDED)
        .order_by("-updated_at", "-id")  # As the pay page picks its receipt.
        .first()
    )


def payment_reference(payment: Payment) -> str:
    """What a customer quotes to us: Stripe's id for card payments, ours otherwise."""
    return payment.stripe_payment_intent_id or payment.stripe_charge_id or f"P-{payment.pk}"


def payment_date(payment: Payment) -> date:
    """Offline payments carry the day staff entered; a card payment's day is when it settled."""
    if payment.received_on:
        return payment.received_on
    moment = payment.updated_at or payment.created_at
    return timezone.localdate(moment) if moment else timezone.localdate()


def line_rows(invoice: Invoice) -> list[dict[str, Any]]:
    lines = list(invoice.lines.all())
    if invoice.is_draft:
        # A draft's stored line amounts may predate its last edit; finalizing fixes them.
        totals = compute_totals(
            [LineInput(line.quantity, line.unit_amount, line.tax_rate) for line in lines]
        )
        amounts = [line_totals.amount for line_totals in totals.lines]
    else:
        amounts = [line.amount for line in lines]
    return [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": format_money_in(line.unit_amount, invoice.currency),
            "tax_rate": f"{format_number_in(line.tax_rate)}%",
            "tax_name": line.tax_name,
            "amount": format_money_in(amount, invoice.currency),
        }
        for line, amount in zip(lines, amounts, strict=True)
    ]


def stamp(invoice: Invoice) -> str:
    """The big diagonal mark: what someone glancing at a printout must not miss."""
    return {
        Invoice.Status.PAID: pgettext("stamp on a document", "PAID"),
        Invoice.Status.VOID: pgettext("stamp on a document", "VOID"),
        Invoice.Status.DRAFT: pgettext("stamp on a document", "DRAFT"),
    }.get(invoice.status, "")


def document_context(invoice: Invoice) -> dict[str, Any]:
    profile = BusinessProfile.load()
    context: dict[str, Any] = {
        "business": profile,
        "logo_src": logo_data_uri(profile),
        "invoice": invoice,
        "customer": invoice.customer,
        "lines": line_rows(invoice),
        "stamp": stamp(invoice),
        "footer": invoice.footer or profile.default_footer,
        "pay_url": "",
        "qr_src": "",
        "deposit_paid": deposit_deduction(invoice.pk) if invoice.amount_credited else None,
    }
    if invoice.is_payable:
        context["pay_url"] = invoice.get_absolute_pay_url()
        context["qr_src"] = qr_data_uri(context["pay_url"])
    return context


def html_to_pdf(html: str) -> bytes:
    # Only data: URIs are ever fetched (no http, no file: a template can't read
    # the disk either); the short timeout is a second belt.
    fetcher = URLFetcher(timeout=2, allowed_protocols={"data"}, allow_redirects=False)
    return HTML(string=html, url_fetcher=fetcher, base_url="data:,").write_pdf()


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    # Dates as the business reads them (see `portal.timezones`).
    with timezone.override(timezones.business_zone(context.get("business"))):
        return html_to_pdf(render_to_string(template_name, context))


def invoice_pdf(invoice: Invoice) -> bytes:
    """In the customer's language, whoever downloads it: it is the customer's document."""
    with in_customer_language(invoice.customer):
        return render_pdf("documents/invoice.html", document_context(invoice))


def receipt_pdf(invoice: Invoice, payment: Payment) -> bytes:
    with in_customer_language(invoice.customer):
        return _receipt_pdf(invoice, payment)


def _receipt_pdf(invoice: Invoice, payment: Payment) -> bytes:
    context = document_context(invoice)
    context.update(
        {
            "payment": payment,
            "payment_method": payment.method_label,
            "payment_reference": payment_reference(payment),
            "payment_date": payment_date(payment),
            # A receipt is proof of a payment, not a request for one.
            "pay_url": "",
            "qr_src": "",
        }
    )
    return render_pdf("documents/receipt.html", context)


def invoice_filename(invoice: Invoice) -> str:
    return f"{invoice.number or f'draft-{invoice.pk}'}.pdf"


def receipt_filename(invoice: Invoice, payment: Payment) -> str:
    return f"{invoice.number or f'draft-{invoice.pk}'}-receipt-{payment.pk}.pdf"
