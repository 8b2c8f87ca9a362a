"""The item catalog and named tax rates: staff manage them, the editor offers them."""

from __future__ import annotations

import io
import unicodedata
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices.catalog_forms import CatalogItemForm, TaxRateForm
from invoices.models import CatalogItem, Invoice, InvoiceLine, TaxRate
from portal.money import MAX_AMOUNT
from tests.factories import make_draft, make_open
from tests.test_fuzz_inputs import HOSTILE
from tests.test_staff_editor import HTMX, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def vat(db) -> TaxRate:
    return TaxRate.objects.create(name="VAT 20%", percent=Decimal(20))


@pytest.fixture
def ca_tax(db) -> TaxRate:
    return TaxRate.objects.create(name="Sales tax CA 7.25%", percent=Decimal("7.25"))


@pytest.fixture
def design(db, ca_tax) -> CatalogItem:
    return CatalogItem.objects.create(
        name="Design hour",
        description="Senior designer\nbilled per hour",
        unit_amount=1999,
        currency="USD",
        tax_rate=ca_tax,
    )


def pick(client, invoice: Invoice, index: int, item: CatalogItem, **header):
    url = reverse("invoices:pick_item", args=[invoice.pk, index])
    return client.post(url, {**form_data(invoice, **header), "item": item.pk}, **HTMX)


# -- the staff pages ----------------------------------------------------------------


def test_it_lists_items_and_rates(staff_client, design, vat):
    body = staff_client.get(reverse("invoices:catalog")).content.decode()
    assert "Design hour" in body
    assert "Senior designer<br>billed per hour" in body
    assert "$19.99" in body
    assert "Sales tax CA 7.25%" in body
    assert "VAT 20%" in body


def test_it_adds_a_tax_rate(staff_client):
    response = staff_client.post(
        reverse("invoices:tax_rate_new"), {"name": " Sales tax NYC ", "percent": "8.875"}
    )
    assert response.status_code == 302
    rate = TaxRate.objects.get()
    assert (rate.name, rate.percent) == ("Sales tax NYC", Decimal("8.875"))


@pytest.mark.parametrize(
    ("percent", "error"),
    [
        ("8.8755", "no more than 3 decimal places"),
        ("100.001", "between 0 and 100"),
        ("-1", "between 0 and 100"),
        ("NaN", "Enter a number."),
        ("1e3", "between 0 and 100"),
        ("²", "Enter a number."),
    ],
)
def test_it_refuses_a_rate_out_of_bounds(staff_client, percent, error):
    response = staff_client.post(
        reverse("invoices:tax_rate_new"), {"name": "Odd", "percent": percent}
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not TaxRate.objects.exists()


def test_it_refuses_two_active_rates_of_one_name(staff_client, vat):
    response = staff_client.post(
        reverse("invoices:tax_rate_new"), {"name": "VAT 20%", "percent": "20"}
    )
    assert "Another active rate already has that name." in response.content.decode()
    assert TaxRate.objects.count() == 1


def test_it_adds_an_item_in_minor_units(staff_client, vat):
    response = staff_client.post(
        reverse("invoices:catalog_item_new"),
        {
            "name": "Consulting day",
            "description": "On site\r\nTravel included",
            "currency": "JPY",
            "unit_price": "120,000",
            "tax_rate": vat.pk,
        },
    )
    assert response.status_code == 302
    item = CatalogItem.objects.get()
    assert (item.unit_amount, item.currency, item.tax_rate) == (120000, "JPY", vat)
    assert item.description == "On site\nTravel included"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("unit_price", "12.345", "decimals"),
        ("unit_price", "1e999999999", "The largest amount is"),
        ("name", "Tab\tname", "Use one line of plain text"),
        ("description", "x" * 371, "at most 370 characters"),
    ],
)
def test_it_refuses_a_bad_item(staff_client, field, value, error):
    data = {"name": "Item", "description": "", "currency": "USD", "unit_price": "1.00"}
    response = staff_client.post(reverse("invoices:catalog_item_new"), {**data, field: value})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not CatalogItem.objects.exists()


def test_it_edits_an_item(staff_client, design):
    url = reverse("invoices:catalog_item", args=[design.pk])
    assert 'value="19.99"' in staff_client.get(url).content.decode()
    staff_client.post(
        url, {"name": "Design hour", "description": "", "currency": "USD", "unit_price": "25"}
    )
    design.refresh_from_db()
    assert (design.unit_amount, design.tax_rate) == (2500, None)


