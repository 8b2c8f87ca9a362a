"""The customer's answer to a quote, and the invoices a quote becomes.

Accepting records who typed their name, when, from where and exactly what they
accepted (the version, its digest and a snapshot of the lines and totals). A
quote that asks for a deposit gets its deposit invoice in the same transaction:
finalized and emailed, so the customer can pay it at once.

Converting an accepted quote makes the final invoice (a draft for staff to
review) with the quote's lines. What happens to the deposit:

- paid: the final invoice deducts what was kept of it (paid less refunded),
  shown as "Deposit paid INV-…", and its amount due is that much lower;
- not paid at all: the deposit invoice is voided (so nobody pays it as well as
  the final one) and the final invoice asks for the full total;
- partly paid or a payment in flight: converting is refused until it settles.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from invoices import services
from invoices.activity import InvoiceStateError, record_activity
from invoices.language import in_customer_language
from invoices.models import Invoice, InvoiceActivity, InvoiceLine, Quote, QuoteActivity
from invoices.quote_notices import announce, notify_staff
from invoices.quotes import QuoteStateError, lock, record, snapshot
from invoices.states import Terms

MAX_NAME = 200
MAX_NOTE = 2000
CHANGED = gettext_noop(
    "This quote was changed after you opened it. Nothing was accepted: "
    "read the new version below and accept it if it suits you."
)


def _refuse_unless_answerable(quote: Quote) -> None:
    if quote.status == Quote.Status.SENT and quote.is_past_expiry:
        raise QuoteStateError(gettext("This quote has expired and can no longer be accepted."))
    if quote.status != Quote.Status.SENT:
        raise QuoteStateError(gettext("This quote has already been answered."))


def accept_quote(
    *, quote: Quote, name: str, version: int | None, content_digest: str, ip: str, user_agent: str
) -> Quote:
    """The customer accepts the version they were shown; its deposit invoice is sent."""
    name = " ".join(name.split())
    if not name or "\x00" in name:
        raise QuoteStateError(gettext("Type your full name to accept the quote."))
    if len(name) > MAX_NAME:
        raise QuoteStateError(gettext("The name is too long."))
    with transaction.atomic():
        quote = lock(quote)
        _refuse_unless_answerable(quote)
        if version != quote.version or content_digest != quote.content_digest:
            raise QuoteStateError(gettext(CHANGED))
        content = snapshot(quote)
        quote.status = Quote.Status.ACCEPTED
        quote.accepted_name = name
        quote.accepted_at = timezone.now()
        quote.accepted_ip = ip or None
        quote.accepted_user_agent = user_agent[:300]
        quote.accepted_version = quote.version
        quote.accepted_digest = quote.content_digest
        quote.accepted_snapshot = content
        if quote.deposit_amount:
            quote.deposit_invoice = _deposit_invoice(quote)
        quote.save()
        record(
            quote,
            QuoteActivity.Kind.ACCEPTED,
            message=f"Accepted by {name} (version {quote.version})",
            source="customer",
            ip=ip,
        )
        if quote.deposit_invoice:
            record(
                quote,
                QuoteActivity.Kind.DEPOSIT_INVOICED,
                message=f"Deposit invoice {quote.deposit_invoice.number} sent",
                invoice_id=quote.deposit_invoice.pk,
            )
        notify_staff(quote)
        announce(quote)
    return quote


def _deposit_invoice(quote: Quote) -> Invoice:
    """Finalized and emailed in the caller's transaction: it commits with the acceptance."""
    with in_customer_language(quote.customer):
        description = gettext("Deposit for quote %(number)s") % {"number": quote.number}
    invoice = Invoice.objects.create(
        customer=quote.customer,
        currency=quote.currency,
        terms=Terms.DUE_ON_RECEIPT,
        due_date=timezone.localdate(),
        memo=quote.memo,
        footer=quote.footer,
    )
    InvoiceLine.objects.create(
        invoice=invoice, description=description, unit_amount=quote.deposit_amount
    )
    record_activity(
        invoice,
        InvoiceActivity.Kind.CREATED,
        message=f"Deposit for quote {quote.number}",
        quote_id=quote.pk,
        source="customer",
    )
    try:
        invoice = services.finalize_and_send(invoice=invoice)
    except InvoiceStateError as error:
        # Rolls the whole acceptance back: nothing accepted without its deposit invoice.
        raise QuoteStateError(
            gettext("The deposit invoice could not be created. Nothing was accepted.")
        ) from error
    return invoice


