"""Credit notes: gapless CN- numbers, a lower amount due, a refund through Stripe when paid."""

from __future__ import annotations

import io
import re
import threading
from datetime import date

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from pypdf import PdfReader

from invoices.credit_notes import issue_credit_note
from invoices.documents.credit_notes import send_credit_note_email
from invoices.models import CreditNote, Invoice, InvoiceActivity, Refund
from invoices.pay import live
from invoices.payments.handlers import apply_intent_succeeded
from invoices.payments.intents import start_payment
from invoices.services import (
    InvoiceStateError,
    finalize_invoice,
    record_offline_payment,
    void_invoice,
)
from tests.factories import make_draft, make_open

pytestmark = pytest.mark.django_db


def url(invoice: Invoice) -> str:
    return reverse("invoices:new_credit_note", args=[invoice.pk])


def paid_by_card(sim) -> Invoice:
    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    intent = sim.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://x/"},
    )
    with transaction.atomic():
        apply_intent_succeeded(intent.to_dict(), "")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    return invoice


def test_it_lowers_the_amount_due_and_numbers_gaplessly(staff_client, staff):
    invoice = make_open()  # $200.00
    response = staff_client.post(url(invoice), {"amount": "50", "reason": "Billed twice"})
    assert response.status_code == 302
    staff_client.post(url(invoice), {"amount": "25.00", "reason": "Goodwill"})
    invoice.refresh_from_db()
    assert (invoice.amount_credited, invoice.amount_due) == (7500, invoice.total - 7500)
    assert invoice.status == Invoice.Status.OPEN
    notes = list(invoice.credit_notes.all())
    assert [(n.number, n.amount, n.outcome) for n in notes] == [
        ("CN-0001", 5000, "reduced"),
        ("CN-0002", 2500, "reduced"),
    ]
    assert notes[0].created_by == staff
    entry = invoice.activities.filter(kind=InvoiceActivity.Kind.CREDIT_NOTE).first()
    assert "CN-0001" in entry.message
    assert "Billed twice" in entry.message


def test_a_full_credit_settles_the_invoice(staff):
    invoice = make_open()
    issue_credit_note(invoice=invoice, amount=invoice.total, reason="Cancelled", actor=staff)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == (Invoice.Status.PAID, 0)


def test_later_payments_ask_only_for_what_is_left(staff):
    invoice = make_open()
    issue_credit_note(invoice=invoice, amount=5000, reason="Discount")
    invoice.refresh_from_db()
    record_offline_payment(
        invoice=invoice, amount=invoice.total - 5000, method="cash", received_on=date(2026, 3, 1)
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == (Invoice.Status.PAID, 0)


def test_on_a_paid_invoice_it_refunds_through_stripe(stripe_env, staff_client):
    invoice = paid_by_card(stripe_env)
    response = staff_client.post(url(invoice), {"amount": "40", "reason": "One item returned"})
    assert response.status_code == 302
    note = CreditNote.objects.get()
    assert (note.number, note.outcome, note.amount) == ("CN-0001", "refunded", 4000)
    refund = Refund.objects.get()
    assert note.refund == refund
    assert refund.amount == 4000
    stripe_refunds = stripe_env.client().v1.refunds.list(
        params={"payment_intent": invoice.stripe_payment_intent_id}
    )
    assert [r.amount for r in stripe_refunds.data] == [4000]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_credited) == (Invoice.Status.PAID, 4000)


def test_a_refused_refund_gives_its_number_back(staff):
    invoice = make_open()
    record_offline_payment(
        invoice=invoice, amount=invoice.total, method="cash", received_on=date(2026, 3, 1)
    )
    invoice.refresh_from_db()
    with pytest.raises(InvoiceStateError, match="No card payment"):
        issue_credit_note(invoice=invoice, amount=1000, reason="Returned")
    assert not CreditNote.objects.exists()
    issue_credit_note(invoice=make_open(), amount=1000, reason="Next")
    assert CreditNote.objects.get().number == "CN-0001"


@pytest.mark.parametrize(
    ("amount", "reason", "error"),
    [
        ("0", "x", "Enter an amount"),
        ("-5", "x", ""),
        ("200.01", "x", "At most $200.00"),
        ("1e9", "x", ""),
        ("10", "   ", "This field is required."),
        ("10", "", "This field is required."),
    ],
)
def test_bad_input_changes_nothing(staff_client, amount, reason, error):
    invoice = make_open()
    response = staff_client.post(url(invoice), {"amount": amount, "reason": reason})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not CreditNote.objects.exists()
    invoice.refresh_from_db()
    assert invoice.amount_credited == 0


def test_it_refuses_a_draft_or_void_invoice(staff):
    for invoice in (make_draft(), make_open()):
        if not invoice.is_draft:
            void_invoice(invoice=invoice)
        with pytest.raises(InvoiceStateError, match="finalized"):
            issue_credit_note(invoice=invoice, amount=100, reason="x")


