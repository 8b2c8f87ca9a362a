"""Partial payments from the pay page, on a phone: the customer chooses how much to pay now,
an amount below the business's minimum is refused in plain words, a part payment leaves the
rest due on every open page, and the rest is paid later from the same link."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    VISA,
    assert_not_reloaded,
    card_fields,
    invoice_state,
    make_open_invoice,
    mark_page,
    pay_status,
    stack,
    wait_for_live_update,
    wait_for_return,
)
from tests.e2e.test_bank_debits import frame_settled

pytestmark = pytest.mark.e2e

ALLOW_PARTIAL = """
from invoices.models import BusinessProfile
BusinessProfile.objects.filter(pk=1).update(
    allow_partial_payments={on}, partial_minimum_percent={percent}
)
result = {on}
"""


@pytest.fixture
def partial_payments() -> Iterator[None]:
    """The business lets customers pay part, at least 10 % of what is due."""
    stack().shell.run(ALLOW_PARTIAL.format(on=True, percent=10))
    yield
    stack().shell.run(ALLOW_PARTIAL.format(on=False, percent=0))


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways ({width}px)"


def pay_by_card(page: Page, amount: str) -> None:
    """Type the test card and press "Pay <amount>" once the card frame has stopped growing
    (on a phone it pushes the button down as it fills)."""
    frame = card_fields(page)
    frame.get_by_label("Card number").fill(VISA)
    frame.get_by_label("Expiration date").fill("12 / 34")
    frame.get_by_label("Security code").fill("123")
    button = page.locator("[data-payment-form]").get_by_role("button", name=f"Pay {amount}")
    expect(button).to_be_enabled()
    button.scroll_into_view_if_needed()
    frame_settled(page, frame)
    button.click()
    wait_for_return(page)


def choose_amount(page: Page, amount: str) -> None:
    field = page.get_by_label(re.compile("Amount to pay now"))
    field.fill(amount)
    page.get_by_role("button", name="Change amount").click()


@pytest.mark.usefixtures("partial_payments")
def test_a_customer_pays_part_now_and_the_rest_later_on_a_phone(
    page: Page, staff_page: Page
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    invoice = make_open_invoice()  # $1,500.00
    staff = staff_page
    staff.goto(f"/invoices/{invoice.id}/")
    mark_page(staff)

    page.goto(invoice.pay_path)
    page.locator("#pay-action").get_by_role("button", name="Pay $1,500.00").click()
    field = page.get_by_label(re.compile("Amount to pay now"))
    expect(field).to_have_value("1500.00")
    expect(page.locator("#pay-action")).to_contain_text("at least $150.00, at most $1,500.00")
    no_horizontal_scroll(page)

    choose_amount(page, "100")
    error = page.locator("#pay-amount-error")
    expect(error).to_have_text("Enter at least $150.00.")
    expect(page.locator("[data-payment-form]")).to_have_count(0)  # nothing to pay with yet
    no_horizontal_scroll(page)

    choose_amount(page, "400,50")
    pay_by_card(page, "$400.50")
    mark_page(page)

    status = pay_status(page)
    wait_for_live_update(status, "Paid so far: $400.50")
    expect(status).to_contain_text("$1,099.50")
    expect(page.locator("#invoice-status-badge")).not_to_have_text("Paid")
    state = invoice_state(invoice)
    assert (state["status"], state["amount_paid"], state["amount_due"]) == ("open", 40050, 109950)
    wait_for_live_update(staff.locator("main"), "$1,099.50")

    page.locator("#pay-action").get_by_role("button", name="Pay $1,099.50").click()
    expect(page.get_by_label(re.compile("Amount to pay now"))).to_have_value("1099.50")
    pay_by_card(page, "$1,099.50")
    # "Paid so far" also says Paid: wait for the receipt of the whole invoice.
    expect(page.locator("#receipt")).to_contain_text("We received $1,500.00", timeout=15_000)
    expect(page.locator("#invoice-status-badge")).to_have_text("Paid")
    no_horizontal_scroll(page)
    assert_not_reloaded(staff)
    state = invoice_state(invoice)
    assert (state["status"], state["amount_paid"], state["amount_due"]) == ("paid", 150000, 0)
    assert sorted(p["amount"] for p in state["payments"]) == [40050, 109950]
