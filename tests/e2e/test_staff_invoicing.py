"""Scenario 1: staff bill a new customer, from signing in to the emailed pay link."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    BUSINESS_NAME,
    accept_next_confirm,
    flash_messages,
    last_email,
    sign_in,
)

pytestmark = pytest.mark.e2e

LINES = [
    # description, quantity, unit price
    ("Brand workshop", "1", "1500.00"),
    ("Logo design", "2", "750.00"),
    ("Business cards", "500", "0.20"),
]
TOTAL = "$3,100.00"  # 1,500 + 2 x 750 + 500 x 0.20


def test_staff_create_a_customer_and_a_three_line_invoice_then_finalize_and_send_it(
    page: Page,
) -> None:
    tag = uuid.uuid4().hex[:6]
    name, email = f"Wile E. Coyote {tag}", f"wile-{tag}@example.com"

    # Staff sign in and add the customer.
    sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Company").fill("Acme Anvils")
    page.get_by_role("button", name="Add customer").click()
    expect(flash_messages(page)).to_have_text(f"Customer {name} added.")

    # From the customer's page, a new invoice for them.
    page.get_by_role("main").get_by_role("link", name="New invoice").click()
    customer = page.get_by_label("Customer", exact=True)
    expect(customer.locator("option:checked")).to_contain_text(name)
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Edit"))).to_be_visible()

    # Three lines in the htmx editor: "+ Add line" adds a row without leaving the page.
    for number, (description, quantity, price) in enumerate(LINES, start=1):
        if number > 1:
            page.get_by_role("button", name="+ Add line").click()
        page.get_by_label(f"Description of line {number}").fill(description)
        page.get_by_label(f"Quantity of line {number}").fill(quantity)
        page.get_by_label(f"Unit price of line {number}").fill(price)
    page.keyboard.press("Tab")  # leaving the last field saves the draft (autosave on change)

    totals = page.locator("#editor-totals")
    expect(totals).to_contain_text(f"Total{TOTAL}")
    expect(page.locator("#editor-status")).to_have_text("All changes saved.")
    for number, amount in enumerate(["$1,500.00", "$1,500.00", "$100.00"]):
        expect(page.locator(f"#line-{number}-amount")).to_have_text(amount)

    # Finalize (htmx asks to confirm): the invoice gets its number.
    accept_next_confirm(page)
    page.get_by_role("button", name="Finalize…").click()
    finalized = re.compile(r"Invoice (QA-\d+) finalized\. Send it when ready\.")
    expect(flash_messages(page)).to_have_text(finalized)
    number = finalized.search(flash_messages(page).inner_text()).group(1)
    expect(page.get_by_role("heading", name=f"Invoice {number}")).to_be_visible()
    invoice_doc = page.get_by_role("article", name="Invoice")
    for description, _, _ in LINES:
        expect(invoice_doc).to_contain_text(description)
    expect(invoice_doc).to_contain_text(f"Total{TOTAL}")
    pay_link = page.get_by_role("textbox", name="Pay link").input_value()
    assert re.search(r"/pay/[\w-]+/$", pay_link), pay_link

    # Send it: the customer gets an email with the pay link and the PDF.
    accept_next_confirm(page)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(flash_messages(page)).to_have_text(f"Invoice emailed to {email}.")
    expect(page.get_by_role("button", name="Resend")).to_be_visible()

    mail = last_email(to=email, subject=f"Invoice {number}")
    assert mail.subject.startswith(f"Invoice {number} from {BUSINESS_NAME}: {TOTAL}"), mail.subject
    assert pay_link in mail.links, f"{pay_link} not in {mail.links}"
    assert pay_link in mail.text
    assert any(name.endswith(".pdf") for name in mail.attachments), mail.attachments
