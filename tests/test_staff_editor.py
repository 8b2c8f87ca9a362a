from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices.models import Invoice, InvoiceLine
from tests.factories import CustomerFactory, make_draft, make_open
from tests.test_documents import pdf_text
from tests.test_fuzz_inputs import HOSTILE

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


# -- multi-line descriptions and the PO number --------------------------------------


HOSTILE_LINE = 'Design <script>alert(1)</script>\r\nPhase 2 & "review"\r\n  indented'


def test_it_keeps_the_lines_of_a_description(staff_client, draft):
    rows = [{"description": HOSTILE_LINE, "quantity": 1, "unit_price": "10.00", "tax_rate": 0}]
    response = staff_client.post(
        reverse("invoices:edit", args=[draft.pk]), form_data(draft, rows), **HTMX
    )
    assert b"All changes saved." in response.content
    [line] = draft.lines.all()
    assert line.description == 'Design <script>alert(1)</script>\nPhase 2 & "review"\n  indented'
    page = staff_client.get(reverse("invoices:detail", args=[draft.pk])).content.decode()
    escaped = "Design &lt;script&gt;alert(1)&lt;/script&gt;<br>Phase 2 &amp; &quot;review&quot;"
    assert escaped in page
    assert "<script>alert(1)" not in page
    editor = staff_client.get(reverse("invoices:edit", args=[draft.pk])).content.decode()
    assert ">\nDesign &lt;script&gt;alert(1)&lt;/script&gt;\nPhase 2" in editor  # in its textarea


def test_it_shows_the_lines_of_a_description_to_the_customer(client, db):
    invoice = make_open(lines=1, po_number="PO <b>77</b>")
    invoice.lines.update(description="Line one <i>x</i>\nLine two")
    body = client.get(invoice.get_pay_url()).content.decode()
    assert "Line one &lt;i&gt;x&lt;/i&gt;<br>Line two" in body
    assert '<dd class="po-number">PO &lt;b&gt;77&lt;/b&gt;</dd>' in body
    from invoices.documents import pdf

    text = pdf_text(pdf.invoice_pdf(invoice))
    assert "Line one <i>x</i>\nLine two" in text
    assert "PO number PO <b>77</b>" in text


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("description", "bell\x07", "Remove the control characters"),
        ("description", "\r\n  \n", "Describe the item."),
        ("description", "x" * 501, "at most 500 characters"),
    ],
)
def test_it_refuses_a_description_it_cannot_print(staff_client, draft, field, value, error):
    before = snapshot(draft)
    rows = [{"description": value, "quantity": 1, "unit_price": "1.00", "tax_rate": 0}]
    response = staff_client.post(
        reverse("invoices:edit", args=[draft.pk]), form_data(draft, rows), **HTMX
    )
    assert error in response.content.decode()
    assert snapshot(draft) == before


def test_it_saves_the_po_number(staff_client, draft):
    response = staff_client.post(
        reverse("invoices:edit", args=[draft.pk]), form_data(draft, po_number="  PO-2026/118 ")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.po_number == "PO-2026/118"
    edit = staff_client.get(reverse("invoices:edit", args=[draft.pk])).content.decode()
    assert 'value="PO-2026/118"' in edit


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("PO\n12", "Use one line of plain text"),
        ("PO\x1b[31m", "Use one line of plain text"),
        ("PO\x00", "A NUL character is not allowed"),
        ("P" * 65, "at most 64 characters"),
    ],
)
def test_it_refuses_a_po_number_that_is_not_one_line(staff_client, draft, value, error):
    before = snapshot(draft)
    response = staff_client.post(
        reverse("invoices:edit", args=[draft.pk]), form_data(draft, po_number=value), **HTMX
    )
    assert error in response.content.decode()
    draft.refresh_from_db()
    assert snapshot(draft) == before
    assert draft.po_number == ""


def test_it_shows_the_po_number_in_the_email_and_the_csv(staff_client, db, mailoutbox):
    from invoices.documents import emails

    invoice = make_open(po_number="=PO-9")
    message = emails.send_invoice_email(invoice)
    assert "PO number:  =PO-9\n" in message.body
    [(html, _)] = message.alternatives
    assert "=PO-9" in html
    csv_text = b"".join(staff_client.get(reverse("invoices:export")).streaming_content).decode()
    header, row = csv_text.splitlines()[:2]
    assert header.endswith(",po_number")
    assert row.endswith(",'=PO-9")  # defused: a spreadsheet must not run it


def test_it_finds_an_invoice_by_its_po_number(db):
    wanted = make_open(po_number="ACME-PO-5521")
    make_open(po_number="OTHER-1")
    assert list(Invoice.objects.search("po-5521")) == [wanted]


# -- the customer of a draft ----------------------------------------------------------


