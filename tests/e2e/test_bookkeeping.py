"""Bookkeeping pages in a real browser: the aging chart and its text twin, the ledger's
filters and its CSV download."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    VISA,
    all_emails,
    flash_messages,
    invoice_state,
    last_email,
    make_open_invoice,
    pay_status,
    pay_with_card,
    stack,
    wait_for_live_update,
    wait_for_return,
    wait_until,
)

pytestmark = pytest.mark.e2e

# No other browser test bills in kroner, so this currency's numbers are this test's own.
AGING_CURRENCY = "NOK"


def _shell(code: str) -> object:
    return stack().shell.run(code)


def test_the_aging_chart_renders_and_its_table_has_the_same_numbers(staff_page: Page) -> None:
    late = make_open_invoice(currency=AGING_CURRENCY)
    very_late = make_open_invoice(currency=AGING_CURRENCY)
    _shell(
        f"""
from datetime import timedelta
from django.utils import timezone
from invoices.models import Invoice
today = timezone.localdate()
for pk, days in (({late.id}, 10), ({very_late.id}, 75)):
    due = today - timedelta(days=days)
    Invoice.objects.filter(pk=pk).update(issue_date=due, due_date=due)
result = True
"""
    )
    staff_page.goto("/")
    staff_page.get_by_role("link", name="Receivables").click()
    chart = staff_page.locator(f"#aging-chart-{AGING_CURRENCY} svg")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("role", "img")
    bars = chart.locator("rect")
    expect(bars).to_have_count(5)
    box = chart.bounding_box()
    assert box is not None
    assert box["height"] > 100  # drawn, not collapsed

    values = [bars.nth(i).get_attribute("data-value") for i in range(5)]
    table = staff_page.locator(f"#aging-table-{AGING_CURRENCY}")
    cells = [c.strip() for c in table.locator("td[data-bucket]").all_inner_texts()]
    assert cells == values
    # 10 days late in 1-30, 75 days late in 61-90; nothing current, 31-60 or over 90.
    assert cells[1] == late.total_text
    assert cells[3] == very_late.total_text
    assert [bool(re.search(r"[1-9]", c)) for c in (cells[0], cells[2], cells[4])] == [False] * 3
    label = chart.get_attribute("aria-label") or ""
    for text in cells:
        assert text in label
    heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(5)]
    assert heights[1] == heights[3] > 0
    assert heights[0] == heights[2] == heights[4] == 0


def test_staff_filter_the_ledger_and_download_it_as_csv(staff_page: Page) -> None:
    invoice = make_open_invoice()
    other = make_open_invoice()
    _shell(
        f"""
from django.utils import timezone
from invoices.models import Invoice
from invoices.services import record_offline_payment
paid = (({invoice.id}, "bank_transfer"), ({invoice.id}, "cash"), ({other.id}, "bank_transfer"))
for pk, method in paid:
    record_offline_payment(
        invoice=Invoice.objects.get(pk=pk), amount=12345, method=method,
        received_on=timezone.localdate(), reference="=SUM(A1)",
    )
result = True
"""
    )
    staff_page.goto("/payments/")
    staff_page.get_by_placeholder("Invoice number, customer or email").fill(invoice.customer_name)
    staff_page.get_by_label("Method").select_option("bank_transfer")
    staff_page.get_by_role("button", name="Filter").click()
    rows = staff_page.locator("#ledger-rows tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(invoice.customer_name)
    expect(rows.first).to_contain_text("Bank transfer")
    expect(rows.first).to_contain_text("$123.45")

    with staff_page.expect_download() as download:
        staff_page.get_by_role("link", name="Export CSV").click()
    body = download.value.path().read_text()
    exported = list(csv.DictReader(io.StringIO(body)))
    assert [(r["customer"], r["method"], r["amount"]) for r in exported] == [
        (invoice.customer_name, "Bank transfer", "123.45")
    ]
    assert exported[0]["reference"] == "'=SUM(A1)"  # a spreadsheet shows it, never runs it


def test_staff_credit_a_paid_invoice_and_the_customer_sees_it(page: Page, staff_page: Page) -> None:
    invoice = make_open_invoice(send=True)
    page.goto(invoice.pay_path)
    pay_with_card(page, VISA)
    wait_for_return(page)
    wait_for_live_update(pay_status(page), "Paid")

    staff_page.goto(invoice.staff_path)
    staff_page.get_by_role("link", name="Credit note…").click()
    staff_page.get_by_label("Amount").fill("100.00")
    staff_page.get_by_label("Reason").fill("Hosting for December not used")
    staff_page.get_by_role("button", name="Issue credit note").click()
    expect(flash_messages(staff_page)).to_contain_text(re.compile(r"Credit note CN-\d{4} issued"))
    number = re.search(r"CN-\d{4}", flash_messages(staff_page).inner_text()).group(0)
    expect(staff_page.locator("#credit-notes")).to_contain_text("Hosting for December not used")

    # The customer's page lists it under the totals; their email carries it.
    page.goto(invoice.pay_path)
    note = page.locator("#invoice-totals .credit-note")
    expect(note).to_contain_text(f"Credit note {number}")
    expect(note).to_contain_text("Hosting for December not used")
    expect(note).to_contain_text("-$100.00")
    mail = last_email(to=invoice.customer_email, subject=f"Credit note {number}")
    assert "Hosting for December not used" in mail.text
    assert "back to the card you paid with" in mail.text
    assert invoice_state(invoice)["status"] == "paid"


def test_staff_credit_some_lines_of_a_paid_invoice_and_the_customer_gets_one_email(
    page: Page, staff_page: Page
) -> None:
    invoice = make_open_invoice(send=True)  # design $1,200 + 12 months of hosting at $25
    page.goto(invoice.pay_path)
    pay_with_card(page, VISA)
    wait_for_return(page)
    wait_for_live_update(pay_status(page), "Paid")

    staff_page.goto(invoice.staff_path)
    staff_page.get_by_role("link", name="Credit note…").click()
    staff_page.get_by_label("Lines").check()
    staff_page.get_by_label("Quantity of “Hosting (months)”").fill("3")
    staff_page.get_by_label("Reason").fill("Three months of hosting not used")
    staff_page.get_by_role("button", name="Issue credit note").click()
    expect(flash_messages(staff_page)).to_contain_text(re.compile(r"Credit note CN-\d{4} issued"))
    number = re.search(r"CN-\d{4}", flash_messages(staff_page).inner_text()).group(0)
    expect(staff_page.locator("#credit-notes")).to_contain_text("$75.00")

    # The open pay page follows live: the credit note and its PDF link come in together.
    expect(page.locator("#invoice-totals .credit-note")).to_contain_text(f"Credit note {number}")
    link = page.get_by_role("link", name=f"Credit note {number} (PDF)")
    expect(link).to_be_visible()
    pdf = page.request.get(link.get_attribute("href"))
    assert pdf.ok
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    mail = last_email(to=invoice.customer_email, subject=f"Credit note {number}")
    assert "Three months of hosting not used" in mail.text
    assert "back to the card you paid with" in mail.text
    assert f"{number}.pdf" in mail.attachments
    refunded = wait_until(
        lambda: invoice_state(invoice)["amount_refunded"] == 7500 or None,
        what="the refund of $75.00 to succeed",
    )
    assert refunded
    # One clear email: the credit note says the money is on its way, no refund email too.
    assert not [
        m
        for m in all_emails()
        if invoice.customer_email in " ".join(m.to) and "Refund" in m.subject
    ]
