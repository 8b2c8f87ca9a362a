"""An uncollectible (written-off) invoice is told the same way everywhere staff and the
customer look: the staff forms label its stored balance as written off (still the limit
of what can be recorded or credited), the customer's statement shows the write-off as a
line and leaves it out of the balance they are asked for (as the account page and the
customers list do), and the single "Send" refuses it rather than email "$0.00 due".
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from customers.models import Customer
from invoices.models import EmailLog, Invoice, InvoiceActivity
from invoices.services import mark_uncollectible, record_offline_payment
from invoices.staff.customer_accounts import annotate_figures
from invoices.statements import WRITE_OFF, statement, statement_pdf
from tests.factories import CustomerFactory, make_open

pytestmark = pytest.mark.django_db

YEAR_START, YEAR_END = date(2026, 1, 1), date(2026, 12, 31)


def issued(customer: Customer, amount: int, on: date) -> Invoice:
    invoice = make_open(lines=1, unit_amount=amount, customer=customer)
    Invoice.objects.filter(pk=invoice.pk).update(issue_date=on, due_date=on)
    invoice.refresh_from_db()
    return invoice


def written_off(customer: Customer, amount: int, on: date, marked: datetime) -> Invoice:
    invoice = mark_uncollectible(invoice=issued(customer, amount, on))
    invoice.activities.filter(kind=InvoiceActivity.Kind.UNCOLLECTIBLE).update(created_at=marked)
    return invoice


@pytest.fixture
def book() -> tuple[Customer, Invoice]:
    customer = CustomerFactory(name="Dora", language="de")
    issued(customer, 5000, date(2026, 2, 1))
    gone = written_off(customer, 4321, date(2026, 1, 5), datetime(2026, 3, 10, 12, tzinfo=UTC))
    return customer, gone


def usd(customer: Customer, start: date = YEAR_START, end: date = YEAR_END):
    (account,) = statement(customer, start, end).accounts
    return account


def test_it_labels_the_record_payment_form_honestly_and_keeps_the_limit(staff_client, book):
    _, gone = book
    url = reverse("invoices:record_payment", args=[gone.pk])
    page = staff_client.get(url).text
    assert "Written off: <strong>$43.21</strong> was outstanding" in page
    assert "Amount due:" not in page
    data = {"received_on": "2026-03-11", "method": "bank_transfer"}
    refused = staff_client.post(url, {**data, "amount": "43.22"})
    assert "more than was outstanding before the write-off ($43.21)" in refused.text
    gone.refresh_from_db()
    assert (gone.status, gone.amount_paid) == ("uncollectible", 0)
    staff_client.post(url, {**data, "amount": "43.21"})
    gone.refresh_from_db()
    assert (gone.status, gone.amount_paid) == ("paid", 4321)


def test_it_labels_the_credit_note_form_honestly(staff_client, book):
    _, gone = book
    page = staff_client.get(reverse("invoices:new_credit_note", args=[gone.pk])).text
    assert "$43.21 was outstanding before the write-off" in page
    assert "It lowers the amount due" not in page
    assert "Up to <strong>$43.21</strong> can be credited" in page


def partly_paid_then_written_off(customer: Customer) -> Invoice:
    invoice = issued(customer, 20000, date(2026, 2, 1))
    record_offline_payment(
        invoice=invoice, amount=5000, method="bank_transfer", received_on=date(2026, 2, 2)
    )
    return mark_uncollectible(invoice=invoice)


def test_the_credit_note_forms_refusal_names_the_write_off_not_an_amount_due(staff_client, book):
    customer, _ = book
    gone = partly_paid_then_written_off(customer)
    url = reverse("invoices:new_credit_note", args=[gone.pk])
    page = staff_client.get(url).text
    assert "$150.00 was outstanding before the write-off" in page
    refused = staff_client.post(url, {"amount": "180", "reason": "Goodwill"})
    assert refused.status_code == 200
    assert (
        "Credit at most what was outstanding before the write-off ($150.00), "
        "or first credit that and then the rest with a refund."
    ) in refused.text
    assert "amount due" not in refused.text
    gone.refresh_from_db()
    assert (gone.status, gone.amount_credited) == ("uncollectible", 0)
    assert not gone.credit_notes.exists()
    # Within that balance it is credited, and the invoice still asks for nothing.
    staff_client.post(url, {"amount": "150", "reason": "Goodwill"})
    gone.refresh_from_db()
    assert (gone.status, gone.amount_credited, gone.amount_owed) == ("uncollectible", 15000, 0)


def test_an_open_invoices_credit_note_refusal_still_says_amount_due(staff_client, book):
    customer, _ = book
    invoice = issued(customer, 20000, date(2026, 2, 1))
    record_offline_payment(
        invoice=invoice, amount=5000, method="bank_transfer", received_on=date(2026, 2, 2)
    )
    url = reverse("invoices:new_credit_note", args=[invoice.pk])
    refused = staff_client.post(url, {"amount": "180", "reason": "Goodwill"})
    assert "Credit at most the amount due ($150.00), or first credit that" in refused.text
    assert not invoice.credit_notes.exists()


def test_the_statement_shows_the_write_off_and_leaves_it_out_of_the_balance(book):
    customer, _ = book
    account = usd(customer)
    assert [
        (line.day, line.kind, line.charge, line.credit, line.balance) for line in account.lines
    ] == [
        (date(2026, 1, 5), "invoice", 4321, 0, 4321),
        (date(2026, 2, 1), "invoice", 5000, 0, 9321),
        (date(2026, 3, 10), WRITE_OFF, 0, 4321, 5000),
    ]
    assert account.closing == 5000
    # A range that starts after the write-off opens with it already taken out.
    assert usd(customer, date(2026, 4, 1)).opening == 5000
    # A range that ends before it still owed it then.
    assert usd(customer, YEAR_START, date(2026, 3, 9)).closing == 9321


def test_the_balance_agrees_with_the_customers_list_and_the_account_page(client, book):
    customer, _ = book
    listed = annotate_figures(Customer.objects.filter(pk=customer.pk), date(2026, 6, 1), "USD")
    assert listed.get().outstanding == usd(customer).closing == 5000
    page = client.get(reverse("account:page", args=[customer.account_token])).text
    assert "50,00\xa0$" in page  # the balance, in German as the customer reads it
    assert "93,21" not in page
    assert "43,21" not in page


def test_a_payment_that_reopens_it_takes_the_write_off_line_away(book):
    customer, gone = book
    record_offline_payment(
        invoice=gone, amount=1000, method="bank_transfer", received_on=date(2026, 3, 20)
    )
    account = usd(customer)
    assert WRITE_OFF not in [line.kind for line in account.lines]
    assert account.closing == 5000 + 3321


def test_the_pdf_names_the_write_off_in_the_customers_language(book):
    customer, gone = book
    pdf = statement_pdf(statement(customer, YEAR_START, YEAR_END))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert f"Rechnung {gone.number} abgeschrieben" in text
    assert "50,00\xa0$" in text  # the closing balance


def test_the_staff_statement_page_names_the_write_off(staff_client, book):
    customer, gone = book
    url = reverse("customers:statement", args=[customer.pk])
    page = staff_client.get(url, {"start": "2026-01-01", "end": "2026-12-31"}).text
    assert 'data-kind="write_off"' in page
    assert f"Written off (uncollectible) {gone.number}" in page


def test_the_single_send_refuses_an_uncollectible_invoice(staff_client, book):
    _, gone = book
    response = staff_client.post(reverse("invoices:send", args=[gone.pk]), follow=True)
    assert "It is marked uncollectible: it asks for nothing, so it is not sent." in response.text
    gone.refresh_from_db()
    assert gone.sent_at is None
    assert not gone.activities.filter(kind=InvoiceActivity.Kind.SENT).exists()
    assert not EmailLog.objects.filter(invoice=gone).exists()
    assert mail.outbox == []


def test_the_invoice_page_offers_no_send_button_once_written_off(staff_client, book):
    _, gone = book
    page = staff_client.get(gone.get_absolute_url()).text
    assert reverse("invoices:send", args=[gone.pk]) not in page
    assert reverse("invoices:record_payment", args=[gone.pk]) in page


def test_an_open_invoice_is_still_sent(staff_client, book):
    customer, _ = book
    invoice = customer.invoices.get(status="open")
    invoice.sent_at = timezone.now() - timedelta(days=1)
    invoice.save(update_fields=["sent_at"])
    response = staff_client.post(reverse("invoices:send", args=[invoice.pk]), follow=True)
    assert f"Invoice emailed to {customer.email}" in response.text
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.SENT).count() == 1