def test_it_changes_the_customer_of_a_draft(staff_client, staff, draft):
    other = CustomerFactory(name="New Owner <Ltd>")
    response = staff_client.post(
        reverse("invoices:change_customer", args=[draft.pk]), {"customer": other.pk}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.customer == other
    assert draft.currency == "USD"
    assert draft.lines.count() == 2
    activity = draft.activities.get(kind="updated")
    assert activity.actor == staff
    assert "to New Owner <Ltd>" in activity.message
    page = staff_client.get(reverse("invoices:edit", args=[draft.pk])).content.decode()
    assert "New Owner &lt;Ltd&gt;" in page


def test_it_gives_an_empty_draft_the_new_customers_currency(staff_client, db):
    other = CustomerFactory()
    make_open(customer=other, currency="EUR")
    empty = make_draft(lines=0, currency="USD")
    staff_client.post(reverse("invoices:change_customer", args=[empty.pk]), {"customer": other.pk})
    empty.refresh_from_db()
    assert (empty.customer, empty.currency) == (other, "EUR")
    assert empty.activities.get(kind="updated").data["to_currency"] == "EUR"


def test_it_keeps_the_currency_of_a_customer_never_invoiced(staff_client, db):
    empty = make_draft(lines=0, currency="GBP")
    newcomer = CustomerFactory()
    staff_client.post(
        reverse("invoices:change_customer", args=[empty.pk]), {"customer": newcomer.pk}
    )
    empty.refresh_from_db()
    assert (empty.customer, empty.currency) == (newcomer, "GBP")


def test_it_refuses_to_change_the_customer_of_a_finalized_invoice(staff_client, db):
    invoice = make_open()
    before = invoice.customer_id
    response = staff_client.post(
        reverse("invoices:change_customer", args=[invoice.pk]),
        {"customer": CustomerFactory().pk},
    )
    assert response.status_code == 409
    invoice.refresh_from_db()
    assert invoice.customer_id == before
    assert not invoice.activities.filter(kind="updated")


@pytest.mark.parametrize("value", ["archived", "", "abc", "99999999999999999999"])
def test_it_refuses_a_customer_not_on_the_list(staff_client, draft, value):
    if value == "archived":
        archived = CustomerFactory()
        archived.archive()
        value = str(archived.pk)
    before = draft.customer_id
    response = staff_client.post(
        reverse("invoices:change_customer", args=[draft.pk]), {"customer": value}, follow=True
    )
    assert response.status_code == 200
    assert "Choose" in response.content.decode()
    draft.refresh_from_db()
    assert draft.customer_id == before


def test_it_refuses_a_stranger_changing_the_customer(stranger_client, draft):
    before = draft.customer_id
    response = stranger_client.post(
        reverse("invoices:change_customer", args=[draft.pk]), {"customer": CustomerFactory().pk}
    )
    assert response.status_code in (302, 403)
    draft.refresh_from_db()
    assert draft.customer_id == before


# -- removing a line, and taking it back ----------------------------------------------


def test_it_offers_to_undo_a_removed_line(staff_client, draft):
    first, second = draft.lines.all()
    response = staff_client.post(
        reverse("invoices:remove_line", args=[draft.pk, 0]), form_data(draft), **HTMX
    )
    body = response.content.decode()
    assert list(draft.lines.all()) == [second]
    assert "Line 1 removed." in body
    assert f'name="undo-description" value="{first.description}"' in body
    undo_url = reverse("invoices:restore_line", args=[draft.pk, 0])
    assert f'hx-post="{undo_url}"' in body
    posted = form_data(draft)
    posted.update({"undo-description": first.description, "undo-quantity": "1"})
    posted.update({"undo-unit_price": "100.00", "undo-tax_rate": "0", "undo-named_tax": ""})
    staff_client.post(undo_url, posted, **HTMX)
    restored = list(draft.lines.values_list("description", "unit_amount", "position"))
    assert restored == [(first.description, 10000, 0), (second.description, 10000, 1)]
    draft.refresh_from_db()
    assert draft.total == 20000


def test_it_forgets_the_undo_at_the_next_change(staff_client, draft):
    response = staff_client.post(
        reverse("invoices:edit", args=[draft.pk]),
        {**form_data(draft), "autosave": "1", "undo-description": "gone"},
        **HTMX,
    )
    body = response.content.decode()
    assert '<div id="editor-undo" class="editor-undo" hx-swap-oob="true"></div>' in body


def test_it_removes_a_line_without_javascript(staff_client, draft):
    _, second = draft.lines.all()
    response = staff_client.post(
        reverse("invoices:remove_line", args=[draft.pk, 0]), form_data(draft)
    )
    assert response.status_code == 200
    assert list(draft.lines.all()) == [second]
    assert "Line 1 removed." in response.content.decode()


def test_it_ignores_an_empty_undo(staff_client, draft):
    before = snapshot(draft)
    staff_client.post(reverse("invoices:restore_line", args=[draft.pk, 0]), form_data(draft))
    assert snapshot(draft) == before


# -- hostile values in the new editor requests ----------------------------------------


HOSTILE_EDITS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HOSTILE_EDITS
@given(data=st.data())
def test_the_line_helpers_survive_hostile_values(staff_client, draft, data):
    """Undo, pick and the suggestions: never a 5xx, and a refused post changes nothing."""
    from invoices.models import CatalogItem

    item = CatalogItem.objects.get_or_create(name="Item", unit_amount=100, currency="USD")[0]
    value = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
    index = data.draw(st.integers(0, 3), label="index")
    posted = form_data(draft)
    for name in ("description", "quantity", "unit_price", "tax_rate", "named_tax"):
        posted[f"undo-{name}"] = data.draw(value, label=f"undo-{name}")
    posted["item"] = data.draw(st.one_of(st.just(str(item.pk)), value), label="item")
    posted["currency"] = data.draw(st.sampled_from(["USD", "EUR", "", "\x00usd"]), label="cur")
    url = reverse(
        data.draw(st.sampled_from(["invoices:restore_line", "invoices:pick_item"])),
        args=[draft.pk, index],
    )
    with transaction.atomic():
        before = snapshot(draft)
        response = staff_client.post(url, posted, **HTMX)
        assert response.status_code < 500
        if b"All changes saved." not in response.content:
            assert snapshot(draft) == before
        suggestions = reverse("invoices:catalog_suggestions", args=[draft.pk, index])
        query = {f"line-{index}-description": data.draw(value), "currency": data.draw(value)}
        assert staff_client.get(suggestions, query).status_code < 500
        transaction.set_rollback(True)
