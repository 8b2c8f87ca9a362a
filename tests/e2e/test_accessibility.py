"""Accessibility: axe-core finds nothing serious or critical on the main pages, and a
customer can pay with the keyboard alone."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    VISA,
    card_fields,
    make_draft_invoice,
    make_open_invoice,
    open_payment_form,
    pay_status,
    pay_with_card,
    tab_to,
    wait_for_live_update,
    wait_for_return,
)

pytestmark = pytest.mark.e2e

BLOCKING = ("serious", "critical")
axe = Axe()


def assert_no_serious_violations(page: Page, what: str) -> None:
    violations = [v for v in axe.run(page).response["violations"] if v.get("impact") in BLOCKING]
    report = "\n".join(
        f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})\n"
        + "\n".join(
            f"    {' '.join(map(str, n['target']))}: {n['failureSummary']}" for n in v["nodes"][:5]
        )
        for v in violations
    )
    assert not violations, f"axe on {what} ({page.url}):\n{report}"


def test_the_pay_page_with_the_card_form_open(page: Page) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    assert_no_serious_violations(page, "the pay page")
    open_payment_form(page)
    assert_no_serious_violations(page, "the pay page with the card form")


def test_the_receipt(page: Page) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    pay_with_card(page, VISA)
    wait_for_return(page)
    wait_for_live_update(pay_status(page), "Paid")
    expect(page.locator("#receipt")).to_contain_text("Visa •••• 4242")
    assert_no_serious_violations(page, "the receipt")


def test_the_login_page(page: Page) -> None:
    page.goto("/accounts/login/")
    assert_no_serious_violations(page, "the login page")


def test_the_dashboard(staff_page: Page) -> None:
    make_open_invoice()
    page = staff_page
    page.goto("/")
    expect(page.locator("#invoice-rows tr").first).to_be_visible()
    assert_no_serious_violations(page, "the dashboard")


def test_the_invoice_editor(staff_page: Page) -> None:
    draft = make_draft_invoice()
    page = staff_page
    page.goto(f"/invoices/{draft.id}/edit/")
    expect(page.get_by_label("Description of line 2")).to_have_value("Hosting (months)")
    assert_no_serious_violations(page, "the invoice editor")


def test_a_customer_pays_with_the_keyboard_only(page: Page) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)

    pay_button = page.get_by_role("button", name=f"Pay {invoice.total_text}")
    tab_to(page, pay_button)
    page.keyboard.press("Enter")

    fields = card_fields(page)
    card_number = fields.get_by_label("Card number")
    expect(card_number).to_be_visible()
    tab_to(page, card_number)
    page.keyboard.type("4242424242424242")
    page.keyboard.press("Tab")
    expect(fields.get_by_label("Expiration date")).to_be_focused()
    page.keyboard.type("1234")
    page.keyboard.press("Tab")
    expect(fields.get_by_label("Security code")).to_be_focused()
    page.keyboard.type("123")
    expect(card_number).to_have_value("4242 4242 4242 4242")
    expect(fields.get_by_label("Expiration date")).to_have_value("12 / 34")
    page.keyboard.press("Enter")

    wait_for_return(page)
    wait_for_live_update(pay_status(page), "Paid")
