"""Receivables: the aging buckets on a fixed date, invoiced vs collected, charts with text twins."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.models import Invoice, Payment
from invoices.staff.receivables import aging, last_months, monthly
from tests.factories import CustomerFactory, make_open

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
# Paths: reverse() at import time would load the URLconf before the test settings.
URL = "/receivables/"


def owing(customer, days_late: int, amount: int, currency: str = "USD") -> Invoice:
    """An open invoice of `amount` whose due date was `days_late` days before TODAY."""
    invoice = make_open(lines=1, unit_amount=amount, customer=customer, currency=currency)
    due = TODAY - timedelta(days=days_late)
    Invoice.objects.filter(pk=invoice.pk).update(issue_date=min(due, TODAY), due_date=due)
    return invoice


@pytest.fixture
def book():
    ann, ben = CustomerFactory(name="Ann"), CustomerFactory(name="Ben")
    owing(ann, -5, 1000)  # due in 5 days: current
    owing(ann, 0, 2000)  # due today: current
    owing(ann, 1, 4000)  # 1 day late
    owing(ben, 30, 8000)  # 30 days: still 1-30
    owing(ben, 31, 16000)
    owing(ben, 60, 32000)
    owing(ben, 61, 64000)
    owing(ben, 90, 128000)
    owing(ben, 91, 256000)
    owing(ann, 400, 500, currency="EUR")
    paid = owing(ann, 200, 999)  # paid: owes nothing
    Invoice.objects.filter(pk=paid.pk).update(status="paid", amount_due=0)
    void = owing(ann, 200, 777)
    Invoice.objects.filter(pk=void.pk).update(status="void")
    return ann, ben


def test_it_puts_each_amount_due_in_its_bucket(book):
    report = aging(TODAY)
    totals = {row.currency: row.amounts for row in report.totals}
    assert totals == {
        "USD": (3000, 12000, 48000, 192000, 256000),
        "EUR": (0, 0, 0, 0, 500),
    }
    per_customer = {(r.customer_name, r.currency): r.amounts for r in report.customers}
    assert per_customer == {
        ("Ann", "EUR"): (0, 0, 0, 0, 500),
        ("Ann", "USD"): (3000, 4000, 0, 0, 0),
        ("Ben", "USD"): (0, 8000, 48000, 192000, 256000),
    }
    # Largest balance first within a currency.
    assert [r.customer_name for r in report.customers if r.currency == "USD"] == ["Ben", "Ann"]


def test_a_partly_paid_invoice_ages_what_is_still_due(book):
    ann, _ = book
    invoice = owing(ann, 45, 10000)
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=7500, amount_due=2500)
    usd = next(r for r in aging(TODAY).totals if r.currency == "USD")
    assert usd.amounts[2] == 48000 + 2500


def test_the_page_shows_charts_whose_text_twin_has_the_same_numbers(staff_client, book):
    with time_machine.travel(date(2026, 6, 15), tick=False):
        body = staff_client.get(URL).content.decode()
    chart = re.search(r'<figure class="chart" id="aging-chart-USD">.*?</figure>', body, re.S)
    assert chart is not None
    svg = chart.group(0)
    assert 'role="img"' in svg
    label = re.search(r'aria-label="([^"]*)"', svg).group(1)
    expected = ["$30.00", "$120.00", "$480.00", "$1,920.00", "$2,560.00"]
    assert re.findall(r'data-value="([^"]*)"', svg) == expected
    for amount in expected:
        assert amount in label
    table = re.search(
        r'<table class="table aging-table" id="aging-table-USD">.*?</table>', body, re.S
    )
    cells = re.findall(r'data-bucket="[^"]*">([^<]*)<', table.group(0))
    assert cells == expected


def test_the_tallest_bar_is_the_largest_bucket(staff_client, book):
    with time_machine.travel(date(2026, 6, 15), tick=False):
        chart = staff_client.get(URL).context["aging_charts"][1][1]  # USD after EUR
    heights = [group.bars[0].height for group in chart.groups]
    assert heights.index(max(heights)) == 4
    assert heights == sorted(heights)


def test_it_sums_invoiced_and_collected_per_month():
    customer = CustomerFactory()
    for issued, amount in (
        (date(2026, 6, 1), 10000),
        (date(2026, 1, 31), 5000),
        (date(2025, 6, 30), 999),
    ):
        invoice = make_open(lines=1, unit_amount=amount, customer=customer)
        Invoice.objects.filter(pk=invoice.pk).update(issue_date=issued, due_date=issued)
    Payment.objects.create(
        invoice=invoice,
        amount=3000,
        currency="USD",
        status="succeeded",
        received_on=date(2026, 2, 3),
    )
    Payment.objects.create(
        invoice=invoice, amount=111, currency="USD", status="failed", received_on=date(2026, 2, 3)
    )
    months = monthly(TODAY)["USD"]
    assert [m.start for m in months] == last_months(TODAY)
    assert months[0].start == date(2025, 7, 1)  # June 2025 is 13 months back
    by_month = {m.start: (m.invoiced, m.collected) for m in months}
    assert by_month[date(2026, 6, 1)] == (10000, 0)
    assert by_month[date(2026, 1, 1)] == (5000, 0)
    assert by_month[date(2026, 2, 1)] == (0, 3000)
    assert sum(m.invoiced for m in months) == 15000


def test_last_months_cross_the_year():
    assert last_months(date(2026, 2, 10), 3) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_its_query_count_is_constant_in_rows(staff_client, book):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(URL).status_code == 200
        return len(queries)

    few = count()
    for n in range(20):
        owing(CustomerFactory(), n * 7, 100 + n)
    assert count() == few


def test_it_escapes_customer_names(staff_client):
    owing(CustomerFactory(name="<img src=x onerror=alert(1)>"), 10, 100)
    body = staff_client.get(URL).content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x" in body


def test_the_dashboard_links_to_it(staff_client):
    assert URL in staff_client.get(reverse("invoices:dashboard")).content.decode()


def test_it_refuses_strangers(stranger_client, client):
    assert stranger_client.get(URL).status_code == 403
    assert client.get(URL).status_code == 302
