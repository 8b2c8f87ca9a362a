from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from invoices.models import Invoice, digest_token, new_pay_token
from tests.factories import CustomerFactory, InvoiceFactory, make_draft, make_open

DASHBOARD = "/"


def bulk_invoices(count: int, **fields) -> None:
    customer = CustomerFactory()
    invoices = []
    for n in range(count):
        token = new_pay_token()
        invoices.append(
            Invoice(
                customer=customer,
                pay_token=token,
                pay_token_digest=digest_token(token),
                status=Invoice.Status.OPEN,
                number=f"BULK-{n:05d}",
                total=1000,
                amount_due=1000,
                **fields,
            )
        )
    Invoice.objects.bulk_create(invoices)


@pytest.mark.parametrize("count", [5, 500])
def test_it_lists_invoices_in_constant_queries(staff_client, django_assert_num_queries, count):
    bulk_invoices(count)
    # session, user, totals (a sum of the maintained buckets), one page of rows
    with django_assert_num_queries(4):
        response = staff_client.get(DASHBOARD)
    assert response.status_code == 200
    # the htmx swap of the results has no totals
    with django_assert_num_queries(3):
        staff_client.get(DASHBOARD, {"q": "BULK", "sort": "-total"}, HTTP_HX_REQUEST="true")


def test_it_paginates_without_counting(staff_client, db):
    bulk_invoices(30)
    first = staff_client.get(DASHBOARD, {"sort": "number"})
    assert 'rel="next"' in first.text
    assert "BULK-00024" in first.text
    assert "BULK-00025" not in first.text
    second = staff_client.get(DASHBOARD, {"sort": "number", "page": "2"})
    assert "BULK-00025" in second.text
    assert "BULK-00029" in second.text
    assert 'rel="next"' not in second.text
    assert 'rel="prev"' in second.text


def test_it_filters_by_status_tab(staff_client, db):
    draft = make_draft()
    open_invoice = make_open()
    late = make_open(issue_date=timezone.localdate() - timedelta(days=60))
    response = staff_client.get(DASHBOARD, {"status": "overdue"})
    assert f"invoice-row-{late.pk}" in response.text
    assert f"invoice-row-{open_invoice.pk}" not in response.text
    response = staff_client.get(DASHBOARD, {"status": "draft"})
    assert f"invoice-row-{draft.pk}" in response.text
    assert f"invoice-row-{open_invoice.pk}" not in response.text
    assert 'aria-current="page"' in response.text


def test_it_searches_by_number_name_and_email(staff_client, db):
    alice = make_open(customer=CustomerFactory(name="Alice", email="alice@acme.test"))
    bob = make_open(customer=CustomerFactory(name="Bob", email="bob@other.test"))
    for term in ("alice", "acme.test", alice.number):
        response = staff_client.get(DASHBOARD, {"q": term}, HTTP_HX_REQUEST="true")
        assert f"invoice-row-{alice.pk}" in response.text
        assert f"invoice-row-{bob.pk}" not in response.text
        assert "<html" not in response.text


def test_it_keeps_the_state_in_the_links(staff_client, db):
    make_open()
    response = staff_client.get(DASHBOARD, {"q": "x y", "status": "open", "sort": "total"})
    assert "?q=x+y&amp;status=open&amp;sort=-total" in response.text  # the total header flips
    assert "?q=x+y&amp;sort=total" in response.text  # the "All" tab keeps the search


def test_it_sorts_by_total(staff_client, db):
    small = make_open(lines=1, unit_amount=100)
    big = make_open(lines=1, unit_amount=900)
    text = staff_client.get(DASHBOARD, {"sort": "-total"}).text
    assert text.index(f"invoice-row-{big.pk}") < text.index(f"invoice-row-{small.pk}")
    text = staff_client.get(DASHBOARD, {"sort": "total"}).text
    assert text.index(f"invoice-row-{small.pk}") < text.index(f"invoice-row-{big.pk}")


def test_it_ignores_unknown_filters(staff_client, db):
    response = staff_client.get(DASHBOARD, {"status": "nope", "sort": "pk; drop", "page": "x"})
    assert response.status_code == 200


def test_it_totals_per_currency(staff_client, db):
    make_open(lines=1, unit_amount=10000)
    make_open(lines=1, unit_amount=2500, issue_date=timezone.localdate() - timedelta(days=60))
    make_open(lines=1, unit_amount=700, currency="JPY")
    paid = make_open(lines=1, unit_amount=4200)
    paid.add_payment(4200)
    paid.save()
    text = staff_client.get(DASHBOARD).text
    assert "$125.00" in text  # outstanding
    assert "$25.00" in text  # overdue
    assert "$42.00" in text  # paid this month
    assert "¥700" in text


def test_it_connects_to_the_live_feed(staff_client, db):
    text = staff_client.get(DASHBOARD).text
    assert 'sse-connect="/live/staff/?since=' in text


def test_it_exports_the_filtered_list_as_csv(staff_client, db):
    make_open(lines=1, unit_amount=1050, customer=CustomerFactory(name="=HYPERLINK()"))
    make_open(lines=1, unit_amount=700, currency="JPY")
    make_draft()
    response = staff_client.get(reverse("invoices:export"), {"status": "open", "sort": "total"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["currency"], r["total"]) for r in rows] == [("JPY", "700"), ("USD", "10.50")]
    assert rows[1]["customer"] == "'=HYPERLINK()"


def test_it_filters_by_customer(staff_client, db):
    mine = make_open()
    other = InvoiceFactory()
    text = staff_client.get(DASHBOARD, {"customer": mine.customer_id}).text
    assert f"invoice-row-{mine.pk}" in text
    assert f"invoice-row-{other.pk}" not in text


def test_the_totals_follow_a_payment(staff_client, django_capture_on_commit_callbacks):
    from datetime import date

    from invoices.services import record_offline_payment

    invoice = make_open(lines=1, unit_amount=10000)
    outstanding = "<dt>Outstanding</dt><dd>{}</dd>"
    assert outstanding.format("$100.00") in staff_client.get(DASHBOARD).text
    with django_capture_on_commit_callbacks(execute=True):
        record_offline_payment(
            invoice=invoice, amount=4000, method="bank_transfer", received_on=date.today()
        )
    assert outstanding.format("$60.00") in staff_client.get(DASHBOARD).text
