from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from invoices.models import Invoice, InvoiceLine
from tests.factories import CustomerFactory, make_draft, make_open

HTMX = {"HTTP_HX_REQUEST": "true"}


def form_data(invoice: Invoice, rows: list[dict] | None = None, **header) -> dict:
    """What the editor posts: the header fields and every row."""
    if rows is None:
        rows = [
            {
                "id": line.pk,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": Decimal(line.unit_amount) / 100,
                "tax_rate": line.tax_rate,
            }
            for line in invoice.lines.all()
        ]
    data = {
        "currency": invoice.currency,
        "issue_date": invoice.issue_date.isoformat(),
        "terms": invoice.terms,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else "",
        "discount_kind": invoice.discount_kind,
        "discount_value": "",
        "memo": invoice.memo,
        "footer": invoice.footer,
        "line-count": len(rows),
        **header,
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"line-{i}-{key}"] = "" if value is None else str(value)
    return data


def snapshot(invoice: Invoice) -> tuple:
    invoice.refresh_from_db()
    lines = list(invoice.lines.values_list("description", "quantity", "unit_amount", "position"))
    return (invoice.total, invoice.due_date, invoice.memo, invoice.currency, lines)


@pytest.fixture
def draft(db) -> Invoice:
    return make_draft(lines=2, unit_amount=10000)


def test_it_creates_a_draft_for_a_customer(staff_client, db):
    customer = CustomerFactory()
    response = staff_client.post(
        reverse("invoices:new"), {"customer": customer.pk, "currency": "EUR"}
    )
    invoice = Invoice.objects.get()
    assert response["Location"] == reverse("invoices:edit", args=[invoice.pk])
    assert (invoice.customer, invoice.currency, invoice.status) == (customer, "EUR", "draft")
    assert invoice.due_date is not None
    assert invoice.activities.filter(kind="created").exists()


def test_it_refuses_an_archived_customer(staff_client, db):
    customer = CustomerFactory()
    customer.archive()
    response = staff_client.post(
        reverse("invoices:new"), {"customer": customer.pk, "currency": "USD"}
    )
    assert "Choose an active customer" in response.text
    assert not Invoice.objects.exists()


def test_it_renders_the_editor(staff_client, draft):
    response = staff_client.get(reverse("invoices:edit", args=[draft.pk]))
    assert response.status_code == 200
    assert 'name="line-0-description"' in response.text
    assert "$200.00" in response.text


def test_it_autosaves_and_returns_only_the_computed_parts(staff_client, draft):
    data = form_data(draft, memo="Thanks!", autosave="1")
    data["line-0-quantity"] = "3"
    data["line-1-tax_rate"] = "20"
    response = staff_client.post(reverse("invoices:edit", args=[draft.pk]), data, **HTMX)
    assert response.status_code == 200
    assert 'hx-swap-oob="true"' in response.text
    assert 'name="line-0-description"' not in response.text  # the inputs stay as typed
    assert "$300.00" in response.text  # line 0
    assert "$420.00" in response.text  # 300 + 100 + 20 tax
    draft.refresh_from_db()
    assert (draft.total, draft.tax, draft.memo) == (42000, 2000, "Thanks!")


def test_it_adds_a_line(staff_client, draft):
    url = reverse("invoices:add_line", args=[draft.pk])
    response = staff_client.post(url, form_data(draft), **HTMX)
    assert 'id="invoice-editor"' in response.text
    assert 'name="line-2-description"' in response.text
    assert 'name="line-count" value="3"' in response.text
    # An empty new row is neither saved nor an error until someone types into it.
    assert draft.lines.count() == 2
    assert "All changes saved" in response.text
    data = form_data(draft)
    data.update(
        {
            "line-count": 3,
            "line-2-description": "Hosting",
            "line-2-quantity": "2",
            "line-2-unit_price": "12.50",
            "line-2-tax_rate": "0",
        }
    )
    response = staff_client.post(
        reverse("invoices:edit", args=[draft.pk]), {**data, "autosave": "1"}, **HTMX
    )
    assert "$225.00" in response.text
    new_line = draft.lines.get(description="Hosting")
    assert (new_line.unit_amount, new_line.position, new_line.amount) == (1250, 2, 2500)
    # The new row learns its id, so saving again does not add it twice.
    assert f'value="{new_line.pk}"' in response.text
    data["line-2-id"] = new_line.pk
    staff_client.post(reverse("invoices:edit", args=[draft.pk]), data, **HTMX)
    assert draft.lines.count() == 3


def test_it_removes_a_line(staff_client, draft):
    _first, second = draft.lines.all()
    url = reverse("invoices:remove_line", args=[draft.pk, 0])
    response = staff_client.post(url, form_data(draft), **HTMX)
    assert list(draft.lines.all()) == [second]
    draft.refresh_from_db()
    assert draft.total == 10000
    assert 'name="line-count" value="1"' in response.text
    assert "$100.00" in response.text


