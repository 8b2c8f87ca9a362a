"""A void or uncollectible invoice asks for nothing, wherever it is shown: the staff
list and invoice page, the customer's pay page (on load and live), the PDF, the
emails and the dashboard totals. An uncollectible invoice keeps its unpaid
balance in `amount_due` (a payment recorded later reopens it), never shown as due.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from invoices.documents import emails
from invoices.documents import pdf as documents
from invoices.models import Invoice
from invoices.services import mark_uncollectible, record_offline_payment, void_invoice
from tests.factories import make_open
from tests.test_pay_state import page, pushed

pytestmark = pytest.mark.django_db


def uncollectible() -> Invoice:
    return mark_uncollectible(invoice=make_open(lines=1, unit_amount=4321))


def voided() -> Invoice:
    return void_invoice(invoice=make_open(lines=1, unit_amount=4321))


BOTH = pytest.mark.parametrize("make", [uncollectible, voided], ids=["uncollectible", "void"])


def test_uncollectible_keeps_the_unpaid_balance_for_a_later_payment():
    invoice = uncollectible()
    assert invoice.amount_due == 4321
    assert invoice.amount_owed == 0
    record_offline_payment(
        invoice=invoice, amount=1000, method="bank_transfer", received_on=invoice.issue_date
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.amount_owed == 3321


@BOTH
def test_the_pay_page_shows_nothing_due_in_every_region(client, make):
    invoice = make()
    for found in (page(client, invoice), pushed(invoice)):
        assert "$43.21" not in found.text["pay-headline"]
        assert "Amount due $0.00" in found.text["invoice-totals"]
        assert "Total $43.21" in found.text["invoice-totals"]
        assert not any(button.startswith("Pay") for button in found.buttons)


def test_the_uncollectible_headline_says_nothing_is_left_to_pay(client):
    invoice = uncollectible()
    assert page(client, invoice).text["pay-headline"] == (
        "There is nothing left to pay on this invoice."
    )


@BOTH
def test_the_staff_invoice_page_shows_nothing_due(staff_client, make):
    invoice = make()
    text = staff_client.get(invoice.get_absolute_url()).text
    assert re.search(r"<dt>Amount due</dt><dd>\$0\.00</dd>", text)
    assert "Send reminder now" not in text


def test_the_uncollectible_pdf_shows_nothing_due():
    reader = PdfReader(io.BytesIO(documents.invoice_pdf(uncollectible())))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Total $43.21" in text
    assert "Amount due $0.00" in text


@BOTH
def test_no_email_asks_for_the_old_balance(make):
    invoice = make()
    for kind in ("invoice", "void"):
        subject, text, html = emails.preview_email(invoice, kind)
        for body in (subject, text, html):
            assert not re.search(r"\$43\.21,? due|due:?\s*\$43\.21", body, re.I)
    subject, text, _ = emails.preview_email(invoice, "invoice")
    assert re.search(r"Amount due:\s+\$0\.00", text)


@BOTH
def test_the_dashboard_totals_leave_it_out(staff_client, make):
    make()
    make_open(lines=1, unit_amount=1000)
    text = staff_client.get("/").text
    assert "<dt>Outstanding</dt><dd>$10.00</dd>" in text
