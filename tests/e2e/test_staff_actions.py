"""Scenarios 6-7: staff act on an invoice the customer has open in their browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.e2e.helpers import (
    BUSINESS_NAME,
    CARD_FRAME,
    VISA,
    accept_next_confirm,
    assert_not_reloaded,
    flash_messages,
    invoice_state,
    last_email,
    make_open_invoice,
    mark_page,
    open_payment_form,
    pay_status,
    pay_with_card,
    payment_intent_of,
    wait_for_live_update,
    wait_for_return,
)

pytestmark = pytest.mark.e2e


def test_staff_void_an_open_invoice_and_the_customer_can_no_longer_pay(
    page: Page, staff_page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice(send=True)

    # The customer has the card form open (a PaymentIntent exists) ...
    page.goto(invoice.pay_path)
    open_payment_form(page)
    mark_page(page)

    # ... when staff void the invoice.
    staff = staff_page  # a staff member, signed in, in their own browser
    staff.goto(invoice.staff_path)
    accept_next_confirm(staff)
    staff.get_by_role("link", name="Void…").click()
    expect(flash_messages(staff)).to_have_text(f"Invoice {invoice.number} voided.")
    expect(staff.locator(f"#invoice-status-{invoice.id}")).to_contain_text("Void")

    # The customer's page changes live: voided, and the card form is gone.
    wait_for_live_update(pay_status(page), "This invoice was voided")
    expect(page.locator("[data-payment-form]")).to_have_count(0)
    expect(page.locator(CARD_FRAME)).to_have_count(0)
    assert_not_reloaded(page)

    # Opening the link again: still voided, and no way to pay.
    page.reload()
    expect(pay_status(page)).to_contain_text("This invoice was voided")
    expect(page.get_by_role("button", name=f"Pay {invoice.total_text}")).to_have_count(0)

    # The started PaymentIntent was canceled at Stripe, so it cannot be confirmed either.
    intent = simulator.client().v1.payment_intents.retrieve(payment_intent_of(invoice))
    assert intent.status == "canceled"
    assert invoice_state(invoice)["status"] == "void"
    mail = last_email(to=invoice.customer_email, subject="voided")
    assert mail.subject == f"Invoice {invoice.number} from {BUSINESS_NAME} has been voided"


def test_staff_refund_part_of_a_paid_invoice_and_both_pages_show_it(
    page: Page, staff_page: Page
) -> None:
    invoice = make_open_invoice()  # $1,500.00
    page.goto(invoice.pay_path)
    pay_with_card(page, VISA)
    wait_for_return(page)
    wait_for_live_update(pay_status(page), "Paid")
    mark_page(page)

    staff = staff_page  # a staff member, signed in, in their own browser
    staff.goto(invoice.staff_path)
    payments = staff.get_by_role("region", name="Payments")
    expect(payments).to_contain_text("Visa •••• 4242")
    payments.get_by_role("link", name="Refund…").click()

    expect(
        staff.get_by_role("heading", name=f"Refund a payment on {invoice.number}")
    ).to_be_visible()
    staff.get_by_label("Amount").fill("100.00")
    staff.get_by_role("button", name="Refund").click()
    expect(flash_messages(staff)).to_contain_text("Refund of $100.00 requested")

    # Stripe confirms it by webhook: the staff page and the customer's page update live.
    status = staff.locator(f"#invoice-status-{invoice.id}")
    wait_for_live_update(status, "Refunded$100.00")
    expect(status).to_contain_text("Paid")
    wait_for_live_update(payments.get_by_role("row").nth(1), "$100.00")

    wait_for_live_update(page.locator("#receipt"), "Refunded: $100.00")
    expect(pay_status(page)).to_contain_text("Paid")
    assert_not_reloaded(page)

    state = invoice_state(invoice)
    assert (state["status"], state["amount_refunded"]) == ("paid", 10_000)
    mail = last_email(to=invoice.customer_email, subject="Refund")
    assert mail.subject == (f"Refund of $100.00 for invoice {invoice.number} from {BUSINESS_NAME}")
