from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from invoices.models import Invoice, InvoiceFlag, Payment
from tests.factories import InvoiceFactory, make_draft, make_open

HTMX = {"HTTP_HX_REQUEST": "true"}


def post(client, name: str, *args, data=None, **extra):
    return client.post(reverse(f"invoices:{name}", args=args), data or {}, follow=True, **extra)


def card_payment(invoice: Invoice, amount: int, refunded: int = 0) -> Payment:
    invoice.add_payment(amount)
    invoice.save()
    return Payment.objects.create(
        invoice=invoice,
        method=Payment.Method.ONLINE,
        status=Payment.Status.SUCCEEDED,
        amount=amount,
        amount_refunded=refunded,
        currency=invoice.currency,
        stripe_payment_intent_id=f"pi_test_{invoice.pk}",
        card_brand="visa",
        card_last4="4242",
    )


def test_it_finalizes_a_draft(staff_client, db):
    draft = make_draft()
    response = post(staff_client, "finalize", draft.pk)
    draft.refresh_from_db()
    assert draft.status == "open"
    assert draft.number
    assert f"Invoice {draft.number} finalized" in response.text


def test_it_refuses_to_finalize_without_lines(staff_client, db):
    draft = make_draft(lines=0)
    response = post(staff_client, "finalize", draft.pk)
    assert "Add at least one line before finalizing." in response.text
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_it_refuses_to_finalize_twice(staff_client, db):
    invoice = make_open()
    response = post(staff_client, "finalize", invoice.pk)
    assert "Only a draft can be finalized." in response.text


def test_it_answers_htmx_with_a_client_redirect(staff_client, db):
    draft = make_draft()
    response = staff_client.post(reverse("invoices:finalize", args=[draft.pk]), **HTMX)
    assert response["HX-Redirect"] == draft.get_absolute_url()


def test_it_sends_an_open_invoice(staff_client, db):
    invoice = make_open()
    response = post(staff_client, "send", invoice.pk)
    assert f"Invoice emailed to {invoice.customer.email}" in response.text
    invoice.refresh_from_db()
    assert invoice.sent_at is not None
    assert invoice.activities.filter(kind="sent").exists()


def test_it_refuses_to_send_a_draft(staff_client, db):
    draft = make_draft()
    response = post(staff_client, "send", draft.pk)
    assert "A draft must be finalized before it is sent." in response.text


def test_it_voids_an_open_invoice_after_confirmation(staff_client, db):
    invoice = make_open()
    confirm = staff_client.get(reverse("invoices:void", args=[invoice.pk]))
    assert "Void invoice" in confirm.text
    invoice.refresh_from_db()
    assert invoice.status == "open"  # the GET only asks
    post(staff_client, "void", invoice.pk)
    invoice.refresh_from_db()
    assert invoice.status == "void"


def test_it_refuses_to_void_a_paid_invoice(staff_client, db):
    invoice = make_open(lines=1)
    card_payment(invoice, invoice.total)
    response = post(staff_client, "void", invoice.pk)
    assert "cannot be voided" in response.text
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_it_refuses_to_void_a_draft(staff_client, db):
    draft = make_draft()
    response = post(staff_client, "void", draft.pk)
    assert "cannot be voided" in response.text


def test_it_marks_an_open_invoice_uncollectible(staff_client, db):
    invoice = make_open()
    post(staff_client, "uncollectible", invoice.pk)
    invoice.refresh_from_db()
    assert invoice.status == "uncollectible"
    response = post(staff_client, "uncollectible", invoice.pk)
    assert "Only an open invoice can be marked uncollectible." in response.text


def test_it_records_a_partial_then_a_full_offline_payment(staff_client, db):
    invoice = make_open(lines=1, unit_amount=10000)
    today = timezone.localdate().isoformat()
    data = {"amount": "40.00", "received_on": today, "method": "bank_transfer", "reference": "T1"}
    post(staff_client, "record_payment", invoice.pk, data=data)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == ("open", 6000)
    post(staff_client, "record_payment", invoice.pk, data={**data, "amount": "60"})
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == ("paid", 0)
    assert invoice.payments.count() == 2


@pytest.mark.parametrize(
    ("amount", "error"),
    [("100.01", "more than the amount due"), ("0", "above zero"), ("1.001", "more decimals")],
)
def test_it_refuses_a_bad_offline_payment(staff_client, db, amount, error):
    invoice = make_open(lines=1, unit_amount=10000)
    data = {"amount": amount, "received_on": timezone.localdate(), "method": "cash"}
    response = post(staff_client, "record_payment", invoice.pk, data=data)
    assert error in response.text
    assert not invoice.payments.exists()


