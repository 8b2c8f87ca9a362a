"""Each input found to give a 500 now gets a form error or a 400, and changes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from invoices.models import Invoice, InvoiceLine, Payment
from tests.factories import make_draft, make_open
from tests.test_staff_editor import form_data

pytestmark = pytest.mark.django_db

HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/", {"page": "²"}),
        ("/", {"customer": "²"}),
        ("/", {"page": HUGE}),
        ("/", {"customer": HUGE}),
        ("/", {"customer": "99999999999999999999"}),
        ("/invoices/export.csv", {"customer": "99999999999999999999"}),
        ("/invoices/export.csv", {"customer": "²"}),
        ("/customers/", {"page": "99999999999999999999"}),
        ("/customers/", {"page": HUGE}),
        ("/live/staff/", {"since": "²"}),
        ("/live/staff/", {"since": HUGE}),
        ("/", {"q": "\x00"}),
        ("/customers/", {"q": "\x00"}),
        ("/customers/pick/", {"customer_q": "\x00", "q": "\x00"}),
        ("/invoices/new/", {"q": "\x00", "customer_q": "\x00"}),
    ],
)
def test_a_hostile_query_parameter_is_not_a_500(staff_client, url, query):
    make_open()
    response = staff_client.get(url, query)
    assert response.status_code in (200, 400)
    if response.status_code == 200 and "text/csv" in response["Content-Type"]:
        b"".join(response.streaming_content)  # the download must not break mid-way


def test_a_page_past_the_end_is_empty_not_an_error(staff_client):
    make_open()
    assert staff_client.get("/", {"page": "99999999999999999999"}).status_code == 200
    assert staff_client.get("/customers/", {"page": HUGE}).status_code == 200


@pytest.mark.parametrize("offset", ["3000000", "-3000000", "99999999999999999999", "²"])
def test_a_reminder_preview_far_away_is_refused(staff_client, offset):
    invoice = make_open()
    response = staff_client.get(f"/invoices/{invoice.pk}/emails/reminder/", {"offset": offset})
    assert response.status_code == 400


AMOUNTS = ["1e999999999", "-1e999999999", "1e-999999999", "NaN", "Infinity", HUGE, "1e9"]


@pytest.mark.parametrize("amount", AMOUNTS)
def test_a_hostile_offline_payment_amount_is_a_form_error(staff_client, amount):
    invoice = make_open()
    response = staff_client.post(
        f"/invoices/{invoice.pk}/payments/new/",
        {"amount": amount, "received_on": "2024-01-01", "method": "bank_transfer"},
    )
    assert response.status_code == 200
    assert "field-error" in response.text or "errorlist" in response.text
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", AMOUNTS)
def test_a_hostile_unit_price_is_a_form_error(staff_client, amount):
    draft = make_draft()
    data = form_data(draft)
    data["line-0-unit_price"] = amount
    response = staff_client.post(f"/invoices/{draft.pk}/edit/", data)
    assert response.status_code == 200
    assert "Not saved" in response.text
    assert list(draft.lines.values_list("unit_amount", flat=True)) == [10000, 10000]


def test_a_tiny_exponent_is_not_silently_zero(staff_client):
    draft = make_draft()
    data = form_data(draft)
    data["line-0-unit_price"] = "1e-999999999"
    response = staff_client.post(f"/invoices/{draft.pk}/edit/", data)
    assert "has more decimals than USD allows" in response.text


@pytest.mark.parametrize("issue_date", ["9999-12-31", "0001-01-01"])
def test_a_far_date_with_net_terms_is_a_form_error(staff_client, issue_date):
    draft = make_draft()
    before = draft.issue_date
    data = form_data(draft, issue_date=issue_date, terms="net_30")
    response = staff_client.post(f"/invoices/{draft.pk}/edit/", data)
    assert response.status_code == 200
    assert "Enter a date between" in response.text
    draft.refresh_from_db()
    assert draft.issue_date == before


def test_a_payment_dated_year_one_is_refused(staff_client):
    invoice = make_open()
    response = staff_client.post(
        f"/invoices/{invoice.pk}/payments/new/",
        {"amount": "1.00", "received_on": "0001-01-01", "method": "bank_transfer"},
    )
    assert "Enter a date between" in response.text
    assert not Payment.objects.exists()
    assert Invoice.objects.get().amount_paid == 0


def test_a_date_inside_the_bounds_is_accepted(staff_client):
    invoice = make_open()
    response = staff_client.post(
        f"/invoices/{invoice.pk}/payments/new/",
        {"amount": "1.00", "received_on": date.today().isoformat(), "method": "bank_transfer"},
    )
    assert response.status_code == 302
    assert Payment.objects.get().amount == 100


# -- the editor's rows (issue item 5) ------------------------------------------------


@pytest.mark.parametrize("count", ["", "abc", "0", "-1", "1e3", "²", "201", HUGE, "3"])
def test_a_tampered_line_count_is_refused_and_saves_nothing(staff_client, count):
    draft = make_draft()
    lines = list(draft.lines.values_list("pk", "description", "unit_amount"))
    data = form_data(draft, memo="changed")
    data["line-count"] = count
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = staff_client.post(
            f"/invoices/{draft.pk}/edit/", {**data, "autosave": "1"}, **headers
        )
        assert response.status_code == 400
        assert "All changes saved" not in response.text
        assert "nothing was saved" in response.content.decode()
    assert list(draft.lines.values_list("pk", "description", "unit_amount")) == lines
    draft.refresh_from_db()
    assert draft.memo != "changed"


def test_an_empty_editor_with_no_rows_still_saves(staff_client):
    draft = make_draft(lines=0)
    data = form_data(draft, memo="hello")
    assert data["line-count"] == 0
    response = staff_client.post(f"/invoices/{draft.pk}/edit/", data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.memo == "hello"


@pytest.mark.parametrize("line_id", ["abc", "99999999999999999999", "-5", "other"])
def test_a_bad_hidden_line_id_says_why_nothing_was_saved(staff_client, line_id):
    draft = make_draft()
    other = make_draft(lines=1)
    data = form_data(draft, memo="changed")
    data["line-1-id"] = str(other.lines.get().pk) if line_id == "other" else line_id
    response = staff_client.post(
        f"/invoices/{draft.pk}/edit/", {**data, "autosave": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Line 2 no longer matches a saved line: reload the page" in response.text
    draft.refresh_from_db()
    assert draft.memo != "changed"
    assert InvoiceLine.objects.filter(invoice=other).count() == 1