def test_it_archives_and_restores(staff_client, design, vat):
    staff_client.post(reverse("invoices:catalog_item_archive", args=[design.pk]))
    staff_client.post(reverse("invoices:tax_rate_archive", args=[vat.pk]))
    design.refresh_from_db()
    vat.refresh_from_db()
    assert design.is_archived
    assert vat.is_archived
    staff_client.get(reverse("invoices:catalog"))  # shows (and so clears) the messages
    listed = staff_client.get(reverse("invoices:catalog")).content.decode()
    assert "Design hour" not in listed
    assert "VAT 20%" not in listed
    assert (
        "Design hour"
        in staff_client.get(reverse("invoices:catalog") + "?archived=1").content.decode()
    )
    staff_client.post(reverse("invoices:catalog_item_archive", args=[design.pk]))
    design.refresh_from_db()
    assert not design.is_archived


def test_it_keeps_an_archived_rate_from_taking_a_name_back(staff_client, vat):
    vat.archive()
    TaxRate.objects.create(name="VAT 20%", percent=Decimal(20))
    staff_client.post(reverse("invoices:tax_rate_archive", args=[vat.pk]))
    vat.refresh_from_db()
    assert vat.is_archived


@pytest.mark.parametrize(
    "name",
    ["catalog", "catalog_item_new", "tax_rate_new"],
)
def test_it_refuses_strangers(client, stranger_client, name):
    for visitor in (client, stranger_client):
        response = visitor.get(reverse(f"invoices:{name}"))
        assert response.status_code in (302, 403)


def test_it_refuses_a_stranger_archiving(stranger_client, design):
    stranger_client.post(reverse("invoices:catalog_item_archive", args=[design.pk]))
    design.refresh_from_db()
    assert not design.is_archived


# -- the editor offers them ----------------------------------------------------------


def test_it_suggests_matching_items_in_the_drafts_currency(staff_client, design):
    CatalogItem.objects.create(name="Design day EUR", unit_amount=1, currency="EUR")
    CatalogItem.objects.create(name="Design old", unit_amount=1, currency="USD").archive()
    CatalogItem.objects.create(name="Hosting", unit_amount=1, currency="USD")
    draft = make_draft(lines=1)
    url = reverse("invoices:catalog_suggestions", args=[draft.pk, 0])
    body = staff_client.get(url, {"line-0-description": "desi", "currency": "USD"}).content
    body = body.decode()
    assert "Design hour" in body
    assert "$19.99" in body
    assert "Sales tax CA 7.25%" in body
    for absent in ("Design day EUR", "Design old", "Hosting"):
        assert absent not in body
    assert f'hx-post="{reverse("invoices:pick_item", args=[draft.pk, 0])}"' in body
    assert 'name="item"' in body


@pytest.mark.parametrize(
    ("typed", "currency"),
    [("", "USD"), ("   ", "USD"), ("\u202e", "USD"), ("zzz", "USD"), ("Design", "XXX")],
)
def test_it_suggests_nothing_for_nothing(staff_client, design, typed, currency):
    draft = make_draft(lines=1)
    url = reverse("invoices:catalog_suggestions", args=[draft.pk, 0])
    response = staff_client.get(url, {"line-0-description": typed, "currency": currency})
    assert response.status_code == 200
    assert b"Design hour" not in response.content


def test_it_suggests_nothing_on_a_finalized_invoice(staff_client, design):
    invoice = make_open(lines=1)
    url = reverse("invoices:catalog_suggestions", args=[invoice.pk, 0])
    response = staff_client.get(url, {"line-0-description": "Design", "currency": "USD"})
    assert b"Design hour" not in response.content


def test_it_fills_a_line_from_a_picked_item(staff_client, design):
    draft = make_draft(lines=1, unit_amount=1000)
    rows = [{"id": "", "description": "des", "quantity": "3", "unit_price": "", "tax_rate": ""}]
    response = staff_client.post(
        reverse("invoices:pick_item", args=[draft.pk, 0]),
        {**form_data(draft, rows), "item": design.pk},
        **HTMX,
    )
    assert b"All changes saved." in response.content
    [line] = InvoiceLine.objects.filter(invoice=draft)
    assert line.description == "Design hour\nSenior designer\nbilled per hour"
    assert (line.quantity, line.unit_amount) == (Decimal(3), 1999)
    assert (line.tax_name, line.tax_rate, line.named_tax) == (
        "Sales tax CA 7.25%",
        Decimal("7.25"),
        design.tax_rate,
    )
    draft.refresh_from_db()
    # 3 x 19.99 = 59.97; tax 59.97 x 7.25% = 4.347825, rounded half up to 4.35.
    assert (draft.subtotal, draft.tax, draft.total) == (5997, 435, 6432)


