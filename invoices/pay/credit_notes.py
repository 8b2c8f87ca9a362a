"""The customer's copy of a credit note, behind the invoice's pay link."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from invoices.documents import credit_notes as documents
from invoices.documents.views import pdf_response
from invoices.pay.views import invoice_for_token


@require_safe
@never_cache  # The URL carries the customer's secret: keep it out of shared caches.
def credit_note_pdf(request: HttpRequest, token: str, number: str) -> HttpResponse:
    """Only the credit notes of the invoice the token opens (another's number is a 404)."""
    invoice = invoice_for_token(token)
    note = invoice.credit_notes.filter(number=number[:32]).first()
    if note is None:
        raise Http404("No such credit note")
    note.invoice = invoice
    response = pdf_response(documents.credit_note_pdf(note), documents.credit_note_filename(note))
    response["X-Robots-Tag"] = "noindex"
    return response