def decline_quote(*, quote: Quote, note: str, ip: str) -> Quote:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise QuoteStateError(gettext("The note is too long."))
    if "\x00" in note:
        raise QuoteStateError(gettext("The note contains a character that is not allowed."))
    with transaction.atomic():
        quote = lock(quote)
        _refuse_unless_answerable(quote)
        quote.status = Quote.Status.DECLINED
        quote.declined_at = timezone.now()
        quote.decline_note = note
        quote.save(update_fields=["status", "declined_at", "decline_note", "updated_at"])
        record(quote, QuoteActivity.Kind.DECLINED, message=note, source="customer", ip=ip)
        notify_staff(quote)
        announce(quote)
    return quote


# -- converting -----------------------------------------------------------------------


def _deposit_kept(quote: Quote, actor: Any) -> int:
    """What the final invoice may deduct; voids an unpaid deposit invoice (see above)."""
    deposit = quote.deposit_invoice
    if deposit is None:
        return 0
    deposit = Invoice.objects.select_for_update().get(pk=deposit.pk)
    if deposit.status == Invoice.Status.OPEN:
        if deposit.payment_state == Invoice.PaymentState.PROCESSING:
            raise QuoteStateError(
                f"The deposit {deposit.number} is being paid: convert once the payment completes."
            )
        if deposit.amount_paid:
            raise QuoteStateError(
                f"The deposit {deposit.number} is partly paid: settle it before converting."
            )
        try:
            services.void_invoice(invoice=deposit, actor=actor)
        except InvoiceStateError as error:
            raise QuoteStateError(str(error)) from error
        return 0
    return max(deposit.amount_paid - deposit.amount_refunded, 0)


def convert_quote(*, quote: Quote, actor: Any = None) -> Invoice:
    """An accepted quote becomes a draft invoice with its lines, linked both ways."""
    with transaction.atomic():
        quote = lock(quote)
        if quote.status != Quote.Status.ACCEPTED:
            raise QuoteStateError("Only an accepted quote can be converted to an invoice.")
        kept = _deposit_kept(quote, actor)
        invoice = Invoice(
            customer=quote.customer,
            currency=quote.currency,
            terms=quote.terms,
            memo=quote.memo,
            footer=quote.footer,
            discount_kind=quote.discount_kind,
            discount_value=quote.discount_value,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        invoice.apply_terms()
        invoice.save()
        lines = [InvoiceLine(invoice=invoice, **line.copied_values()) for line in quote.lines.all()]
        invoice.recalculate(lines)
        InvoiceLine.objects.bulk_create(lines)
        # The deposit counts as what the invoice no longer asks for, as a credit does.
        invoice.add_credit(kept)
        invoice.save()
        record_activity(
            invoice, InvoiceActivity.Kind.CREATED, actor=actor, message=f"From quote {quote}"
        )
        if kept:
            record_activity(
                invoice,
                InvoiceActivity.Kind.UPDATED,
                actor=actor,
                message=f"Deposit paid {quote.deposit_invoice} deducted: {quote.money(kept)}",
            )
        quote.invoice = invoice
        quote.deposit_deducted = kept
        quote.status = Quote.Status.CONVERTED
        quote.converted_at = timezone.now()
        quote.save()
        record(
            quote,
            QuoteActivity.Kind.CONVERTED,
            actor=actor,
            message=f"Invoice draft #{invoice.pk}"
            + (f", deposit {quote.money(kept)} deducted" if kept else ""),
            invoice_id=invoice.pk,
        )
    return invoice