def test_it_refuses_an_item_in_another_currency(staff_client, design):
    draft = make_draft(lines=1, currency="EUR")
    before = list(draft.lines.values_list("description", "unit_amount"))
    response = pick(staff_client, draft, 0, design)
    assert response.status_code == 400
    assert "priced in USD" in response.content.decode()
    assert list(draft.lines.values_list("description", "unit_amount")) == before


def test_it_refuses_an_archived_item(staff_client, design):
    design.archive()
    draft = make_draft(lines=1)
    response = pick(staff_client, draft, 0, design)
    assert response.status_code == 400
    assert draft.lines.get().unit_amount != design.unit_amount


def test_a_named_rate_decides_the_percentage(staff_client, vat):
    draft = make_draft(lines=0)
    rows = [
        {
            "description": "A",
            "quantity": 1,
            "unit_price": "10.00",
            "tax_rate": "3",
            "named_tax": vat.pk,
        }
    ]
    staff_client.post(reverse("invoices:edit", args=[draft.pk]), form_data(draft, rows), **HTMX)
    line = draft.lines.get()
    assert (line.tax_rate, line.tax_name) == (Decimal(20), "VAT 20%")
    draft.refresh_from_db()
    assert draft.tax == 200
    page = staff_client.get(reverse("invoices:edit", args=[draft.pk])).content.decode()
    assert f'<option value="{vat.pk}" data-percent="20" selected>VAT 20%</option>' in page


def test_it_refuses_a_rate_that_is_not_offered(staff_client, vat):
    vat.archive()
    draft = make_draft(lines=0)
    rows = [{"description": "A", "quantity": 1, "unit_price": "1", "named_tax": vat.pk}]
    response = staff_client.post(
        reverse("invoices:edit", args=[draft.pk]), form_data(draft, rows), **HTMX
    )
    assert "Choose a tax rate from the list." in response.content.decode()
    assert not draft.lines.exists()


def test_a_finalized_line_keeps_the_rate_it_was_billed_at(staff_client, vat):
    from invoices.services import finalize_invoice

    draft = make_draft(lines=0)
    rows = [{"description": "A", "quantity": 1, "unit_price": "10", "named_tax": vat.pk}]
    staff_client.post(reverse("invoices:edit", args=[draft.pk]), form_data(draft, rows), **HTMX)
    invoice = finalize_invoice(invoice=draft)
    staff_client.post(
        reverse("invoices:tax_rate", args=[vat.pk]), {"name": "VAT 21%", "percent": "21"}
    )
    line = invoice.lines.get()
    assert (line.tax_rate, line.tax_name) == (Decimal(20), "VAT 20%")
    invoice.refresh_from_db()
    assert invoice.tax == 200
    staff_client.get(reverse("invoices:catalog"))  # shows (and so clears) the messages
    body = staff_client.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert "VAT 20%" in body
    assert "VAT 21%" not in body


def test_a_draft_line_keeps_an_archived_rate_it_already_uses(staff_client, vat):
    draft = make_draft(lines=0)
    rows = [{"description": "A", "quantity": 1, "unit_price": "10", "named_tax": vat.pk}]
    staff_client.post(reverse("invoices:edit", args=[draft.pk]), form_data(draft, rows), **HTMX)
    vat.archive()
    saved = [{**rows[0], "id": draft.lines.get().pk, "description": "B"}]
    response = staff_client.post(
        reverse("invoices:edit", args=[draft.pk]), form_data(draft, saved), **HTMX
    )
    assert b"All changes saved." in response.content
    assert draft.lines.get().tax_name == "VAT 20%"


def test_the_pay_page_names_the_rate(client, vat):
    from invoices.services import finalize_invoice

    draft = make_draft(lines=1)
    draft.lines.update(tax_rate=Decimal(20), tax_name="VAT <20%>", named_tax=vat)
    invoice = finalize_invoice(invoice=draft)
    body = client.get(invoice.get_pay_url()).content.decode()
    assert 'VAT &lt;20%&gt; <span class="muted">(20%)</span>' in body


# -- hostile input over the new forms ----------------------------------------------------

