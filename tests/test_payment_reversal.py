"""Reversing an offline payment recorded by mistake: reason required, trail left, amounts back."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from invoices.models import Invoice, InvoiceActivity, Payment
from invoices.services import record_offline_payment
from tests.factories import make_open

pytestmark = pytest.mark.django_db


def url(payment: Payment) -> str:
    return reverse("invoices:reverse_payment", args=[payment.invoice_id, payment.pk])


@pytest.fixture
def paid(staff):
    invoice = make_open()
    payment = record_offline_payment(
        invoice=invoice,
        amount=invoice.amount_due,
        method="check",
        received_on=date(2026, 3, 1),
        reference="Cheque 1001",
        actor=staff,
    )
    payment.invoice.refresh_from_db()
    return payment


def test_it_reverses_an_offline_payment_and_reopens_the_invoice(staff_client, staff, paid):
    invoice = paid.invoice
    assert invoice.status == Invoice.Status.PAID
    response = staff_client.post(url(paid), {"reason": "Cheque bounced", "form_token": "t1"})
    assert response.status_code == 302
    paid.refresh_from_db()
    invoice.refresh_from_db()
    assert paid.status == Payment.Status.REVERSED
    assert paid.reversal_reason == "Cheque bounced"
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == (
        Invoice.Status.OPEN,
        0,
        invoice.total,
    )
    assert invoice.paid_at is None
    entry = invoice.activities.get(kind=InvoiceActivity.Kind.PAYMENT_REVERSED)
    assert entry.actor == staff
    assert "Cheque bounced" in entry.message
    assert entry.data == {"payment_id": paid.pk, "amount": paid.amount}


def test_a_partial_reversal_leaves_the_other_payments(staff_client, staff):
    invoice = make_open()
    first = record_offline_payment(
        invoice=invoice, amount=5000, method="cash", received_on=date(2026, 3, 1)
    )
    record_offline_payment(
        invoice=invoice, amount=3000, method="bank_transfer", received_on=date(2026, 3, 2)
    )
    staff_client.post(url(first), {"reason": "Wrong invoice"})
    invoice.refresh_from_db()
    assert invoice.amount_paid == 3000
    assert invoice.amount_due == invoice.total - 3000


def test_it_requires_a_reason_and_changes_nothing_without_one(staff_client, paid):
    for reason in ("", "   "):
        response = staff_client.post(url(paid), {"reason": reason})
        assert response.status_code == 200
        assert "This field is required." in response.content.decode()
    paid.refresh_from_db()
    assert paid.status == Payment.Status.SUCCEEDED
    assert not paid.invoice.activities.filter(kind=InvoiceActivity.Kind.PAYMENT_REVERSED).exists()


def test_a_double_submit_reverses_once(staff_client, paid):
    post = {"reason": "Cheque bounced", "form_token": "same-token"}
    staff_client.post(url(paid), post)
    second = staff_client.post(url(paid), post)
    assert second.status_code == 302
    invoice = Invoice.objects.get(pk=paid.invoice_id)
    assert invoice.amount_paid == 0
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.PAYMENT_REVERSED).count() == 1


def test_it_refuses_a_second_reversal(staff_client, paid):
    staff_client.post(url(paid), {"reason": "Cheque bounced"})
    response = staff_client.post(url(paid), {"reason": "Again"})
    assert "already reversed" in response.content.decode()
    assert Invoice.objects.get(pk=paid.invoice_id).amount_paid == 0


def test_it_refuses_a_card_payment(staff_client):
    invoice = make_open()
    card = Payment.objects.create(
        invoice=invoice, amount=100, currency="USD", status="succeeded", method="card"
    )
    invoice.add_payment(100)
    invoice.save()
    response = staff_client.post(url(card), {"reason": "No"})
    assert "refund through Stripe" in response.content.decode()
    card.refresh_from_db()
    assert card.status == Payment.Status.SUCCEEDED


def test_the_invoice_page_offers_it_and_shows_the_reason(staff_client, paid):
    detail = reverse("invoices:detail", args=[paid.invoice_id])
    assert url(paid) in staff_client.get(detail).content.decode()
    staff_client.post(url(paid), {"reason": "<b>bounced</b>"})
    body = staff_client.get(detail).content.decode()
    assert url(paid) not in body
    assert "&lt;b&gt;bounced&lt;/b&gt;" in body


def test_the_ledger_shows_it_reversed(staff_client, paid):
    staff_client.post(url(paid), {"reason": "Cheque bounced"})
    response = staff_client.get(reverse("invoices:ledger"), {"status": "reversed"})
    assert [r["entry_id"] for r in response.context["rows"]] == [paid.pk]
    assert response.context["totals"] == []  # reversed money was never received


def test_it_refuses_strangers(stranger_client, client, paid):
    for visitor, status in ((stranger_client, 403), (client, 302)):
        assert visitor.get(url(paid)).status_code == status
        assert visitor.post(url(paid), {"reason": "x"}).status_code == status
    paid.refresh_from_db()
    assert paid.status == Payment.Status.SUCCEEDED
