"""Bank debits from the pay page: the customer picks the bank tab of the Payment Element,
the debit stays processing for (simulated) days with every open page saying so, then
settles, or fails and reopens the invoice with the customer emailed a new pay link."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.e2e.helpers import (
    assert_not_reloaded,
    card_fields,
    follow_email_link,
    invoice_state,
    last_email,
    make_open_invoice,
    mark_page,
    pay_status,
    stack,
    wait_for_live_update,
    wait_for_return,
)

pytestmark = pytest.mark.e2e

DAYS = 5 * 86400  # longer than a debit's settle delay below

OFFER_DEBITS = """
from invoices.models import BusinessProfile
BusinessProfile.objects.filter(pk=1).update(accept_us_bank_account={on}, accept_sepa_debit={on})
result = {on}
"""


@pytest.fixture
def debits_offered(simulator: SimulatorProcess) -> Iterator[None]:
    """The business offers ACH and SEPA debits; a debit takes four simulated days."""
    stack().shell.run(OFFER_DEBITS.format(on=True))
    simulator.configure(settle_delay=4 * 86400)
    yield
    stack().shell.run(OFFER_DEBITS.format(on=False))


def open_bank_tab(page: Page, tab: str) -> FrameLocator:
    page.locator("#pay-action").get_by_role("button", name=re.compile(r"^Pay ")).click()
    frame = card_fields(page)
    frame.get_by_role("tab", name=tab).click()
    expect(frame.get_by_label("Full name")).to_be_visible()
    return frame


def frame_settled(page: Page, frame: FrameLocator) -> None:
    """Wait until the Payment Element's frame has grown to its form: a bank form changes
    height as it is filled in (the mandate, an error cleared), and the frame follows a
    message later, moving the Pay button under a pointer that aimed at it before."""
    outer = page.locator("[data-payment-element] iframe")

    def heights() -> tuple[int, int]:
        inner = frame.locator("html").evaluate("e => Math.ceil(e.getBoundingClientRect().height)")
        return inner, round(outer.evaluate("e => e.getBoundingClientRect().height"))

    for _ in range(50):
        inner, framed = heights()
        if inner == framed:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the payment frame never settled: content {inner}px, frame {framed}px")


def submit(page: Page, frame: FrameLocator) -> None:
    button = page.locator("[data-payment-form]").get_by_role("button", name=re.compile(r"^Pay "))
    expect(button).to_be_enabled()
    button.scroll_into_view_if_needed()  # a SEPA form is taller than a laptop's window
    frame_settled(page, frame)
    button.click()
    wait_for_return(page)


@pytest.mark.usefixtures("debits_offered")
def test_an_ach_debit_processes_for_days_then_settles_live_for_customer_and_staff(
    page: Page, staff_page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice()
    staff = staff_page
    staff.goto(f"/invoices/{invoice.id}/")
    panel = staff.locator(f"#invoice-status-{invoice.id}")
    expect(panel).to_contain_text("Open")
    mark_page(staff)

    page.goto(invoice.pay_path)
    expect(page.locator("#accepted-methods")).to_contain_text("US bank account (ACH Direct Debit)")
    expect(page.locator("#accepted-methods")).to_contain_text("a few business days")
    frame = open_bank_tab(page, "US bank account")
    frame.get_by_label("Full name").fill("Jenny Rosen")
    frame.get_by_role("radio", name=re.compile("Test Institution")).check()
    frame.get_by_label("Test Institution account").select_option(label="Success")
    submit(page, frame)
    mark_page(page)

    wait_for_live_update(pay_status(page), "Payment processing (bank debit, expected by")
    expect(page.locator("#invoice-status-badge")).to_have_text("Processing")
    expect(page.locator("#pay-action").get_by_role("button")).to_have_count(0)
    wait_for_live_update(
        panel,
        re.compile(r"Payment processing \(bank debit, STRIPE TEST BANK •••• 6789, expected by"),
    )
    assert invoice_state(invoice)["status"] == "open"

    simulator.advance(DAYS)

    wait_for_live_update(pay_status(page), "Paid")
    expect(page.locator("#receipt")).to_contain_text("STRIPE TEST BANK •••• 6789")
    wait_for_live_update(panel, "Paid")
    expect(panel).not_to_contain_text("Payment processing")
    assert_not_reloaded(page)
    assert_not_reloaded(staff)
    receipt = last_email(to=invoice.customer_email, subject="Receipt")
    assert "STRIPE TEST BANK •••• 6789" in receipt.text


@pytest.mark.usefixtures("debits_offered")
def test_a_debit_that_fails_after_processing_reopens_the_invoice_and_emails_the_customer(
    page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    frame = open_bank_tab(page, "US bank account")
    frame.get_by_label("Full name").fill("Jenny Rosen")
    frame.get_by_role("radio", name=re.compile("Test Institution")).check()
    frame.get_by_label("Test Institution account").select_option(label="Insufficient funds")
    submit(page, frame)
    mark_page(page)
    wait_for_live_update(pay_status(page), "Payment processing (bank debit, expected by")

    simulator.advance(DAYS)

    wait_for_live_update(pay_status(page), "Your last payment attempt failed")
    pay_again = page.locator("#pay-action").get_by_role("button", name=re.compile(r"^Pay "))
    expect(pay_again).to_be_visible()
    assert_not_reloaded(page)
    state = invoice_state(invoice)
    assert state["status"] == "open"
    assert state["amount_paid"] == 0

    mail = last_email(to=invoice.customer_email, subject="did not go through")
    assert "There was not enough money in the account." in mail.text
    follow_email_link(page, mail)
    expect(
        page.locator("#pay-action").get_by_role("button", name=re.compile(r"^Pay "))
    ).to_be_visible()


@pytest.mark.usefixtures("debits_offered")
def test_a_sepa_debit_that_fails_after_processing_reopens_the_invoice_and_emails_the_customer(
    page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice(currency="EUR")
    page.goto(invoice.pay_path)
    expect(page.locator("#accepted-methods")).to_contain_text("SEPA Direct Debit")
    frame = open_bank_tab(page, "SEPA Direct Debit")
    frame.get_by_label("Full name").fill("Jenny Rosen")
    frame.get_by_label("Email").fill("jenny@example.com")
    frame.get_by_label("IBAN").fill("AT86 1904 3002 3547 3202")  # processing, then fails
    submit(page, frame)
    mark_page(page)
    wait_for_live_update(pay_status(page), "Payment processing (bank debit, expected by")
    expect(page.locator("#pay-action").get_by_role("button")).to_have_count(0)

    simulator.advance(DAYS)

    wait_for_live_update(pay_status(page), "Your last payment attempt failed")
    assert_not_reloaded(page)
    state = invoice_state(invoice)
    assert (state["status"], state["amount_paid"]) == ("open", 0)
    mail = last_email(to=invoice.customer_email, subject="did not go through")
    assert "Your bank could not process the debit." in mail.text
    follow_email_link(page, mail)
    expect(
        page.locator("#pay-action").get_by_role("button", name=re.compile(r"^Pay "))
    ).to_be_visible()


@pytest.mark.usefixtures("debits_offered")
def test_an_ach_account_typed_in_by_hand_is_verified_by_microdeposits_then_settles_live(
    page: Page, staff_page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice()
    staff = staff_page
    staff.goto(f"/invoices/{invoice.id}/")
    panel = staff.locator(f"#invoice-status-{invoice.id}")
    expect(panel).to_contain_text("Open")
    mark_page(staff)

    page.goto(invoice.pay_path)
    frame = open_bank_tab(page, "US bank account")
    frame.get_by_label("Full name").fill("Jenny Rosen")
    frame.get_by_role("radio", name=re.compile("Enter bank details manually")).check()
    frame.get_by_label("Routing number").fill("110000000")
    frame.get_by_label("Account number").fill("000123456789")
    submit(page, frame)
    mark_page(page)

    # Stripe.js reported success, but nothing is paid until the account is verified.
    notice = page.locator("#verify-notice")
    expect(notice).to_contain_text("Verify your bank account to finish paying")
    expect(notice).to_contain_text("starting with SM")
    expect(page.locator("#pay-action").get_by_role("button")).to_have_count(0)
    expect(page.locator("#pay-status")).not_to_contain_text("Paid")
    wait_for_live_update(panel, "Waiting for bank account verification")

    with page.context.expect_page() as opened:
        page.locator("#verify-link").click()
    bank = opened.value
    bank.get_by_label(re.compile("6-character code")).fill("SM11AA")
    bank.get_by_role("button", name="Verify account").click()
    bank.close()

    wait_for_live_update(pay_status(page), "Payment processing (bank debit, expected by")
    expect(page.locator("#verify-notice")).to_have_count(0)
    wait_for_live_update(panel, re.compile(r"Payment processing \(bank debit"))
    assert invoice_state(invoice)["status"] == "open"

    simulator.advance(DAYS)

    wait_for_live_update(pay_status(page), "Paid")
    wait_for_live_update(panel, "Paid")
    assert_not_reloaded(page)
    assert_not_reloaded(staff)
    state = invoice_state(invoice)
    assert state["status"] == "paid"
    assert len(state["payments"]) == 1
