from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from invoices.models import RecurringTemplate
from invoices.recurring import run_recurring
from tests.factories import CustomerFactory, make_open

pytestmark = pytest.mark.django_db


def form_data(customer, **overrides) -> dict:
    data = {
        "customer": customer.pk,
        "currency": "USD",
        "terms": "net_30",
        "frequency": "monthly",
        "interval": "1",
        "day_of_month": "1",
        "start_date": "2026-01-01",
        "catch_up": "every",
        "form_token": "tok-1",
        "line-0-description": "Retainer",
        "line-0-quantity": "1",
        "line-0-unit_price": "500.00",
        "line-0-tax_rate": "",
    }
    data.update(overrides)
    return data


def test_it_creates_a_template_from_scratch(staff_client):
    customer = CustomerFactory()
    response = staff_client.post(
        reverse("invoices:recurring_new"), form_data(customer), follow=True
    )
    template = RecurringTemplate.objects.get()
    assert template.customer == customer
    assert template.catch_up == "every"
    [line] = template.lines.all()
    assert (line.description, line.unit_amount) == ("Retainer", 50000)
    assert f"{template} created" in response.text


def test_it_creates_once_when_the_form_is_posted_twice(staff_client):
    customer = CustomerFactory()
    url = reverse("invoices:recurring_new")
    staff_client.post(url, form_data(customer))
    response = staff_client.post(url, form_data(customer))
    assert response.status_code == 302
    assert RecurringTemplate.objects.count() == 1


def test_it_refuses_a_template_without_lines_and_creates_nothing(staff_client):
    data = form_data(CustomerFactory(), **{"line-0-description": "", "line-0-unit_price": ""})
    response = staff_client.post(reverse("invoices:recurring_new"), data)
    assert response.status_code == 200
    assert "Add at least one complete line." in response.text
    assert not RecurringTemplate.objects.exists()


def test_it_refuses_an_end_before_the_start(staff_client):
    data = form_data(CustomerFactory(), end_on="2025-12-01")
    response = staff_client.post(reverse("invoices:recurring_new"), data)
    assert "The end date cannot be before the start date." in response.text
    assert not RecurringTemplate.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("interval", "0"),
        ("day_of_month", "32"),
        ("start_date", "0001-01-01"),
        ("frequency", "hourly"),
    ],
)
def test_it_refuses_bad_schedules(staff_client, field, value):
    data = form_data(CustomerFactory(), **{field: value})
    response = staff_client.post(reverse("invoices:recurring_new"), data)
    assert response.status_code == 200
    assert not RecurringTemplate.objects.exists()


def test_make_recurring_starts_from_the_invoice(staff_client):
    invoice = make_open()
    response = staff_client.get(reverse("invoices:make_recurring", args=[invoice.pk]))
    line = invoice.lines.first()
    assert f">\n{line.description}</textarea>" in response.text  # a multi-line field
    assert f"From {invoice}" in response.text
    # A month after the invoice: starting on its date would bill that month twice.
    next_month = date(
        invoice.issue_date.year + invoice.issue_date.month // 12,
        invoice.issue_date.month % 12 + 1,
        1,
    )
    assert f'value="{next_month:%Y-%m}-' in response.text
    data = form_data(invoice.customer, **{"line-0-description": line.description})
    staff_client.post(reverse("invoices:make_recurring", args=[invoice.pk]), data)
    assert RecurringTemplate.objects.get().source_invoice == invoice


def test_it_escapes_hostile_text(staff_client):
    customer = CustomerFactory(name="<script>alert(1)</script>")
    hostile = '<img src=x onerror="alert(2)">'
    staff_client.post(
        reverse("invoices:recurring_new"), form_data(customer, **{"line-0-description": hostile})
    )
    response = staff_client.get(reverse("invoices:recurring_list"))
    assert "<script>alert(1)" not in response.text
    assert "<img src=x" not in response.text
    assert "&lt;img src=x" in response.text


def test_it_pauses_and_resumes(staff_client):
    customer = CustomerFactory()
    staff_client.post(reverse("invoices:recurring_new"), form_data(customer))
    template = RecurringTemplate.objects.get()
    staff_client.post(reverse("invoices:recurring_pause", args=[template.pk]), {"form_token": "p"})
    template.refresh_from_db()
    assert template.paused
    response = staff_client.get(reverse("invoices:recurring_list"))
    assert "Resume" in response.text
    staff_client.post(reverse("invoices:recurring_resume", args=[template.pk]), {"form_token": "r"})
    template.refresh_from_db()
    assert not template.paused


def test_the_list_shows_the_next_period(staff_client):
    staff_client.post(
        reverse("invoices:recurring_new"), form_data(CustomerFactory(), start_date="2099-03-01")
    )
    response = staff_client.get(reverse("invoices:recurring_list"))
    assert "Mar 1, 2099" in response.text


@pytest.mark.parametrize(
    ("name", "args", "method"),
    [
        ("recurring_list", [], "get"),
        ("recurring_new", [], "get"),
        ("recurring_new", [], "post"),
        ("recurring_pause", [1], "post"),
        ("recurring_resume", [1], "post"),
    ],
)
def test_a_stranger_is_refused(stranger_client, client, name, args, method):
    template = RecurringTemplate.objects.create(
        customer=CustomerFactory(), start_date=date(2026, 1, 1)
    )
    args = [template.pk] if args else []
    url = reverse(f"invoices:{name}", args=args)
    response = getattr(stranger_client, method)(
        url, form_data(template.customer) if method == "post" else None
    )
    assert response.status_code == 403
    assert getattr(client, method)(url).status_code == 302
    template.refresh_from_db()
    assert not template.paused
    assert RecurringTemplate.objects.count() == 1


def test_the_list_takes_the_same_queries_for_one_template_or_many(
    staff_client, django_assert_max_num_queries
):
    for n in range(8):
        staff_client.post(
            reverse("invoices:recurring_new"),
            form_data(CustomerFactory(), form_token=f"t{n}", start_date="2026-01-01"),
        )
    run_recurring(today=date(2026, 3, 1))
    with django_assert_max_num_queries(8):
        response = staff_client.get(reverse("invoices:recurring_list"))
    assert response.text.count('id="recurring-') == 8
