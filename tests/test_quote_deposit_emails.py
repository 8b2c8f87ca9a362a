"""The final invoice's emails show the quote's paid deposit, as its pay page and PDF do."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from invoices.documents.emails import send_reminder_email
from invoices.models import Invoice, Payment, Quote
from invoices.quote_answers import convert_quote
from invoices.services import finalize_invoice, record_offline_payment, send_invoice
from tests.factories import CustomerFactory, make_open
from tests.quote_helpers import accept_post, make_quote

pytestmark = pytest.mark.django_db


def final_invoice(client, customer=None) -> tuple[Invoice, Invoice]:
    quote = make_quote(customer, deposit_kind="amount", deposit_value=Decimal(5000))
    client.post(reverse("quote_pay:accept", args=[quote.token]), accept_post(quote))
    quote = Quote.objects.select_related("deposit_invoice").get(pk=quote.pk)
    record_offline_payment(
        invoice=quote.deposit_invoice,
        amount=quote.deposit_invoice.amount_due,
        method=Payment.Method.BANK_TRANSFER,
        received_on=date.today(),
    )
    invoice = finalize_invoice(invoice=convert_quote(quote=quote))
    return invoice, Invoice.objects.get(pk=quote.deposit_invoice_id)


def sent_to_customer(mailoutbox, invoice: Invoice):
    [email] = [m for m in mailoutbox if m.subject.startswith(f"Invoice {invoice.number}")]
    return email.body, email.alternatives[0][0]


def test_the_invoice_email_shows_the_deposit_paid_in_text_and_html(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    invoice, deposit = final_invoice(client)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send_invoice(invoice=invoice)
    text, html = sent_to_customer(mailoutbox, invoice)
    assert f"Deposit paid {deposit.number}: -$50.00" in text
    assert "Amount due: $160.00" in text
    assert text.index("Total:") < text.index("Deposit paid") < text.index("Amount due:")
    assert f"Deposit paid {deposit.number}</td>" in html
    assert ">-$50.00</td>" in html
    assert "$160.00" in html


def test_the_reminder_shows_it_too_in_the_customers_language(client):
    invoice, deposit = final_invoice(client, CustomerFactory(language="de"))
    email = send_reminder_email(Invoice.objects.get(pk=invoice.pk), 0)
    assert f"Geleistete Anzahlung {deposit.number}" in email.body
    assert "-50,00" in email.body


def test_an_invoice_without_a_deposit_has_no_such_line(
    mailoutbox, django_capture_on_commit_callbacks
):
    invoice = make_open()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send_invoice(invoice=invoice)
    text, html = sent_to_customer(mailoutbox, invoice)
    assert "Deposit paid" not in text
    assert "data-deposit-paid" not in html
