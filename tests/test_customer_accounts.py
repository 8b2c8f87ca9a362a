"""The customer list with what each customer owes: figures, sort, CSV, constant queries."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from invoices.models import Invoice
from tests.factories import CustomerFactory, make_draft, make_open

pytestmark = pytest.mark.django_db

# Paths: reverse() at import time would load the URLconf before the test settings.
URL = "/customers/"
CSV_URL = "/customers/export.csv"


def owing(customer, amount: int, *, days_late: int = -10, currency: str = "USD", issued=None):
    invoice = make_open(lines=1, unit_amount=amount, customer=customer, currency=currency)
    today = timezone.localdate()
    due = today - timedelta(days=days_late)
    issue = issued or min(due, today)
    Invoice.objects.filter(pk=invoice.pk).update(issue_date=issue, due_date=max(due, issue))
    return invoice


@pytest.fixture
def book():
    ann = CustomerFactory(name="Ann", company="=cmd|'/c calc'!A0")
    ben = CustomerFactory(name="Ben")
    cat = CustomerFactory(name="Cat")  # never invoiced
    owing(ann, 1000, issued=date(2026, 1, 5))
    owing(ann, 2000, days_late=20, issued=date(2025, 12, 1))
    owing(ann, 700, currency="EUR", issued=date(2025, 11, 1))
    owing(ben, 50000, days_late=3, issued=date(2026, 2, 1))
    make_draft(customer=ben)  # drafts are not invoices yet
    return ann, ben, cat


def names(response) -> list[str]:
    return [c.name for c in response.context["customers"]]


def test_it_shows_what_each_customer_owes(staff_client, book):
    response = staff_client.get(URL)
    rows = {c.name: c for c in response.context["customers"]}
    assert rows["Ann"].invoice_count == 3
    assert rows["Ann"].last_invoice == date(2026, 1, 5)
    assert [(o.currency, o.outstanding, o.overdue) for o in rows["Ann"].owed] == [
        ("EUR", 700, 0),
        ("USD", 3000, 2000),
    ]
    assert rows["Ben"].invoice_count == 1
    assert [(o.outstanding, o.overdue) for o in rows["Ben"].owed] == [(50000, 50000)]
    assert rows["Cat"].invoice_count == 0
    assert rows["Cat"].owed == []
    body = response.content.decode()
    assert "$500.00" in body
    assert "€7.00" in body


def test_it_sorts_by_each_figure(staff_client, book):
    assert names(staff_client.get(URL)) == ["Ann", "Ben", "Cat"]
    assert names(staff_client.get(URL, {"sort": "-name"})) == ["Cat", "Ben", "Ann"]
    assert names(staff_client.get(URL, {"sort": "-outstanding"})) == ["Ben", "Ann", "Cat"]
    assert names(staff_client.get(URL, {"sort": "overdue"})) == ["Cat", "Ann", "Ben"]
    assert names(staff_client.get(URL, {"sort": "-invoices"})) == ["Ann", "Ben", "Cat"]
    # Never invoiced goes last both ways.
    assert names(staff_client.get(URL, {"sort": "last_invoice"})) == ["Ann", "Ben", "Cat"]
    assert names(staff_client.get(URL, {"sort": "-last_invoice"})) == ["Ben", "Ann", "Cat"]
    assert names(staff_client.get(URL, {"sort": "bogus'"})) == ["Ann", "Ben", "Cat"]


def test_the_sorted_header_says_so(staff_client, book):
    body = staff_client.get(URL, {"sort": "-outstanding"}).content.decode()
    assert 'aria-sort="descending"' in body
    assert "Outstanding ▼" in body


def test_it_exports_one_row_per_customer_and_currency(staff_client, book):
    response = staff_client.get(CSV_URL, {"sort": "name"})
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["name"], r["currency"], r["outstanding"], r["overdue"]) for r in rows] == [
        ("Ann", "EUR", "7.00", "0.00"),
        ("Ann", "USD", "30.00", "20.00"),
        ("Ben", "USD", "500.00", "500.00"),
        ("Cat", "", "0", "0"),
    ]
    assert rows[0]["company"] == "'=cmd|'/c calc'!A0"  # never a formula
    assert rows[0]["invoice_count"] == "3"
    assert rows[0]["last_invoice_date"] == "2026-01-05"


def test_the_export_follows_the_search(staff_client, book):
    body = b"".join(staff_client.get(CSV_URL, {"q": "Ben"}).streaming_content).decode()
    assert [r["name"] for r in csv.DictReader(io.StringIO(body))] == ["Ben"]


def test_its_query_count_is_constant_in_rows(staff_client, book):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(URL, {"sort": "-outstanding"}).status_code == 200
        return len(queries)

    few = count()
    for _ in range(15):
        owing(CustomerFactory(), 100)
        owing(CustomerFactory(), 100, currency="EUR")
    assert count() == few


def test_it_refuses_strangers(stranger_client, client):
    for url in (URL, CSV_URL):
        assert stranger_client.get(url).status_code == 403
        assert client.get(url).status_code == 302


def test_it_sorts_by_outstanding_within_a_chosen_currency(staff_client, book):
    dee = CustomerFactory(name="Dee")
    owing(dee, 900, currency="EUR")
    # In dollars (the default), Dee owes nothing; in euros she owes the most.
    # (Equal amounts follow the name, descending too.)
    assert names(staff_client.get(URL, {"sort": "-outstanding"})) == ["Ben", "Ann", "Dee", "Cat"]
    response = staff_client.get(URL, {"sort": "-outstanding", "currency": "eur"})
    assert names(response) == ["Dee", "Ann", "Cat", "Ben"]
    rows = {c.name: c for c in response.context["customers"]}
    assert [(o.currency, o.outstanding) for o in rows["Ann"].owed] == [("EUR", 700)]
    assert rows["Ben"].owed == []  # only euros are shown when euros are chosen
    body = response.content.decode()
    assert "in EUR" in body
    assert "$500.00" not in body
    assert "currency=EUR" in response.context["sort_links"]["overdue"]
    default = staff_client.get(URL, {"sort": "-outstanding"}).content.decode()
    assert "sorted by USD" in default


def test_an_unknown_currency_shows_every_currency(staff_client, book):
    for bogus in ("XXX", "usd'", "€", "E" * 500):
        response = staff_client.get(URL, {"sort": "-outstanding", "currency": bogus})
        assert response.status_code == 200
        assert response.context["currency"] == ""
        assert names(response) == ["Ben", "Ann", "Cat"]


def test_the_export_follows_the_currency(staff_client, book):
    body = b"".join(
        staff_client.get(CSV_URL, {"currency": "EUR", "sort": "-outstanding"}).streaming_content
    ).decode()
    rows = [(r["name"], r["currency"], r["outstanding"]) for r in csv.DictReader(io.StringIO(body))]
    assert rows == [("Ann", "EUR", "7.00"), ("Cat", "", "0"), ("Ben", "", "0")]
    page = staff_client.get(URL, {"currency": "EUR", "sort": "-outstanding"}).content.decode()
    assert "export.csv?sort=-outstanding&amp;currency=EUR" in page


def test_its_query_count_is_constant_in_rows_within_a_currency(staff_client, book):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(URL, {"sort": "-outstanding", "currency": "EUR"})
            assert response.status_code == 200
        return len(queries)

    few = count()
    for _ in range(15):
        owing(CustomerFactory(), 100, currency="EUR")
        owing(CustomerFactory(), 100)
    assert count() == few