def test_it_moves_a_line(staff_client, draft):
    first, second = draft.lines.all()
    url = reverse("invoices:move_line", args=[draft.pk, 1, "up"])
    response = staff_client.post(url, form_data(draft), **HTMX)
    assert list(draft.lines.all()) == [second, first]
    text = response.text
    assert text.index(second.description) < text.index(first.description)


def test_it_applies_terms_and_a_discount(staff_client, draft):
    data = form_data(draft, terms="net_15", discount_kind="percent", discount_value="10")
    response = staff_client.post(
        reverse("invoices:edit", args=[draft.pk]), {**data, "autosave": "1"}, **HTMX
    )
    draft.refresh_from_db()
    assert draft.due_date == draft.issue_date + timedelta(days=15)
    assert (draft.discount, draft.total) == (2000, 18000)
    assert draft.due_date.isoformat() in response.text
    data = form_data(draft, discount_kind="amount", discount_value="12.34")
    staff_client.post(reverse("invoices:edit", args=[draft.pk]), data, **HTMX)
    draft.refresh_from_db()
    assert (draft.discount, draft.total) == (1234, 18766)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("line-0-quantity", "0", "The quantity must be above zero."),
        ("line-0-quantity", "abc", "Enter a number."),
        ("line-0-unit_price", "-1", "The amount cannot be negative."),
        ("line-0-unit_price", "1.234", "has more decimals than USD allows"),
        ("line-0-unit_price", "1000000", "The largest amount is $999,999.99."),
        ("line-1-tax_rate", "101", "The tax rate is between 0 and 100."),
        ("line-1-description", "", "Describe the item."),
        ("discount_value", "150", "A percentage is between 0 and 100."),
    ],
)
def test_it_shows_errors_and_saves_nothing(staff_client, draft, field, value, error):
    before = snapshot(draft)
    data = form_data(draft, memo="changed", discount_kind="percent", discount_value="5")
    data["line-0-description"] = "Changed too"
    data[field] = value
    for extra in ({"autosave": "1"}, {}):
        response = staff_client.post(
            reverse("invoices:edit", args=[draft.pk]), {**data, **extra}, **HTMX
        )
        assert response.status_code == 200
        assert error in response.text
        assert "Not saved" in response.text
        assert snapshot(draft) == before


def test_it_refuses_a_due_date_before_the_issue_date(staff_client, draft):
    before = snapshot(draft)
    data = form_data(draft, terms="custom", due_date="2000-01-01")
    response = staff_client.post(reverse("invoices:edit", args=[draft.pk]), data)
    assert "The due date cannot be before the issue date." in response.text
    assert snapshot(draft) == before


def test_it_refuses_to_switch_to_a_currency_the_prices_do_not_fit(staff_client, draft):
    before = snapshot(draft)
    data = form_data(draft, currency="JPY")
    data["line-0-unit_price"] = "10.50"
    response = staff_client.post(reverse("invoices:edit", args=[draft.pk]), data)
    assert "has more decimals than JPY allows" in response.text
    assert snapshot(draft) == before


def test_it_saves_without_javascript_and_redirects(staff_client, draft):
    data = form_data(draft, memo="No JS")
    response = staff_client.post(reverse("invoices:edit", args=[draft.pk]), data)
    assert response["Location"] == reverse("invoices:edit", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.memo == "No JS"


def test_it_ignores_line_ids_of_other_invoices(staff_client, draft):
    other = make_draft(lines=1)
    foreign = other.lines.get()
    data = form_data(draft)
    data["line-0-id"] = foreign.pk
    staff_client.post(reverse("invoices:edit", args=[draft.pk]), data)
    foreign.refresh_from_db()
    assert foreign.invoice == other
    assert draft.lines.count() == 2


@pytest.mark.parametrize("name", ["edit", "add_line"])
def test_it_refuses_to_edit_a_finalized_invoice(staff_client, db, name):
    invoice = make_open()
    before = snapshot(invoice)
    data = form_data(invoice, memo="sneaky")
    response = staff_client.post(reverse(f"invoices:{name}", args=[invoice.pk]), data, **HTMX)
    assert response.status_code == 409
    assert response["HX-Redirect"] == invoice.get_absolute_url()
    assert snapshot(invoice) == before
    for url in (
        reverse("invoices:remove_line", args=[invoice.pk, 0]),
        reverse("invoices:move_line", args=[invoice.pk, 0, "down"]),
        reverse("invoices:edit", args=[invoice.pk]),
    ):
        response = staff_client.post(url, data)
        assert response.status_code == 409
        assert "can no longer be edited" in response.text
    assert snapshot(invoice) == before
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 2