def test_voiding_a_paid_invoice_points_to_credit_notes(staff_client, stripe_env):
    invoice = paid_by_card(stripe_env)
    response = staff_client.post(reverse("invoices:void", args=[invoice.pk]), follow=True)
    assert "issue a credit note instead" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_the_invoice_and_pay_pages_show_it(staff_client, client):
    invoice = make_open()
    issue_credit_note(invoice=invoice, amount=5000, reason="<b>Billed twice</b>")
    staff_body = staff_client.get(invoice.get_absolute_url()).content.decode()
    assert "CN-0001" in staff_body
    assert "&lt;b&gt;Billed twice&lt;/b&gt;" in staff_body
    pay_body = client.get(invoice.get_pay_url()).content.decode()
    assert "Credit note CN-0001" in pay_body
    assert "-$50.00" in pay_body
    assert "&lt;b&gt;Billed twice&lt;/b&gt;" in pay_body


def test_the_pay_page_speaks_the_customers_language(client):
    invoice = make_open()
    invoice.customer.language = "de"
    invoice.customer.save()
    issue_credit_note(invoice=invoice, amount=5000, reason="Doppelt berechnet")
    assert "Gutschrift CN-0001" in client.get(invoice.get_pay_url()).content.decode()


def test_a_double_submit_issues_one(staff_client):
    invoice = make_open()
    post = {"amount": "10", "reason": "Once", "form_token": "tok"}
    staff_client.post(url(invoice), post)
    staff_client.post(url(invoice), post)
    assert CreditNote.objects.count() == 1


def test_it_refuses_strangers(stranger_client, client):
    invoice = make_open()
    for visitor, status in ((stranger_client, 403), (client, 302)):
        assert visitor.get(url(invoice)).status_code == status
        assert visitor.post(url(invoice), {"amount": "1", "reason": "x"}).status_code == status
    assert not CreditNote.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_credit_notes_get_gapless_numbers():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks need PostgreSQL (CI runs this on PostgreSQL)")
    invoices = [make_open() for _ in range(6)]
    barrier = threading.Barrier(len(invoices))
    errors: list[Exception] = []

    def credit(invoice: Invoice) -> None:
        try:
            barrier.wait()
            issue_credit_note(invoice=invoice, amount=100, reason="Concurrent")
        except Exception as error:  # any failure is the test's failure
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=credit, args=(i,)) for i in invoices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(CreditNote.objects.values_list("number", flat=True))
    assert numbers == [f"CN-{n:04d}" for n in range(1, 7)]


