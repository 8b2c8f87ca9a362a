"""Staff make an invoice recurring, then pause it, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import flash_messages, make_open_invoice

pytestmark = pytest.mark.e2e


def test_staff_make_an_invoice_recurring_and_pause_it(staff_page: Page) -> None:
    invoice = make_open_invoice()
    staff = staff_page
    staff.goto(invoice.staff_path)
    staff.get_by_role("link", name="Make recurring").click()
    expect(staff.get_by_role("heading", name="New recurring invoice")).to_be_visible()
    # The invoice's lines come along; the schedule defaults to monthly.
    expect(staff.locator("#id_line-0-description")).not_to_have_value("")
    expect(staff.locator("#id_frequency")).to_have_value("monthly")
    staff.get_by_role("button", name="Create recurring invoice").click()

    expect(flash_messages(staff)).to_contain_text(re.compile(r"Recurring #\d+ created"))
    row = staff.locator("tr[id^=recurring-]", has_text=invoice.customer_name)
    expect(row).to_have_count(1)
    row.get_by_role("button", name="Pause").click()
    expect(flash_messages(staff)).to_contain_text("paused")
    expect(row).to_contain_text("Paused")
    row.get_by_role("button", name="Resume").click()
    expect(flash_messages(staff)).to_contain_text("resumed")