text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60))
FORMS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FORMS
@given(name=text, percent=text)
def test_a_tax_rate_form_never_breaks(db, name, percent):
    form = TaxRateForm({"name": name, "percent": percent})
    if form.is_valid():
        rate = form.save()
        assert Decimal(0) <= rate.percent <= Decimal(100)
        assert rate.percent.as_tuple().exponent >= -3
        assert rate.name.strip()
        assert not any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in rate.name)
        rate.delete()


@FORMS
@given(name=text, description=text, unit_price=text, currency=text)
def test_an_item_form_never_breaks(db, name, description, unit_price, currency):
    form = CatalogItemForm(
        {"name": name, "description": description, "unit_price": unit_price, "currency": currency}
    )
    if form.is_valid():
        item = form.save()
        assert 0 <= item.unit_amount <= MAX_AMOUNT
        assert len(item.line_description) <= 500
        item.delete()


def test_a_three_decimal_rate_rounds_half_up_per_line(staff_client):
    nyc = TaxRate.objects.create(name="Sales tax NYC 8.875%", percent=Decimal("8.875"))
    draft = make_draft(lines=0)
    rows = [
        {"description": "A", "quantity": 1, "unit_price": "10.00", "named_tax": nyc.pk},
        {"description": "B", "quantity": 1, "unit_price": "10.00", "tax_rate": "8.875"},
    ]
    staff_client.post(reverse("invoices:edit", args=[draft.pk]), form_data(draft, rows), **HTMX)
    draft.refresh_from_db()
    # Each line: 10.00 x 8.875% = 0.8875, rounded half up to 0.89; the invoice sums them.
    assert (draft.subtotal, draft.tax, draft.total) == (2000, 178, 2178)
    assert list(draft.lines.values_list("tax_name", flat=True)) == ["Sales tax NYC 8.875%", ""]


def test_a_typed_rate_has_at_most_three_decimals(staff_client):
    draft = make_draft(lines=0)
    rows = [{"description": "A", "quantity": 1, "unit_price": "10.00", "tax_rate": "8.8755"}]
    response = staff_client.post(
        reverse("invoices:edit", args=[draft.pk]), form_data(draft, rows), **HTMX
    )
    assert "no more than 3 decimal places" in response.content.decode()
    assert not draft.lines.exists()


def test_it_escapes_what_staff_typed_into_the_catalog(staff_client):
    hostile = '<img src=x onerror="alert(1)">'
    rate = TaxRate.objects.create(name=f"VAT {hostile}", percent=Decimal(20))
    CatalogItem.objects.create(
        name=f"Item {hostile}", description=hostile, unit_amount=100, currency="USD", tax_rate=rate
    )
    draft = make_draft(lines=1)
    pages = [
        staff_client.get(reverse("invoices:catalog")),
        staff_client.get(
            reverse("invoices:catalog_suggestions", args=[draft.pk, 0]),
            {"line-0-description": "Item", "currency": "USD"},
        ),
        staff_client.get(reverse("invoices:edit", args=[draft.pk])),
    ]
    for response in pages:
        body = response.content.decode()
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body
        assert "<img src=x" not in body


@pytest.mark.parametrize("count", [1, 8])
def test_the_suggestions_cost_the_same_however_many_match(
    staff_client, django_assert_num_queries, vat, count
):
    for n in range(count):
        CatalogItem.objects.create(
            name=f"Widget {n}", unit_amount=100, currency="USD", tax_rate=vat
        )
    draft = make_draft(lines=1)
    url = reverse("invoices:catalog_suggestions", args=[draft.pk, 0])
    with django_assert_num_queries(4):  # session, user, invoice, items with their rates
        body = staff_client.get(url, {"line-0-description": "Widget", "currency": "USD"}).content
    assert body.count(b"data-suggestion") == count


@pytest.mark.parametrize("lines", [1, 30])
def test_the_editor_costs_the_same_however_many_lines(
    staff_client, django_assert_num_queries, vat, lines
):
    draft = make_draft(lines=lines)
    draft.lines.update(named_tax=vat, tax_name=vat.name, tax_rate=vat.percent)
    with django_assert_num_queries(7):
        body = staff_client.get(reverse("invoices:edit", args=[draft.pk])).content.decode()
    assert body.count(f'<option value="{vat.pk}" data-percent="20" selected>') == lines


def test_the_demo_data_has_a_catalog_once():
    from django.core.management import call_command

    for _ in range(2):
        call_command("demo_data", stdout=io.StringIO())
    assert TaxRate.objects.count() == 3
    assert CatalogItem.objects.count() == 3
    assert CatalogItem.objects.get(name="Design hour").tax_rate.name == "Sales tax CA 7.25%"
