"""PDF downloads (staff by id, customer by pay token) and the staff email previews."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.csp import CSP
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from invoices.documents import emails
from invoices.documents import pdf as documents
from invoices.models import BusinessProfile, Invoice, Payment
from invoices.pay.views import invoice_for_token
from invoices.staff.access import invoice_for_staff
from portal.access import staff_required
from portal.params import query_int


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=documents.PDF_MIMETYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
@staff_required
@never_cache
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    return pdf_response(documents.invoice_pdf(invoice), documents.invoice_filename(invoice))


@require_safe
@staff_required
@never_cache
def receipt_pdf(request: HttpRequest, pk: int, payment_pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    payment = get_object_or_404(
        invoice.payments.all(), pk=payment_pk, status=Payment.Status.SUCCEEDED
    )
    return pdf_response(
        documents.receipt_pdf(invoice, payment), documents.receipt_filename(invoice, payment)
    )


@require_safe
@never_cache  # The URL carries the customer's secret: keep it out of shared caches.
def pay_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's copy: the receipt once paid, the invoice (with pay link) before."""
    invoice = invoice_for_token(token)
    payment = documents.latest_payment(invoice) if invoice.status == Invoice.Status.PAID else None
    if payment is not None:
        content = documents.receipt_pdf(invoice, payment)
        filename = documents.receipt_filename(invoice, payment)
    else:
        content = documents.invoice_pdf(invoice)
        filename = documents.invoice_filename(invoice)
    response = pdf_response(content, filename)
    response["X-Robots-Tag"] = "noindex"
    return response


def preview_offset(request: HttpRequest) -> int:
    # The range the business profile allows for reminder offsets.
    return query_int(request.GET, "offset", default=0, minimum=-60, maximum=365) or 0


def preview_kind(kind: str) -> str:
    if kind not in emails.PREVIEW_KINDS:
        raise Http404("No such email")
    return kind


@require_safe
@staff_required
def email_preview(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The subject and text part, with the html part framed from `email_preview_html`."""
    kind = preview_kind(kind)
    invoice = invoice_for_staff(pk)
    offset = preview_offset(request)
    subject, text, _ = emails.preview_email(invoice, kind, offset_days=offset)
    context = {
        "invoice": invoice,
        "kind": kind,
        "kinds": emails.PREVIEW_KINDS,
        "offset": offset,
        "offsets": BusinessProfile.load().reminder_offsets,
        "subject": subject,
        "text": text,
    }
    return render(request, "emails/preview.html", context)


# The email's html relies on inline styles, which the portal's CSP forbids; this
# response gets its own policy: no scripts at all, only framed by our own pages.
PREVIEW_CSP = {
    "default-src": [CSP.NONE],
    "style-src": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "{0.scheme}://{0.netloc}".format(urlsplit(settings.SITE_URL))],
    "frame-ancestors": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.NONE],
}


@require_safe
@staff_required
@xframe_options_sameorigin
@csp_override(PREVIEW_CSP)
def email_preview_html(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    kind = preview_kind(kind)
    invoice = invoice_for_staff(pk)
    _, _, html = emails.preview_email(invoice, kind, offset_days=preview_offset(request))
    return HttpResponse(html)
