"""The pay page on every width: no sideways scroll, even with a long unbroken company name
and a URL in a line; screenshots of each state at phone, tablet and desktop widths are
kept in test-results/pay-page/ (README shows three of them, copied to docs/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    Invoice,
    card_fields,
    make_open_invoice,
    open_payment_form,
    stack,
)

pytestmark = pytest.mark.e2e

SHOTS = Path("test-results/pay-page")
WIDTHS = [320, 375, 414, 768, 1280]
LONG_COMPANY = "Aktiengesellschaftfürinternationalezusammenarbeitundentwicklung" * 2
URL_LINE = (
    "Hosting, see https://status.example.com/incidents/2026/11/"
    "a-very-long-path-without-any-spaces-at-all?ref=invoice&utm_source=email"
)


def assert_no_sideways_scroll(page: Page, what: str) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth, document.body.scrollWidth]"
    )
    assert widths[0] <= widths[1], f"{what}: page is {widths[0]}px wide in a {widths[1]}px window"
    assert widths[2] <= widths[1], f"{what}: body is {widths[2]}px wide in a {widths[1]}px window"


def hostile_width_invoice() -> Invoice:
    invoice = make_open_invoice(
        (("Logo design", 1, "1200.00"), (URL_LINE, 12, "30.00")), customer_name=LONG_COMPANY
    )
    stack().shell.run(
        "from customers.models import Customer\n"
        f"Customer.objects.filter(email={invoice.customer_email!r}).update(company={LONG_COMPANY!r})\n"
        "result = 1"
    )
    return invoice


@pytest.mark.parametrize("width", WIDTHS)
def test_no_sideways_scroll_with_long_words_and_urls(page: Page, width: int) -> None:
    invoice = hostile_width_invoice()
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(invoice.pay_path)
    expect(page.get_by_role("heading", name=f"Invoice {invoice.number}")).to_be_visible()
    expect(page.get_by_text(LONG_COMPANY).first).to_be_visible()
    assert_no_sideways_scroll(page, f"the pay page at {width}px")
    # The amount column is whole, not cut off.
    amount = page.locator(".lines .line-amount").last
    box = amount.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= width, "the line amount runs off the screen"
    expect(page.locator("#invoice-totals")).to_contain_text("$1,560.00")

    open_payment_form(page)
    expect(card_fields(page).get_by_label("Card number")).to_be_visible()
    assert_no_sideways_scroll(page, f"the pay page with the card form at {width}px")


def test_lines_are_a_stacked_list_on_a_phone(page: Page) -> None:
    invoice = make_open_invoice()
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(invoice.pay_path)
    row = page.locator(".lines tbody tr").first
    description = row.locator("td").first.bounding_box()
    amount = row.locator(".line-amount").bounding_box()
    assert description is not None
    assert amount is not None
    assert amount["y"] > description["y"], "on a phone the figures sit under the description"
    expect(row.locator(".line-amount")).to_have_attribute("data-label", "Amount")


def _set_state(invoice: Invoice, state: str) -> None:
    code = {
        "paid": (
            "from datetime import date\n"
            "from invoices.services import record_offline_payment\n"
            "record_offline_payment(invoice=invoice, amount=invoice.amount_due,"
            " method='bank_transfer', received_on=date(2026, 11, 2), reference='TR-1')\n"
        ),
        "void": "from invoices.services import void_invoice\nvoid_invoice(invoice=invoice)\n",
        "processing": "Invoice.objects.filter(pk=invoice.pk).update(payment_state='processing')\n",
        "open": "",
    }[state]
    stack().shell.run(
        f"from invoices.models import Invoice\ninvoice = Invoice.objects.get(pk={invoice.id})\n"
        + code
        + "result = 1"
    )


@pytest.mark.parametrize("state", ["open", "paid", "void", "processing"])
def test_screenshots_of_each_state_at_three_widths(page: Page, state: str) -> None:
    invoice = make_open_invoice((("Website design", 1, "1200.00"), ("Hosting", 12, "30.00")))
    _set_state(invoice, state)
    page.goto(invoice.pay_path)
    badge = {"open": "Open", "paid": "Paid", "void": "Void", "processing": "Processing"}[state]
    expect(page.locator("#invoice-status-badge")).to_have_text(badge)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (375, 768, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert_no_sideways_scroll(page, f"the {state} page at {width}px")
        path = SHOTS / f"pay-{state}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path.resolve()}")
        assert path.stat().st_size > 0
