"""The pay page never contradicts itself: every region follows one state, live; between
Stripe's redirect and our webhook it says "being recorded"; focus and messages are where a
keyboard or screen-reader user needs them; axe is clean on a phone; without JavaScript the
invoice can still be read and downloaded."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.e2e.helpers import (
    DECLINED,
    VISA,
    assert_not_reloaded,
    card_fields,
    invoice_state,
    make_open_invoice,
    mark_page,
    open_payment_form,
    pay_status,
    pay_with_card,
    stack,
    wait_for_live_update,
    wait_for_return,
    wait_until,
)
from tests.e2e.test_accessibility import assert_no_serious_violations

pytestmark = pytest.mark.e2e


def assert_every_region_paid(page: Page, total_text: str) -> None:
    wait_for_live_update(pay_status(page), "Paid")
    expect(page.locator("#invoice-status-badge")).to_have_text("Paid")
    expect(page.locator("#pay-headline")).to_contain_text(f"{total_text} paid")
    totals = page.locator("#invoice-totals")
    expect(totals).to_contain_text(re.compile(rf"Amount paid\s*{re.escape(total_text)}"))
    expect(totals).to_contain_text(re.compile(r"Amount due\s*\$0\.00"))
    expect(page.locator("#receipt")).to_contain_text("Visa •••• 4242")
    expect(page.locator("#pay-downloads")).to_contain_text("Download receipt (PDF)")
    expect(page.locator("#receipt-link")).to_have_text("View receipt")
    expect(page.get_by_role("button", name=re.compile(r"^Pay "))).to_have_count(0)


def test_a_payment_in_a_second_tab_flips_every_region_of_the_first(page: Page) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    expect(page.locator("#invoice-status-badge")).to_have_text("Open")
    expect(page.locator("#pay-headline")).to_contain_text(f"{invoice.total_text} due")
    mark_page(page)

    second = page.context.new_page()
    second.goto(invoice.pay_path)
    pay_with_card(second, VISA)
    wait_for_return(second)

    assert_every_region_paid(page, invoice.total_text)
    assert_not_reloaded(page)
    page.locator("#receipt-link").click()
    expect(page.get_by_role("heading", name="Receipt")).to_be_visible()
    expect(page.locator(".receipt-facts")).to_contain_text("Visa •••• 4242")
    expect(page.locator(".receipt-facts")).to_contain_text(f"{invoice.number}-R")


def test_a_late_webhook_return_is_being_recorded_with_no_pay_button(
    page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    simulator.configure(hold=True)  # Stripe's webhook waits
    pay_with_card(page, VISA)
    wait_for_return(page)

    expect(pay_status(page)).to_contain_text("Payment being recorded")
    expect(page.locator("#invoice-status-badge")).to_have_text("Payment being recorded")
    expect(page.locator("#pay-headline")).to_contain_text("payment being recorded")
    expect(page.get_by_role("button", name=re.compile(r"^Pay "))).to_have_count(0)
    expect(page.get_by_text("Paid", exact=True)).to_have_count(0)
    mark_page(page)

    simulator.release()
    assert_every_region_paid(page, invoice.total_text)
    assert_not_reloaded(page)


def test_without_the_webhook_the_page_asks_stripe_after_a_bounded_wait(
    page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    simulator.configure(hold=True)  # the webhook never comes during this test
    pay_with_card(page, VISA)
    wait_for_return(page)
    expect(pay_status(page)).to_contain_text("Payment being recorded")

    # A few polls, then the server's own check against Stripe books it.
    assert_every_region_paid(page, invoice.total_text)
    assert invoice_state(invoice)["status"] == "paid"


def test_focus_goes_to_the_card_form_after_pay(page: Page) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    open_payment_form(page)
    wait_until(
        lambda: page.evaluate("() => document.activeElement.tagName") == "IFRAME",
        what="the card form to take the focus",
    )
    expect(card_fields(page).get_by_label("Card number")).to_be_focused()


def test_a_decline_is_said_once_and_takes_the_focus(page: Page) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    pay_with_card(page, DECLINED)
    message = page.locator("[data-payment-message]")
    expect(message).to_have_text("Your card was declined.")
    expect(message).to_be_focused()
    # The webhook's failure reaches the page too; still one visible message.
    wait_until(
        lambda: invoice_state(invoice)["payment_state"] == "failed",
        what="the failure webhook",
    )
    page.wait_for_function("() => document.querySelector('#pay-status .failed-notice') !== null")
    visible = page.get_by_text(re.compile("declined")).filter(visible=True)
    expect(visible).to_have_count(1)
    expect(page.get_by_text("declined..")).to_have_count(0)


def test_axe_is_clean_on_a_phone(page: Page) -> None:
    invoice = make_open_invoice()
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(invoice.pay_path)
    assert_no_serious_violations(page, "the pay page at 375px")
    open_payment_form(page)
    assert_no_serious_violations(page, "the card form at 375px")


def test_the_card_form_does_not_shift_the_page_when_it_loads(page: Page) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    page.locator("#pay-action").get_by_role("button", name=re.compile(r"^Pay ")).click()
    host = page.locator("[data-payment-element]")
    expect(host).to_be_visible()
    before = host.bounding_box()
    expect(card_fields(page).get_by_label("Card number")).to_be_visible()
    after = host.bounding_box()
    assert before is not None
    assert after is not None
    assert abs(after["height"] - before["height"]) <= 8, (before, after)


def test_without_javascript_the_invoice_reads_and_downloads(browser: Browser) -> None:
    invoice = make_open_invoice()
    context = browser.new_context(java_script_enabled=False, base_url=_base_url())
    try:
        page = context.new_page()
        page.goto(invoice.pay_path)
        expect(page.get_by_role("heading", name=f"Invoice {invoice.number}")).to_be_visible()
        expect(page.locator("#invoice-totals")).to_contain_text(invoice.total_text)
        # Chromium under Playwright keeps parsing <noscript> as with scripting on (it is
        # a page setting, not the browser's), so read the note rather than look for it.
        note = page.locator(".pay-box noscript").text_content() or ""
        assert "Paying by card needs JavaScript" in note
        link = page.get_by_role("link", name="Download invoice (PDF)")
        response = page.request.get(link.get_attribute("href") or "")
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
    finally:
        context.close()


def test_an_unknown_link_is_a_friendly_404(page: Page) -> None:
    response = page.goto("/pay/not-a-real-link/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="This payment link does not work")).to_be_visible()
    expect(page.get_by_role("link", name="billing@acme.test")).to_be_visible()


def _base_url() -> str:
    return stack().portal.url
