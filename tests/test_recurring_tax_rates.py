"""Recurring templates and named tax rates: a template's line picks a rate as the editor's
does, "Make recurring" keeps it, and each run bills the rate as it is on the day of the run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices.models import InvoiceLine, RecurringRun, RecurringTemplate, TaxRate
from invoices.recurring import run_recurring
from invoices.services import finalize_invoice
from tests.factories import CustomerFactory, make_draft
from tests.test_recurring_pages import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def vat(db) -> TaxRate:
    return TaxRate.objects.create(name="VAT 20%", percent=Decimal(20))


def create(staff_client, customer, **overrides) -> RecurringTemplate:
    response = staff_client.post(
        reverse("invoices:recurring_new"), form_data(customer, **overrides)
    )
    assert response.status_code == 302, response.text
    return RecurringTemplate.objects.get()


def billed_line(template: RecurringTemplate, day: date) -> InvoiceLine:
    run_recurring(today=day)
    run = RecurringRun.objects.get(template=template, period=day)
    return run.invoice.lines.get()


def test_the_form_offers_the_named_rates(staff_client, vat):
    TaxRate.objects.create(name="Old rate", percent=Decimal(5)).archive()
    response = staff_client.get(reverse("invoices:recurring_new"))
    assert f'<option value="{vat.pk}">VAT 20%</option>' in response.text
    assert "Old rate" not in response.text  # archived: not offered to new lines


def test_a_line_keeps_the_named_rate_it_picks(staff_client, vat):
    template = create(
        staff_client,
        CustomerFactory(),
        **{"line-0-named_tax": str(vat.pk), "line-0-tax_rate": "3"},  # the name decides
    )
    [line] = template.lines.all()
    assert (line.named_tax, line.tax_name, line.tax_rate) == (vat, "VAT 20%", Decimal(20))


def test_each_run_bills_the_rate_as_it_is_that_day(staff_client, vat):
    template = create(staff_client, CustomerFactory(), **{"line-0-named_tax": str(vat.pk)})
    first = billed_line(template, date(2026, 1, 1))
    assert (first.tax_name, first.tax_rate, first.named_tax) == ("VAT 20%", Decimal(20), vat)
    assert first.invoice.tax == 10000  # 20% of 500.00
    # The government raised VAT: staff edit the rate once; February follows, January stays.
    TaxRate.objects.filter(pk=vat.pk).update(name="VAT 21%", percent=Decimal(21))
    second = billed_line(template, date(2026, 2, 1))
    assert (second.tax_name, second.tax_rate) == ("VAT 21%", Decimal(21))
    assert second.invoice.tax == 10500
    first.refresh_from_db()
    assert (first.tax_name, first.tax_rate) == ("VAT 20%", Decimal(20))
    # Archived: no longer offered, still billed on the templates that chose it.
    TaxRate.objects.get(pk=vat.pk).archive()
    third = billed_line(template, date(2026, 3, 1))
    assert (third.tax_name, third.tax_rate) == ("VAT 21%", Decimal(21))


def test_a_typed_rate_is_billed_as_typed(staff_client, vat):
    template = create(staff_client, CustomerFactory(), **{"line-0-tax_rate": "7.25"})
    line = billed_line(template, date(2026, 1, 1))
    assert (line.tax_name, line.tax_rate, line.named_tax) == ("", Decimal("7.25"), None)


def test_make_recurring_keeps_a_lines_named_rate_even_archived(staff_client, vat):
    draft = make_draft(lines=1)
    draft.lines.update(named_tax=vat, tax_name=vat.name, tax_rate=vat.percent)
    invoice = finalize_invoice(invoice=draft)
    vat.archive()
    url = reverse("invoices:make_recurring", args=[invoice.pk])
    page = staff_client.get(url)
    assert f'<option value="{vat.pk}" selected>VAT 20%</option>' in page.text
    line = invoice.lines.get()
    staff_client.post(
        url,
        form_data(
            invoice.customer,
            **{"line-0-description": line.description, "line-0-named_tax": str(vat.pk)},
        ),
    )
    [kept] = RecurringTemplate.objects.get().lines.all()
    assert (kept.named_tax, kept.tax_name) == (vat, "VAT 20%")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(choice=st.text(max_size=30))
def test_it_refuses_a_rate_not_offered_without_a_500(staff_client, vat, choice):
    if choice in ("", str(vat.pk), "custom"):
        return
    RecurringTemplate.objects.all().delete()
    data = form_data(CustomerFactory(), **{"line-0-named_tax": choice})
    response = staff_client.post(reverse("invoices:recurring_new"), data)
    if "\x00" in choice:
        assert response.status_code == 400  # refused at the door, as everywhere
    else:
        assert response.status_code == 200
        assert "Choose a tax rate from the list." in response.text
    assert not RecurringTemplate.objects.exists()
