"""The pay page's queries: a finalized invoice's lines are read once per version."""

from __future__ import annotations

from datetime import date

import pytest

from invoices.models import Invoice
from invoices.pay import context
from invoices.services import record_offline_payment
from tests.factories import make_open

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def forget_lines():
    context._lines.clear()
    yield
    context._lines.clear()


def test_it_reads_a_finalized_invoices_lines_once_per_version(client, django_assert_num_queries):
    invoice = make_open(lines=5)
    url = invoice.get_pay_url()
    client.get(url)  # the first view records "viewed"
    client.get(url)
    with django_assert_num_queries(2):  # the business profile, the invoice with its customer
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
    with django_assert_num_queries(3):  # a new version: its lines are read afresh
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