def test_it_refuses_an_offline_payment_dated_in_the_future(staff_client, db):
    invoice = make_open()
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = {"amount": "1", "received_on": tomorrow, "method": "cash"}
    response = post(staff_client, "record_payment", invoice.pk, data=data)
    assert "cannot be in the future" in response.text
    assert not invoice.payments.exists()


def test_it_refuses_to_record_a_payment_on_a_void_invoice(staff_client, db):
    invoice = make_open()
    post(staff_client, "void", invoice.pk)
    data = {"amount": "1", "received_on": timezone.localdate(), "method": "cash"}
    response = post(staff_client, "record_payment", invoice.pk, data=data)
    # Voiding zeroed the amount due, so the form refuses before the service is asked.
    assert "more than the amount due ($0.00)" in response.text
    assert not invoice.payments.exists()


def test_it_refuses_to_refund_more_than_was_paid(staff_client, db):
    invoice = make_open(lines=1, unit_amount=5000)
    payment = card_payment(invoice, 5000, refunded=1000)
    url = reverse("invoices:refund", args=[invoice.pk, payment.pk])
    assert "$40.00" in staff_client.get(url).text
    response = staff_client.post(url, {"amount": "40.01"})
    assert "more than can be refunded ($40.00)" in response.text
    assert not invoice.activities.filter(kind="refund_requested").exists()


def test_it_refuses_to_refund_an_offline_payment(staff_client, db):
    invoice = make_open(lines=1, unit_amount=5000)
    data = {"amount": "50", "received_on": timezone.localdate(), "method": "cash"}
    post(staff_client, "record_payment", invoice.pk, data=data)
    payment = invoice.payments.get()
    response = post(staff_client, "refund", invoice.pk, payment.pk, data={"amount": "1"})
    assert "Only a succeeded card payment" in response.text


def test_it_refuses_a_payment_of_another_invoice(staff_client, db):
    invoice = make_open()
    payment = card_payment(make_open(), 100)
    response = staff_client.post(reverse("invoices:refund", args=[invoice.pk, payment.pk]))
    assert response.status_code == 404


def test_it_duplicates_into_a_new_draft(staff_client, db):
    invoice = make_open(lines=3)
    response = staff_client.post(reverse("invoices:duplicate", args=[invoice.pk]))
    copy = Invoice.objects.exclude(pk=invoice.pk).get()
    assert response["Location"] == reverse("invoices:edit", args=[copy.pk])
    assert (copy.status, copy.lines.count(), copy.total) == ("draft", 3, invoice.total)


def test_it_replaces_the_pay_link(staff_client, db):
    invoice = make_open()
    old = invoice.pay_token
    post(staff_client, "revoke_link", invoice.pk)
    invoice.refresh_from_db()
    assert invoice.pay_token != old
    assert invoice.activities.filter(kind="link_revoked").exists()


def test_it_deletes_a_draft_but_not_an_open_invoice(staff_client, db):
    draft = make_draft()
    invoice = make_open()
    post(staff_client, "delete_draft", draft.pk)
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    response = post(staff_client, "delete_draft", invoice.pk)
    assert "Only a draft can be deleted" in response.text
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_it_resolves_a_flag(staff_client, db):
    invoice = make_open()
    flag = InvoiceFlag.objects.create(invoice=invoice, kind="overpaid", message="Paid $5 more")
    page = staff_client.get(invoice.get_absolute_url()).text
    assert "Paid $5 more" in page
    assert "Refund the extra amount" in page
    post(staff_client, "resolve_flag", invoice.pk, flag.pk)
    flag.refresh_from_db()
    assert flag.resolved_at is not None
    assert (
        "Paid $5 more" not in staff_client.get(invoice.get_absolute_url()).text.split("Activity")[0]
    )


def test_it_shows_the_invoice_page(staff_client, db, django_assert_max_num_queries):
    invoice = make_open(lines=3)
    card_payment(invoice, 1000)
    InvoiceFactory()  # someone else's
    with django_assert_max_num_queries(10):
        text = staff_client.get(invoice.get_absolute_url()).text
    assert f'id="invoice-status-{invoice.pk}"' in text
    assert 'sse-connect="/live/staff/?since=' in text
    assert invoice.get_absolute_pay_url() in text
    assert f"{invoice.get_pay_url()}?preview=1" in text
    assert "Visa •••• 4242" in text
    assert "Finalized" in text  # the timeline
    assert reverse("invoices:refund", args=[invoice.pk, invoice.payments.get().pk]) in text


def test_it_reloads_the_live_sections_alone(staff_client, db):
    invoice = make_open()
    response = staff_client.get(
        invoice.get_absolute_url(), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="invoice-live-sections"
    )
    assert response.text.lstrip().startswith('<div id="invoice-live-sections"')
