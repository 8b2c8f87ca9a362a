"""A quote's deposit: invoiced and sent on acceptance, deducted from the final invoice."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from invoices.models import EmailLog, Invoice, Payment, Quote
from invoices.quote_answers import convert_quote
from invoices.quotes import QuoteStateError, deposit_for
from invoices.services import finalize_invoice, record_offline_payment
from portal.money import MAX_AMOUNT, minimum_charge
from tests.quote_helpers import accept_post, make_quote

pytestmark = pytest.mark.django_db


def accept(client, quote: Quote) -> Quote:
    response = client.post(reverse("quote_pay:accept", args=[quote.token]), accept_post(quote))
    assert response.status_code == 302, response.content
    return Quote.objects.select_related("deposit_invoice").get(pk=quote.pk)


def pay_deposit(quote: Quote) -> Invoice:
    record_offline_payment(
        invoice=quote.deposit_invoice,
        amount=quote.deposit_invoice.amount_due,
        method=Payment.Method.BANK_TRANSFER,
        received_on=date.today(),
    )
    return Invoice.objects.get(pk=quote.deposit_invoice_id)


def test_accepting_sends_a_deposit_invoice_and_goes_to_its_pay_page(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    quote = make_quote(deposit_kind="percent", deposit_value=Decimal(30))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("quote_pay:accept", args=[quote.token]), accept_post(quote))
    quote.refresh_from_db()
    deposit = quote.deposit_invoice
    assert response.status_code == 302
    assert response["Location"] == deposit.get_pay_url()
    assert deposit.status == Invoice.Status.OPEN
    assert deposit.number == "INV-0001"
    assert (deposit.total, deposit.amount_due) == (6300, 6300)
    assert deposit.is_payable
    assert deposit.sent_at is not None
    assert [line.description for line in deposit.lines.all()] == [
        f"Deposit for quote {quote.number}"
    ]
    assert deposit.deposit_quote == quote
    (invoice_email,) = [m for m in mailoutbox if m.subject.startswith("Invoice INV-0001")]
    assert deposit.get_absolute_pay_url() in invoice_email.body
    pay_page = client.get(response["Location"])
    assert pay_page.status_code == 200
    assert "Pay $63.00" in pay_page.content.decode()


def test_a_paid_deposit_is_deducted_from_the_final_invoice(client, staff_client):
    quote = accept(client, make_quote(deposit_kind="amount", deposit_value=Decimal(5000)))
    deposit = pay_deposit(quote)
    assert deposit.status == Invoice.Status.PAID
    invoice = finalize_invoice(invoice=convert_quote(quote=quote))
    assert invoice.total == 21000
    assert invoice.amount_due == 21000 - 5000
    quote.refresh_from_db()
    assert quote.deposit_deducted == 5000
    # Shown on the customer's page, the staff page and the PDF, by the deposit's number.
    page = client.get(invoice.get_pay_url()).content.decode()
    assert f"Deposit paid {deposit.number}" in page
    assert "-$50.00" in page
    assert "Account credit applied" not in page
    assert "Pay $160.00" in page
    staff = staff_client.get(invoice.get_absolute_url()).content.decode()
    assert f"of which deposit paid {deposit.number}" in staff
    assert "of which account credit" not in staff
    pdf = PdfReader(io.BytesIO(client.get(reverse("pay:pdf", args=[invoice.pay_token])).content))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert f"Deposit paid {deposit.number}" in text
    assert "-$50.00" in text


def test_a_refunded_part_of_the_deposit_is_not_deducted(client):
    quote = accept(client, make_quote(deposit_kind="amount", deposit_value=Decimal(5000)))
    deposit = pay_deposit(quote)
    Invoice.objects.filter(pk=deposit.pk).update(amount_refunded=2000)
    invoice = convert_quote(quote=quote)
    assert invoice.amount_due == 21000 - 3000


def test_an_unpaid_deposit_is_voided_and_the_final_invoice_asks_for_everything(client):
    quote = accept(client, make_quote(deposit_kind="percent", deposit_value=Decimal(50)))
    invoice = convert_quote(quote=quote)
    deposit = Invoice.objects.get(pk=quote.deposit_invoice_id)
    assert deposit.status == Invoice.Status.VOID
    assert deposit.amount_due == 0
    assert invoice.amount_due == invoice.total == 21000
    assert Quote.objects.get(pk=quote.pk).deposit_deducted == 0
    assert EmailLog.objects.filter(kind="void", invoice=deposit).exists()


def test_a_deposit_being_paid_or_partly_paid_blocks_converting(client):
    quote = accept(client, make_quote(deposit_kind="amount", deposit_value=Decimal(10000)))
    Invoice.objects.filter(pk=quote.deposit_invoice_id).update(payment_state="processing")
    with pytest.raises(QuoteStateError, match="being paid"):
        convert_quote(quote=quote)
    Invoice.objects.filter(pk=quote.deposit_invoice_id).update(payment_state="")
    record_offline_payment(
        invoice=quote.deposit_invoice,
        amount=4000,
        method=Payment.Method.CASH,
        received_on=date.today(),
    )
    with pytest.raises(QuoteStateError, match="partly paid"):
        convert_quote(quote=quote)
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.ACCEPTED
    assert Invoice.objects.count() == 1


def test_a_quote_without_a_deposit_creates_no_invoice_on_acceptance(client):
    quote = accept(client, make_quote())
    assert quote.deposit_invoice is None
    assert not Invoice.objects.exists()


currencies = st.sampled_from(["USD", "EUR", "GBP", "JPY", "KRW", "SEK"])


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=MAX_AMOUNT),
    percent=st.decimals(min_value=Decimal("-5"), max_value=Decimal(150), places=2),
    currency=currencies,
)
def test_a_percentage_deposit_is_whole_minor_units_within_the_total(total, percent, currency):
    try:
        amount = deposit_for("percent", percent, total, currency)
    except ValueError:
        exact = Decimal(total) * percent / 100
        assert not (0 < percent <= 100) or exact < minimum_charge(currency) or exact <= 0
        return
    assert isinstance(amount, int)
    assert 0 < percent <= 100
    assert minimum_charge(currency) <= amount <= total
    # Half up to the nearest whole minor unit: never more than half a unit off.
    assert abs(Decimal(amount) - Decimal(total) * percent / 100) <= Decimal("0.5")


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=MAX_AMOUNT),
    amount=st.integers(min_value=-10, max_value=MAX_AMOUNT + 10),
    currency=currencies,
)
def test_an_amount_deposit_is_taken_as_is_or_refused(total, amount, currency):
    try:
        taken = deposit_for("amount", Decimal(amount), total, currency)
    except ValueError:
        assert amount <= 0 or amount > total or amount < minimum_charge(currency)
        return
    assert taken == amount
    assert minimum_charge(currency) <= taken <= total


def test_the_statement_charges_the_job_once_deposit_included(client):
    from invoices.statements import statement

    quote = accept(client, make_quote(deposit_kind="amount", deposit_value=Decimal(5000)))
    pay_deposit(quote)
    invoice = finalize_invoice(invoice=convert_quote(quote=quote))
    record_offline_payment(
        invoice=invoice,
        amount=invoice.amount_due,
        method=Payment.Method.BANK_TRANSFER,
        received_on=date.today(),
    )
    today = date.today()
    (account,) = statement(quote.customer, today.replace(day=1), today).accounts
    # The deposit invoice (50.00) and the final invoice's remainder (160.00), paid in full.
    assert account.charges == 21000
    assert account.credits == 21000
    assert account.closing == 0


def test_an_acceptance_whose_deposit_invoice_fails_accepts_nothing(client, monkeypatch):
    from invoices import services
    from invoices.activity import InvoiceStateError

    def refuse(**kwargs):
        raise InvoiceStateError("refused")

    quote = make_quote(deposit_kind="percent", deposit_value=Decimal(30))
    # The one thing stubbed: a finalize that fails (it cannot, with a valid deposit line).
    monkeypatch.setattr(services, "finalize_invoice", refuse)
    response = client.post(reverse("quote_pay:accept", args=[quote.token]), accept_post(quote))
    assert response.status_code == 409
    assert "Nothing was accepted" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT
    assert quote.accepted_at is None
    assert not Invoice.objects.exists()
