"""An invoice's row in the staff lists: the same on the dashboard and in the live feed."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.template.defaultfilters import date as format_date
from django.template.loader import render_to_string
from django.urls import clear_script_prefix, set_script_prefix
from django.utils import timezone, translation

from invoices.listing import SORTS
from invoices.models import Invoice
from invoices.staff import live as staff_live
from invoices.staff.rows import invoice_row
from tests.factories import CustomerFactory, make_draft, make_open

pytestmark = pytest.mark.django_db


def row_on_page(text: str, invoice: Invoice) -> str:
    return re.search(rf'<tr id="invoice-row-{invoice.pk}".*?</tr>', text, re.S).group(0)


def fresh(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_related("customer").get(pk=invoice.pk)


def test_it_renders_the_same_row_on_the_dashboard_and_in_the_live_feed(staff_client):
    invoice = make_open()
    page = staff_client.get("/")
    pushed = dict(staff_live.staff_messages(fresh(invoice)))[f"invoice-{invoice.pk}-row"]
    assert row_on_page(page.text, invoice) == pushed.strip()
    # The customer's page lists the same row.
    customer_page = staff_client.get(invoice.customer.get_absolute_url())
    assert row_on_page(customer_page.text, invoice) == pushed.strip()


def test_it_keeps_the_row_template_for_other_callers():
    invoice = fresh(make_open())
    assert render_to_string("invoices/_invoice_row.html", {"invoice": invoice}) == invoice_row(
        invoice
    )


def test_it_shows_what_each_invoice_is_in_its_own_badges():
    late = make_open(issue_date=timezone.localdate() - timedelta(days=60))
    processing = make_open()
    processing.payment_state = Invoice.PaymentState.PROCESSING
    processing.save()
    failed_and_late = make_open(issue_date=timezone.localdate() - timedelta(days=60))
    failed_and_late.payment_state = Invoice.PaymentState.FAILED
    failed_and_late.save()
    draft = make_draft()
    rows = {
        name: invoice_row(fresh(i))
        for name, i in {
            "late": late,
            "processing": processing,
            "failed_and_late": failed_and_late,
            "draft": draft,
        }.items()
    }
    assert '<span class="badge badge-overdue">Overdue</span></td>' in rows["late"]
    assert (
        '<span class="badge badge-open">Open</span> '
        '<span class="badge badge-processing">Processing</span></td>'
    ) in rows["processing"]
    assert (
        '<span class="badge badge-overdue">Overdue</span> '
        '<span class="badge badge-failed">Failed</span></td>'
    ) in rows["failed_and_late"]
    assert '<span class="badge badge-draft">Draft</span></td>' in rows["draft"]
    assert "badge-processing" not in rows["late"] + rows["draft"]


def test_it_escapes_what_people_typed():
    customer = CustomerFactory(name='<script>alert("x")</script> & Sons')
    invoice = make_open(customer=customer)
    Invoice.objects.filter(pk=invoice.pk).update(number='INV"><b>1')
    row = invoice_row(fresh(invoice))
    assert "<script>" not in row
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons" in row
    assert 'aria-label="Pick INV&quot;&gt;&lt;b&gt;1"' in row
    assert "<b>" not in row


def test_it_links_each_row_to_its_invoice():
    invoices = [fresh(make_open()) for _ in range(3)]
    for invoice in invoices:
        assert f'<a href="{invoice.get_absolute_url()}">' in invoice_row(invoice)
    # Served under a path prefix, the links follow it.
    set_script_prefix("/books/")
    try:
        for invoice in invoices:
            url = invoice.get_absolute_url()
            assert url.startswith("/books/")
            assert f'<a href="{url}">' in invoice_row(invoice)
    finally:
        clear_script_prefix()


def test_it_writes_dates_and_labels_in_the_active_language():
    invoice = make_open()
    Invoice.objects.filter(pk=invoice.pk).update(
        issue_date=date(2026, 12, 1), due_date=date(2026, 12, 31)
    )
    invoice = fresh(invoice)
    english = invoice_row(invoice)
    assert "Dec 1, 2026" in english
    assert "Dec 31, 2026" in english
    with translation.override("de"):
        german = invoice_row(invoice)
        expected = format_date(invoice.due_date, "M j, Y")
        label = invoice.get_status_display()
    assert expected != "Dec 31, 2026"
    assert expected in german
    assert f">{label}</span>" in german
    # Back in English, nothing German was kept.
    assert invoice_row(invoice) == english


@pytest.mark.parametrize("sort", ["", *SORTS, *(f"-{key}" for key in SORTS)])
def test_it_loads_only_what_rows_show_in_constant_queries(
    staff_client, django_assert_num_queries, sort
):
    for n in range(30):
        make_open(customer=CustomerFactory(name=f"Customer {n:02d}"))
    first = staff_client.get("/", {"sort": sort})
    following = re.search(r'href="(\?[^"]*after=[^"]*)" [^>]*rel="next"', first.text).group(1)
    # session, user, one page of rows (the htmx swap has no totals)
    for query in (f"?sort={sort}", following.replace("&amp;", "&"), f"?sort={sort}&last=1"):
        with django_assert_num_queries(3):
            response = staff_client.get("/" + query, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert len(re.findall(r'<tr id="invoice-row-', response.text)) in (25, 5)
