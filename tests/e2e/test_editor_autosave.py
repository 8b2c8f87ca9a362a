"""The editor's autosave saves the form and nothing else, wherever the focus goes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.helpers import make_draft_invoice, stack, wait_until

pytestmark = pytest.mark.e2e


def saved_lines(invoice_id: int) -> list[list]:
    code = f"""
from invoices.models import InvoiceLine
result = [[line.description, str(line.tax_rate)]
          for line in InvoiceLine.objects.filter(invoice_id={invoice_id}).order_by("position")]
"""
    return stack().shell.run(code)


def test_tabbing_out_of_a_tax_field_onto_a_move_button_saves_without_moving(
    staff_page: Page,
) -> None:
    page = staff_page
    draft = make_draft_invoice([("First line", 1, "10.00"), ("Second line", 1, "20.00")])
    page.goto(f"/invoices/{draft.id}/edit/")
    edit_url = f"**/invoices/{draft.id}/edit/"

    # An earlier autosave is still on its way (held here) when the tax field is left,
    # so the next one waits in htmx's queue while the focus sits on a button.
    held: list[Route] = []

    def hold_the_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(edit_url, hold_the_first)
    page.get_by_label("Unit price of line 2").fill("25.00")
    page.keyboard.press("Tab")
    wait_until(lambda: held, what="the first autosave")
    expect(page.get_by_label("Named tax of line 2")).to_be_focused()
    page.keyboard.press("Tab")  # past the list of named rates, unchanged

    expect(page.get_by_label("Tax rate of line 2")).to_be_focused()
    page.get_by_label("Tax rate of line 2").fill("7")
    page.keyboard.press("Tab")
    # The focus is now on line 2's "move up" button: it must not be taken as the submitter.
    expect(page.get_by_role("button", name="Move line 2 up")).to_be_focused()
    with page.expect_request(
        lambda r: r.method == "POST" and "line-1-tax_rate=7" in (r.post_data or "")
    ) as second:
        held[0].continue_()
    assert second.value.url.endswith(f"/invoices/{draft.id}/edit/")
    assert second.value.response().ok

    # Rates are stored with three decimals (8.875 % is a real sales tax).
    assert saved_lines(draft.id) == [["First line", "0.000"], ["Second line", "7.000"]]
    expect(page.locator("#editor-status")).to_have_text("All changes saved.")
    expect(page.get_by_label("Description of line 1")).to_have_value("First line")
