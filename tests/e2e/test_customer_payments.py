"""Scenarios 2-5: the customer pays by card from the emailed link.

Stripe is the simulator: its Payment Element renders real inputs in a cross-origin frame, its
webhooks are signed and delivered to the portal, which pushes the new state to open
pages over Server-Sent Events. "Live" below means: without the page reloading.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.e2e.helpers import (
    BUSINESS_NAME,
    DECLINED,
    PROCESSING,
    THREE_D_SECURE,
    VISA,
    assert_not_reloaded,
    follow_email_link,
    invoice_state,
    last_email,
    make_open_invoice,
    mark_page,
    open_payment_form,
    pay_status,
    pay_with_card,
    wait_for_live_update,
    wait_for_return,
)

pytestmark = pytest.mark.e2e


def test_the_customer_pays_by_card_and_sees_paid_live_and_so_does_staff(
    page: Page, staff_page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice(send=True)

    # Staff keep the dashboard open (filtered to this invoice) in their own browser.
    staff = staff_page  # a staff member, signed in, in their own browser
    staff.goto(f"/?q={invoice.number}")
    row = staff.locator(f"#invoice-row-{invoice.id}")
    expect(row).to_contain_text("Open")
    mark_page(staff)

    # The customer opens the link from the email.
    invitation = last_email(to=invoice.customer_email, subject=f"Invoice {invoice.number}")
    follow_email_link(page, invitation)
    expect(page.get_by_role("heading", name=f"Invoice {invoice.number}")).to_be_visible()
    expect(pay_status(page)).to_contain_text(f"Amount due{invoice.total_text}")

    # Stripe's webhooks wait until the customer is back on the page, so the change
    # can only reach it live.
    simulator.configure(hold=True)
    pay_with_card(page, VISA)
    wait_for_return(page)
    # Stripe has the money, our books wait for its webhook: "being recorded" everywhere,
    # never "received" beside an amount due and a Pay button.
    expect(pay_status(page)).to_contain_text("Payment being recorded")
    expect(page.locator("#invoice-status-badge")).to_have_text("Payment being recorded")
    expect(page.locator("#pay-action").get_by_role("button")).to_have_count(0)
    mark_page(page)

    simulator.release()

    wait_for_live_update(pay_status(page), "Paid")
    receipt = page.locator("#receipt")
    expect(receipt).to_contain_text(f"We received {invoice.total_text}")
    expect(receipt).to_contain_text("Visa •••• 4242")
    expect(receipt).to_contain_text(re.compile(r"Payment ID\s*pi_"))
    expect(page.locator("#pay-action").get_by_role("button")).to_have_count(0)
    assert_not_reloaded(page)

    wait_for_live_update(row, "Paid")
    expect(row).to_contain_text("$0.00")  # amount due
    assert_not_reloaded(staff)

    mail = last_email(to=invoice.customer_email, subject="Receipt")
    assert mail.subject == (
        f"Receipt from {BUSINESS_NAME}: {invoice.total_text} paid for invoice {invoice.number}"
    )


def test_a_declined_card_shows_the_reason_inline_and_another_card_then_pays(page: Page) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    mark_page(page)

    pay_with_card(page, DECLINED)
    expect(page.locator("[data-payment-message]")).to_have_text("Your card was declined.")
    assert_not_reloaded(page)  # the error is shown in place, the typed card kept
    wait_for_live_update(pay_status(page), "Your last payment attempt failed")

    pay_with_card(page, VISA)
    wait_for_return(page)
    wait_for_live_update(pay_status(page), "Paid")
    expect(page.locator("#receipt")).to_contain_text("Visa •••• 4242")
    assert invoice_state(invoice)["status"] == "paid"


def test_3d_secure_completed_pays_the_invoice(page: Page) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)

    pay_with_card(page, THREE_D_SECURE)
    page.get_by_role("button", name="Complete authentication").click()

    wait_for_return(page)
    wait_for_live_update(pay_status(page), "Paid")
    expect(page.locator("#receipt")).to_contain_text(f"We received {invoice.total_text}")


def test_3d_secure_failed_leaves_the_invoice_payable(page: Page) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)

    pay_with_card(page, THREE_D_SECURE)
    page.get_by_role("button", name="Fail authentication").click()

    wait_for_return(page)
    expect(page.locator("#return-notice")).to_contain_text("You can try again below.")
    expect(pay_status(page)).to_contain_text(f"Amount due{invoice.total_text}")
    expect(page.locator("#receipt")).to_have_count(0)
    # Still payable: the Pay button opens the card form again.
    pay_button = page.locator("#pay-action").get_by_role("button", name=f"Pay {invoice.total_text}")
    expect(pay_button).to_be_visible()
    open_payment_form(page)
    assert invoice_state(invoice)["status"] == "open"


def test_a_processing_payment_shows_processing_then_paid_live(page: Page) -> None:
    # The simulator's processing card stays "processing" for PROCESSING_DELAY seconds
    # (tests/e2e/conftest.py), then succeeds.
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)

    pay_with_card(page, PROCESSING)
    wait_for_return(page)
    mark_page(page)
    expect(page.locator("#return-notice")).to_contain_text("Your payment is processing.")
    expect(page.locator("#processing-notice")).to_contain_text("Your payment is processing.")

    wait_for_live_update(pay_status(page), "Paid")
    expect(page.locator("#processing-notice")).to_have_count(0)
    assert_not_reloaded(page)
