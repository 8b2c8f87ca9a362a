"""The editor's catalog suggestions, the undo of a removed line, and a status line that
never pushes the form down."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import make_draft_invoice, make_open_invoice, stack

pytestmark = pytest.mark.e2e


def saved_lines(invoice_id: int) -> list[list]:
    code = f"""
from invoices.models import InvoiceLine
result = [[line.description, line.unit_amount, str(line.tax_rate), line.tax_name]
          for line in InvoiceLine.objects.filter(invoice_id={invoice_id}).order_by("position")]
"""
    return stack().shell.run(code)


def add_catalog_item(name: str) -> None:
    code = f"""
from decimal import Decimal
from invoices.models import CatalogItem, TaxRate
rate, _ = TaxRate.objects.get_or_create(name="Sales tax CA 7.25%", percent=Decimal("7.25"))
CatalogItem.objects.create(
    name={name!r}, description="Senior designer\\nper hour", unit_amount=1999, currency="USD",
    tax_rate=rate,
)
result = None
"""
    stack().shell.run(code)


def test_picking_a_suggestion_with_the_keyboard_fills_the_line(staff_page: Page) -> None:
    page = staff_page
    add_catalog_item("Design hour (catalog e2e)")
    draft = make_draft_invoice([("First line", 1, "10.00"), ("Second line", 1, "20.00")])
    page.goto(f"/invoices/{draft.id}/edit/")

    description = page.get_by_label("Description of line 2")
    description.fill("")
    description.press_sequentially("catalog e2")
    suggestion = page.get_by_role("button", name="Design hour (catalog e2e)")
    expect(suggestion).to_be_visible()
    description.press("ArrowDown")
    expect(suggestion).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_label("Description of line 2")).to_have_value(
        "Design hour (catalog e2e)\nSenior designer\nper hour"
    )
    expect(page.get_by_label("Unit price of line 2")).to_have_value("19.99")
    chosen = page.get_by_label("Named tax of line 2").locator("option:checked")
    expect(chosen).to_have_text("Sales tax CA 7.25%")
    expect(page.get_by_label("Tax rate of line 2")).to_have_value("7.25")
    expect(page.get_by_label("Tax rate of line 2")).not_to_be_editable()  # the name decides
    expect(page.locator("#editor-status")).to_have_text("All changes saved.")
    assert saved_lines(draft.id)[1] == [
        "Design hour (catalog e2e)\nSenior designer\nper hour",
        1999,
        "7.250",
        "Sales tax CA 7.25%",
    ]


def test_escape_closes_the_suggestions(staff_page: Page) -> None:
    page = staff_page
    add_catalog_item("Escapable item (catalog e2e)")
    draft = make_draft_invoice([("First line", 1, "10.00")])
    page.goto(f"/invoices/{draft.id}/edit/")
    description = page.get_by_label("Description of line 1")
    description.fill("")
    description.press_sequentially("Escapable")
    suggestion = page.get_by_role("button", name="Escapable item (catalog e2e)")
    expect(suggestion).to_be_visible()
    description.press("ArrowDown")
    expect(suggestion).to_be_focused()
    page.keyboard.press("Escape")
    expect(suggestion).to_have_count(0)
    expect(description).to_be_focused()


def test_a_removed_line_comes_back_with_undo(staff_page: Page) -> None:
    page = staff_page
    draft = make_draft_invoice([("Keep me", 1, "10.00"), ("Remove me", 2, "20.00")])
    page.goto(f"/invoices/{draft.id}/edit/")

    page.get_by_role("button", name="Remove line 2").click()
    expect(page.get_by_label("Description of line 2")).to_have_count(0)
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_focused()
    assert [line[0] for line in saved_lines(draft.id)] == ["Keep me"]

    undo.click()
    expect(page.get_by_label("Description of line 2")).to_have_value("Remove me")
    expect(page.get_by_role("button", name="Undo")).to_have_count(0)
    assert saved_lines(draft.id) == [
        ["Keep me", 1000, "0.000", ""],
        ["Remove me", 2000, "0.000", ""],
    ]


def test_the_undo_goes_at_the_next_change(staff_page: Page) -> None:
    page = staff_page
    draft = make_draft_invoice([("One", 1, "10.00"), ("Two", 1, "20.00")])
    page.goto(f"/invoices/{draft.id}/edit/")
    page.get_by_role("button", name="Remove line 2").click()
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    page.get_by_label("Unit price of line 1").fill("12.00")
    page.get_by_label("Unit price of line 1").press("Tab")
    expect(page.get_by_role("button", name="Undo")).to_have_count(0)
    assert saved_lines(draft.id) == [["One", 1200, "0.000", ""]]


def page_top(element: Locator) -> float:
    """From the top of the page, not of the window (typing may scroll the window)."""
    return element.evaluate("e => e.getBoundingClientRect().top + window.scrollY")


@pytest.mark.parametrize("width", [360, 1280])
def test_the_not_saved_banner_moves_nothing_below_it(staff_page: Page, width: int) -> None:
    page = staff_page
    page.set_viewport_size({"width": width, "height": 900})
    draft = make_draft_invoice([("First line", 1, "10.00")])
    page.goto(f"/invoices/{draft.id}/edit/")
    below = [
        page.get_by_label("Currency"),
        page.get_by_label("Description of line 1"),
        page.get_by_role("button", name="+ Add line"),
    ]
    before = [page_top(element) for element in below]

    page.get_by_label("Unit price of line 1").fill("not a price")
    page.get_by_label("Unit price of line 1").press("Tab")
    expect(page.locator("#editor-status")).to_contain_text("Not saved")
    after = [page_top(element) for element in below]
    assert after[:2] == before[:2]
    # The line's own error message grows its row: what follows the row may move, the
    # status line's change does not (the Add button moves exactly by the error's height).
    error_height = page.locator("#err-line-0-unit_price").bounding_box()["height"]
    assert after[2] - before[2] <= error_height + 1

    page.get_by_label("Unit price of line 1").fill("10.00")
    page.get_by_label("Unit price of line 1").press("Tab")
    expect(page.locator("#editor-status")).to_have_text("All changes saved.")
    assert [page_top(element) for element in below] == before


def test_the_undo_goes_after_a_few_seconds(staff_page: Page) -> None:
    page = staff_page
    page.clock.install()
    draft = make_draft_invoice([("One", 1, "10.00"), ("Two", 1, "20.00")])
    page.goto(f"/invoices/{draft.id}/edit/")
    page.get_by_role("button", name="Remove line 2").click()
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    page.clock.run_for(5000)
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    page.clock.run_for(4000)
    expect(page.get_by_role("button", name="Undo")).to_have_count(0)
    assert saved_lines(draft.id) == [["One", 1000, "0.000", ""]]


def test_the_editor_never_scrolls_the_page_sideways_on_a_phone(staff_page: Page) -> None:
    page = staff_page
    page.set_viewport_size({"width": 360, "height": 800})
    draft = make_draft_invoice([("A long first line\nwith a second row", 1, "10.00")])
    page.goto(f"/invoices/{draft.id}/edit/")
    expect(page.get_by_label("Description of line 1")).to_be_visible()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


@pytest.mark.parametrize("width", [320, 414])
def test_the_customer_reads_the_new_details_on_a_phone(page: Page, width: int) -> None:
    invoice = make_open_invoice([("Workshop day", 1, "950.00")])
    stack().shell.run(f"""
from invoices.models import Invoice
invoice = Invoice.objects.get(pk={invoice.id})
invoice.po_number = "PO-2026-000118-LONG-REFERENCE"
invoice.save(update_fields=["po_number"])
invoice.lines.update(
    description="Workshop day\\nOn site in Lyon, travel included, materials for twelve people",
    tax_name="Sales tax CA 7.25%",
)
result = None
""")
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(invoice.pay_path)
    expect(page.locator(".po-number")).to_have_text("PO-2026-000118-LONG-REFERENCE")
    description = page.locator(".line-description")
    expect(description).to_contain_text("Workshop day")
    assert description.inner_text().splitlines()[:2] == [
        "Workshop day",
        "On site in Lyon, travel included, materials for twelve people",
    ]
    expect(page.get_by_text("Sales tax CA 7.25%")).to_be_visible()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
