"""A customer's statement for a date range: opening balance, lines, running and closing balance."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from invoices.credit_notes import issue_credit_note
from invoices.models import EmailLog, Invoice, Payment, Refund
from invoices.statements import statement, statement_pdf
from tests.factories import CustomerFactory, make_draft, make_open

pytestmark = pytest.mark.django_db


def issued(customer, amount: int, on: date, currency: str = "USD") -> Invoice:
    invoice = make_open(lines=1, unit_amount=amount, customer=customer, currency=currency)
    Invoice.objects.filter(pk=invoice.pk).update(issue_date=on, due_date=on)
    invoice.refresh_from_db()
    return invoice


def paid(invoice: Invoice, amount: int, on: date, status: str = "succeeded") -> Payment:
    return Payment.objects.create(
        invoice=invoice,
        amount=amount,
        currency=invoice.currency,
        method="bank_transfer",
        status=status,
        received_on=on,
    )


@pytest.fixture
def book():
    customer = CustomerFactory(name="Dora")
    old = issued(customer, 10000, date(2026, 1, 10))
    paid(old, 4000, date(2026, 1, 20))
    march = issued(customer, 5000, date(2026, 3, 5))
    card = paid(march, 5000, date(2026, 3, 8))
    Refund.objects.create(
        payment=card, stripe_refund_id="re_st_1", amount=1000, currency="USD", status="succeeded"
    )
    Refund.objects.filter(stripe_refund_id="re_st_1").update(created_at="2026-03-09T12:00:00Z")
    paid(march, 9999, date(2026, 3, 9), status="reversed")  # taken back: not money received
    issued(customer, 700, date(2026, 3, 6), currency="EUR")
    void = issued(customer, 123, date(2026, 3, 7))
    Invoice.objects.filter(pk=void.pk).update(status="void")
    make_draft(customer=customer)
    issued(customer, 99, date(2026, 4, 2))  # after the range
    issued(CustomerFactory(), 5555, date(2026, 3, 5))  # someone else's
    return customer


def test_it_carries_the_opening_balance_and_runs_the_lines(book):
    found = statement(book, date(2026, 3, 1), date(2026, 3, 31))
    accounts = {a.currency: a for a in found.accounts}
    usd, eur = accounts["USD"], accounts["EUR"]
    assert usd.opening == 6000  # 100.00 invoiced - 40.00 paid in January
    assert [(line.kind, line.charge, line.credit, line.balance) for line in usd.lines] == [
        ("invoice", 5000, 0, 11000),
        ("payment", 0, 5000, 6000),
        ("refund", 1000, 0, 7000),
    ]
    assert usd.closing == 7000
    assert (eur.opening, eur.closing) == (0, 700)


def test_a_range_with_nothing_in_it_shows_only_the_opening(book):
    found = statement(book, date(2026, 2, 1), date(2026, 2, 28))
    (usd,) = found.accounts
    assert (usd.opening, usd.lines, usd.closing) == (6000, [], 6000)


def test_the_page_shows_it_and_swaps_a_backwards_range(staff_client, book):
    url = reverse("customers:statement", args=[book.pk])
    response = staff_client.get(url, {"start": "2026-03-31", "end": "2026-03-01"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "swapped" in body
    assert "$70.00" in body  # the closing balance
    assert response.context["statement"].start == date(2026, 3, 1)


def test_the_page_refuses_a_malformed_date(staff_client, book):
    url = reverse("customers:statement", args=[book.pk])
    assert staff_client.get(url, {"start": "2026-13-01"}).status_code == 400


def test_its_query_count_is_constant_in_rows(staff_client, book):
    url = reverse("customers:statement", args=[book.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            staff_client.get(url, {"start": "2026-01-01", "end": "2026-12-31"})
        return len(queries)

    few = count()
    for day in range(1, 20):
        invoice = issued(book, 100, date(2026, 5, day))
        paid(invoice, 100, date(2026, 5, day))
    assert count() == few


def test_the_pdf_is_in_the_customers_language(book):
    book.language = "de"
    book.save()
    pdf = statement_pdf(statement(book, date(2026, 3, 1), date(2026, 3, 31)))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "KONTOAUSZUG" in text
    assert "Anfangssaldo" in text
    assert "60,00\xa0$" in text  # the opening balance, formatted the German way
    assert "Schlusssaldo" in text
    assert "70,00\xa0$" in text


def test_the_pdf_downloads(staff_client, book):
    url = reverse("customers:statement_pdf", args=[book.pk])
    response = staff_client.get(url, {"start": "2026-03-01", "end": "2026-03-31"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_customer_page_links_it_and_lists_payments(staff_client, book):
    body = staff_client.get(reverse("customers:detail", args=[book.pk])).content.decode()
    assert reverse("customers:statement", args=[book.pk]) in body
    assert body.count('data-kind="payment"') == 3
    assert body.count('data-kind="refund"') == 1


def test_it_refuses_strangers(stranger_client, client, book):
    for name in ("customers:statement", "customers:statement_pdf"):
        url = reverse(name, args=[book.pk])
        assert stranger_client.get(url).status_code == 403
        assert client.get(url).status_code == 302


def test_a_credit_note_is_a_credit_on_the_statement(book):
    issue_credit_note(invoice=make_open(customer=book), amount=1500, reason="Goodwill")
    note_day = timezone.localdate()
    found = statement(book, date(2026, 1, 1), note_day)
    usd = next(a for a in found.accounts if a.currency == "USD")
    (line,) = [line for line in usd.lines if line.kind == "credit_note"]
    assert (line.reference, line.credit, line.day) == ("CN-0001", 1500, note_day)
    # Invoiced 100 + 50 + 200 (the new one) + 0.99 (April); paid 40 + 50; refunded 10;
    # credited 15.
    assert usd.closing == 10000 + 5000 + 20000 + 99 - 4000 - 5000 + 1000 - 1500


def test_staff_email_it_and_the_customer_gets_the_pdf(
    staff_client, book, mailoutbox, django_capture_on_commit_callbacks
):
    book.language = "fr"
    book.save()
    url = reverse("customers:statement_email", args=[book.pk])
    post = {"start": "2026-03-01", "end": "2026-03-31", "form_token": "once"}
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, post)
        staff_client.post(url, post)  # pressed twice: one email
    assert response.status_code == 302
    assert response["Location"].endswith("?start=2026-03-01&end=2026-03-31")
    (mail,) = [m for m in mailoutbox if m.to == [book.email]]
    assert mail.subject == "Votre relevé de compte de Acme Studio"
    assert "Solde de clôture en USD : 70,00\xa0$" in mail.body
    (name, content, mimetype) = mail.attachments[0]
    assert (name, mimetype) == (f"statement-{book.pk}-2026-03-01-2026-03-31.pdf", "application/pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "RELEVÉ DE COMPTE" in text
    log = EmailLog.objects.get(kind="statement")
    assert (log.customer, log.invoice, log.status) == (book, None, EmailLog.Status.SENT)


def test_emailing_it_refuses_bad_dates_and_strangers(staff_client, stranger_client, book):
    url = reverse("customers:statement_email", args=[book.pk])
    assert staff_client.post(url, {"start": "2026-02-30"}).status_code == 400
    assert stranger_client.post(url, {"start": "2026-03-01"}).status_code == 403
    assert staff_client.get(url).status_code == 405
    assert not EmailLog.objects.exists()