def test_the_customer_gets_an_email_with_the_pdf(mailoutbox, django_capture_on_commit_callbacks):
    invoice = make_open()
    invoice.customer.language = "fr"
    invoice.customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        issue_credit_note(invoice=invoice, amount=5000, reason="Facturé deux fois")
    (mail,) = [m for m in mailoutbox if "CN-0001" in m.subject]
    assert mail.to == [invoice.customer.email]
    assert mail.subject.startswith("Avoir CN-0001 sur la facture")
    assert "Facturé deux fois" in mail.body
    (name, content, mimetype) = mail.attachments[0]
    assert (name, mimetype) == ("CN-0001.pdf", "application/pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "AVOIR" in text
    assert "Facturé deux fois" in text


def test_staff_download_its_pdf(staff_client, stranger_client):
    invoice = make_open()
    note = issue_credit_note(invoice=invoice, amount=5000, reason="Billed twice")
    pdf_url = reverse("invoices:credit_note_pdf", args=[invoice.pk, note.pk])
    assert pdf_url in staff_client.get(invoice.get_absolute_url()).content.decode()
    response = staff_client.get(pdf_url)
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert stranger_client.get(pdf_url).status_code == 403
    other = make_open()
    assert (
        staff_client.get(reverse("invoices:credit_note_pdf", args=[other.pk, note.pk])).status_code
        == 404
    )


def test_kept_as_credit_it_pays_part_of_the_next_invoice(stripe_env, staff_client, client):
    invoice = paid_by_card(stripe_env)
    response = staff_client.post(
        url(invoice), {"amount": "60", "reason": "Unused hours", "keep_as_credit": "on"}
    )
    assert response.status_code == 302
    note = CreditNote.objects.get()
    assert note.outcome == "credited"
    assert not Refund.objects.exists()  # nothing went back to the card
    customer_page = staff_client.get(reverse("customers:detail", args=[invoice.customer_id]))
    assert "$60.00" in customer_page.content.decode()

    later = make_open(customer=invoice.customer)  # $200.00, finalized: the credit is used
    assert (later.amount_credited, later.amount_due) == (6000, later.total - 6000)
    assert later.activities.filter(kind=InvoiceActivity.Kind.CREDIT_APPLIED).exists()
    pay_body = client.get(later.get_pay_url()).content.decode()
    assert "Account credit applied" in pay_body
    assert "-$60.00" in pay_body
    # Spent: the invoice after that gets none.
    assert make_open(customer=invoice.customer).amount_credited == 0


def test_credit_in_one_currency_is_not_used_in_another(staff):
    invoice = make_open()
    record_offline_payment(
        invoice=invoice, amount=invoice.total, method="cash", received_on=date(2026, 3, 1)
    )
    invoice.refresh_from_db()
    issue_credit_note(invoice=invoice, amount=1000, reason="x", keep_as_credit=True)
    euro = make_open(customer=invoice.customer, currency="EUR")
    assert euro.amount_credited == 0
    dollars = make_open(customer=invoice.customer, lines=1, unit_amount=500)
    assert (dollars.amount_credited, dollars.status) == (500, Invoice.Status.PAID)
    assert make_open(customer=invoice.customer).amount_credited == 500  # what was left


@pytest.mark.django_db(transaction=True)
def test_concurrent_finalizes_spend_a_credit_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks need PostgreSQL (CI runs this on PostgreSQL)")
    invoice = make_open()
    record_offline_payment(
        invoice=invoice, amount=invoice.total, method="cash", received_on=date(2026, 3, 1)
    )
    invoice.refresh_from_db()
    issue_credit_note(invoice=invoice, amount=5000, reason="x", keep_as_credit=True)
    drafts = [make_draft(customer=invoice.customer) for _ in range(4)]
    barrier = threading.Barrier(len(drafts))
    errors: list[Exception] = []

    def finalize(draft: Invoice) -> None:
        try:
            barrier.wait()
            finalize_invoice(invoice=draft)
        except Exception as error:  # any failure is the test's failure
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finalize, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    credited = [Invoice.objects.get(pk=d.pk).amount_credited for d in drafts]
    assert sorted(credited) == [0, 0, 0, 5000]


# -- on the customer's pay page -------------------------------------------------------


def test_the_pay_page_links_each_credit_notes_pdf_on_the_page_and_live(client):
    invoice = make_open()
    first = issue_credit_note(invoice=invoice, amount=5000, reason="Billed twice")
    second = issue_credit_note(invoice=invoice, amount=1000, reason="Goodwill")
    links = [
        reverse("pay:credit_note_pdf", args=[invoice.pay_token, note.number])
        for note in (first, second)
    ]
    body = client.get(invoice.get_pay_url()).content.decode()
    invoice.refresh_from_db()
    pushed = live.render_customer_state(invoice)
    for html in (body, pushed):
        downloads = re.search(r'<p id="pay-downloads".*?</p>', html, re.S).group(0)
        assert [link in downloads for link in links] == [True, True]
        assert "Credit note CN-0002 (PDF)" in downloads
        assert "Credit note CN-0001" in re.search(r'<dl id="invoice-totals".*?</dl>', html, re.S)[0]
    response = client.get(links[0])
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"].startswith("max-age=0")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "CN-0001" in text
    assert "Billed twice" in text


def test_a_credit_notes_pdf_opens_only_with_its_own_invoices_link(client):
    invoice, other = make_open(), make_open()
    note = issue_credit_note(invoice=invoice, amount=5000, reason="Billed twice")
    issue_credit_note(invoice=other, amount=100, reason="Other")
    for token, number in (
        (other.pay_token, note.number),  # another customer's link: no enumeration
        ("not-a-token", note.number),
        (invoice.pay_token, "CN-9999"),
        (invoice.pay_token, "x" * 300),
    ):
        assert client.get(reverse("pay:credit_note_pdf", args=[token, number])).status_code == 404
    old_token = invoice.pay_token
    invoice.rotate_pay_token()
    assert (
        client.get(reverse("pay:credit_note_pdf", args=[old_token, note.number])).status_code == 404
    )


def test_a_live_update_keeps_the_account_credit_line(stripe_env):
    invoice = paid_by_card(stripe_env)
    issue_credit_note(invoice=invoice, amount=6000, reason="Unused", keep_as_credit=True)
    later = make_open(customer=invoice.customer)
    pushed = live.render_customer_state(later)
    assert "Account credit applied" in pushed
    assert "-$60.00" in pushed


def test_credit_kept_on_the_account_says_so_in_the_email_and_pdf(mailoutbox, staff):
    invoice = make_open()
    record_offline_payment(
        invoice=invoice, amount=invoice.total, method="cash", received_on=date(2026, 3, 1)
    )
    invoice.refresh_from_db()
    note = issue_credit_note(invoice=invoice, amount=1000, reason="x", keep_as_credit=True)
    mail = send_credit_note_email(invoice, note.number)
    assert "kept on your account: your next invoice uses it" in mail.body
    assert "now asks for" not in mail.body
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(mail.attachments[0][1])).pages)
    assert "kept on your account" in text
    assert "lowers the amount due" not in text
