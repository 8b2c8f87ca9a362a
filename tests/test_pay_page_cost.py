"""The pay page's cost: one statement per view; a finalized invoice's lines are read, and
the page's unchanging regions rendered, once per version of what they show."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from customers.models import Customer
from invoices.models import BusinessProfile, Invoice, Payment
from invoices.pay import context
from invoices.pay.lookup import Version
from invoices.services import record_offline_payment
from portal.kept import fragments
from tests.factories import make_open, open_with_intent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def forget_lines():
    context._lines.clear()
    fragments.clear()
    yield
    context._lines.clear()
    fragments.clear()


def test_it_reads_a_finalized_invoices_lines_once_per_version(client, django_assert_num_queries):
    invoice = make_open(lines=5)
    url = invoice.get_pay_url()
    client.get(url)  # the first view records "viewed"
    client.get(url)
    with django_assert_num_queries(1):  # the invoice with its customer and the business profile
        response = client.get(url)
    assert response.status_code == 200
    for line in invoice.lines.all():
        assert line.description.encode() in response.content
    stored = Invoice.objects.get(pk=invoice.pk)
    assert list(context._lines) == [(invoice.pk, stored.pay_token, stored.updated_at)]


def test_it_reads_the_lines_again_once_the_invoice_changes(client, django_assert_num_queries):
    invoice = make_open(lines=3)
    url = invoice.get_pay_url()
    client.get(url)
    line = invoice.lines.first()
    assert line.description.encode() in client.get(url).content
    record_offline_payment(
        invoice=invoice, amount=100, method="bank_transfer", received_on=date.today()
    )
    with django_assert_num_queries(2):  # a new version: its lines are read afresh
        response = client.get(url)
    assert line.description.encode() in response.content


def test_it_never_keeps_a_drafts_lines():
    invoice = make_open(lines=1)
    invoice.status = Invoice.Status.DRAFT
    assert len(context.invoice_lines(invoice)) == 1
    assert context._lines == {}


def test_it_never_serves_lines_kept_for_another_invoice_with_the_same_id_and_version():
    """After a restore (or a rolled-back test) a row id and a time can name another invoice."""
    invoice = make_open(lines=1)
    context._lines[(invoice.pk, "another invoice's token", invoice.updated_at)] = []
    assert [line.pk for line in context.invoice_lines(invoice)] == [invoice.lines.get().pk]


def test_it_renders_the_unchanging_regions_once_per_version(client, django_assert_num_queries):
    invoice = make_open(lines=5)
    url = invoice.get_pay_url()
    client.get(url)  # the first view records "viewed": a new version
    client.get(url)
    context._lines.clear()  # rendering the lines again would read them again
    with django_assert_num_queries(1):
        response = client.get(url)
    for line in invoice.lines.all():
        assert line.description.encode() in response.content
    assert b"Payments secured by Stripe" in response.content


def test_it_shows_a_change_to_the_business_profile_on_the_next_view(client):
    invoice = make_open()
    url = invoice.get_pay_url()
    client.get(url)
    assert b"Acme Studio" in client.get(url).content
    # Written as another process would, without this one's save() hooks.
    BusinessProfile.objects.filter(pk=1).update(
        name="Renamed <b>Studio</b>", phone="+1 555 0100", accept_us_bank_account=True
    )
    for _ in range(2):  # rendered, then reused: escaped both times
        body = client.get(url).content.decode()
        assert "Acme Studio" not in body
        assert "Renamed &lt;b&gt;Studio&lt;/b&gt;" in body
        assert "<b>Studio" not in body
        assert 'href="tel:+15550100"' in body
        assert "US bank account (ACH Direct Debit)" in body


def test_it_shows_a_change_to_the_customer_on_the_next_view(client):
    invoice = make_open()
    url = invoice.get_pay_url()
    client.get(url)
    client.get(url)
    Customer.objects.filter(pk=invoice.customer_id).update(name="Renamed Customer")
    body = client.get(url).content.decode()
    assert "Renamed Customer" in body
    assert invoice.customer.name not in body


def test_it_shows_the_customers_new_language_on_the_next_view(client):
    invoice = make_open()
    url = invoice.get_pay_url()
    client.get(url)
    assert b"Billed to" in client.get(url).content
    Customer.objects.filter(pk=invoice.customer_id).update(language="de")
    response = client.get(url)
    assert response["Content-Language"] == "de"
    body = response.content.decode()
    for german in ("Rechnungsempfänger", "Beschreibung", "Zahlungen gesichert durch Stripe"):
        assert german in body
    assert "Billed to" not in body


def test_it_shows_a_change_to_the_invoice_on_the_next_view(client):
    """Even one written without touching `updated_at`."""
    invoice = make_open()
    url = invoice.get_pay_url()
    client.get(url)
    client.get(url)
    Invoice.objects.filter(pk=invoice.pk).update(po_number="PO-7731", memo="Thanks <i>again</i>")
    body = client.get(url).content.decode()
    assert "PO-7731" in body
    assert "Thanks &lt;i&gt;again&lt;/i&gt;" in body


def test_it_never_shows_one_invoices_regions_on_another(client):
    first, second = make_open(lines=1), make_open(lines=1)
    for invoice in (first, second, first, second):
        body = client.get(invoice.get_pay_url()).content.decode()
        assert invoice.lines.get().description in body
        assert invoice.number in body
        other = second if invoice == first else first
        assert other.lines.get().description not in body


def test_it_says_overdue_the_day_after_the_due_date_with_nothing_else_changed(client):
    with time_machine.travel(datetime(2026, 3, 9, 12, tzinfo=UTC), tick=False):
        invoice = make_open()
        Invoice.objects.filter(pk=invoice.pk).update(due_date=date(2026, 3, 9))
        url = invoice.get_pay_url()
        client.get(url)
        assert b"badge-overdue" not in client.get(url).content
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=UTC), tick=False):
        body = client.get(url).content.decode()
    assert 'class="badge badge-overdue"' in body
    assert ">Overdue</span>" in body


def test_a_paid_invoices_state_is_read_on_every_view(client):
    invoice = make_open(lines=1)
    record_offline_payment(
        invoice=invoice, amount=invoice.amount_due, method="bank_transfer", received_on=date.today()
    )
    url = invoice.get_pay_url()
    client.get(url)
    assert b"refund-pending" not in client.get(url).content
    # Only the payment changes: the invoice's row stays as it was.
    Payment.objects.filter(invoice=invoice).update(amount_refund_pending=5000)
    assert b"A refund of $50.00 is on its way" in client.get(url).content


def test_a_return_notice_is_only_on_the_page_stripe_sent_back(client):
    invoice = open_with_intent("pi_ours")
    url = invoice.get_pay_url()
    client.get(url)
    client.get(url)
    notice = b"That payment does not belong to this invoice."
    assert notice in client.get(url, {"payment_intent": "pi_theirs"}).content
    body = client.get(url).content
    assert notice not in body
    assert b"Pay $200.00" in body


def test_the_return_from_stripe_is_never_the_kept_open_state(client, stripe_env):
    invoice = make_open(lines=1)
    url = invoice.get_pay_url()
    assert client.post(f"{url}pay/").status_code == 200
    invoice.refresh_from_db()
    intent = invoice.stripe_payment_intent_id
    stripe_env.client().v1.payment_intents.confirm(
        intent, params={"payment_method": "pm_card_visa", "return_url": "http://testserver/"}
    )
    client.get(url)
    assert b"Pay $100.00" in client.get(url).content
    body = client.get(url, {"payment_intent": intent, "redirect_status": "succeeded"}).content
    assert b"Payment being recorded" in body
    assert b"Pay $100.00" not in body


def test_the_receipt_reads_the_business_profile_with_its_invoice(client, django_assert_num_queries):
    invoice = make_open(lines=1)
    record_offline_payment(
        invoice=invoice, amount=invoice.amount_due, method="bank_transfer", received_on=date.today()
    )
    url = f"{invoice.get_pay_url()}receipt/"
    client.get(url)
    with django_assert_num_queries(2):  # the invoice with its customer and profile; its payment
        response = client.get(url)
    assert response.status_code == 200
    assert b"Acme Studio" in response.content


def test_a_version_compares_every_column_json_ones_too():
    assert Version((1, "a", {"k": [1]})) == Version((1, "a", {"k": [1]}))
    assert Version((1, "a", {"k": [1]})) != Version((1, "a", {"k": [2]}))
    assert Version((1, "a")) != Version((1, "b"))
    assert len({Version((1, "a")), Version((1, "a"))}) == 1
