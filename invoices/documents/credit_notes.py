"""A credit note's PDF and its email to the customer, in the customer's language."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives

from invoices.documents import emails
from invoices.documents import pdf as documents
from invoices.language import in_customer_language
from invoices.models import BusinessProfile, CreditNote, Invoice
from portal.emails import send_email


def credit_note_pdf(note: CreditNote) -> bytes:
    invoice = note.invoice
    profile = BusinessProfile.load()
    lines = list(note.lines.all())
    context = {
        "lines": lines,
        "lines_amount": sum(line.amount for line in lines),
        "lines_tax": sum(line.tax for line in lines),
        "business": profile,
        "logo_src": documents.logo_data_uri(profile),
        "customer": invoice.customer,
        "invoice": invoice,
        "note": note,
        "footer": invoice.footer or profile.default_footer,
    }
    with in_customer_language(invoice.customer):
        return documents.render_pdf("documents/credit_note.html", context)


def credit_note_filename(note: CreditNote) -> str:
    return f"{note.number}.pdf"


def send_credit_note_email(
    invoice: Invoice, number: str, headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    note = invoice.credit_notes.get(number=number)
    note.invoice = invoice
    with in_customer_language(invoice.customer):
        context = {**emails.base_context(invoice), "note": note}
        attachment = (credit_note_filename(note), credit_note_pdf(note), documents.PDF_MIMETYPE)
        return send_email(
            "credit_note",
            to=[invoice.customer.email],
            context=context,
            attachments=(attachment,),
            reply_to=[context["business"].email],
            headers=headers,
            images=emails.inline_images(context),
        )


# The outbox sends it (`queue_email("credit_note", invoice, ref=note.number)`).
emails.KINDS["credit_note"] = emails.EmailKind(
    send=lambda invoice, payment, params, headers: send_credit_note_email(
        invoice, params["ref"], headers=headers
    )
)
