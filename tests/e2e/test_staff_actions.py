"""Scenarios 6-7: staff act on an invoice the customer has open in their browser."""

from __future__ import annotations

import re
import uuid

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
    payments = staff.get_by_role("region", name="Payments", exact=True)
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


def test_staff_void_every_invoice_on_the_page_after_reviewing_them(staff_page: Page) -> None:
    tag = uuid.uuid4().hex[:8]
    first = make_open_invoice(customer_name=f"Bulk {tag}")
    second = make_open_invoice(customer_name=f"Bulk {tag}", lines=(("Audit", 1, "80.00"),))
    staff = staff_page
    staff.goto(f"/?q=Bulk+{tag}")
    rows = staff.locator("#invoice-rows tr")
    expect(rows).to_have_count(2)

    # "Select all on this page" picks both rows.
    staff.get_by_role("checkbox", name="Select all on this page").check()
    for invoice in (first, second):
        expect(staff.get_by_role("checkbox", name=f"Pick {invoice.number}")).to_be_checked()
    staff.get_by_label("With the picked invoices").select_option("void")
    staff.get_by_role("button", name="Review…").click()

    # The review says what will happen before anything does.
    expect(staff.get_by_role("heading", name="Void: review 2 picked invoices")).to_be_visible()
    ready = staff.locator("#bulk-ready")
    expect(ready).to_contain_text(first.number)
    expect(ready).to_contain_text(second.number)
    assert invoice_state(first)["status"] == "open"
    staff.get_by_role("button", name="Void: 2 invoices").click()

    expect(flash_messages(staff)).to_contain_text("2 invoices voided")
    expect(staff).to_have_url(re.compile(rf"/\?q=Bulk\+{tag}$"))
    for invoice in (first, second):
        assert invoice_state(invoice)["status"] == "void"
        row = staff.locator(f"#invoice-row-{invoice.id}")
        expect(row).to_contain_text("Void")
        expect(row.locator("td.num").last).to_have_text("$0.00")


def test_staff_send_a_reminder_now_from_the_invoice_page(staff_page: Page) -> None:
    invoice = make_open_invoice(send=True)
    staff = staff_page
    staff.goto(invoice.staff_path)
    accept_next_confirm(staff)
    staff.get_by_role("button", name="Send reminder now").click()
    expect(flash_messages(staff)).to_have_text(f"Reminder emailed to {invoice.customer_email}.")
    mail = last_email(to=invoice.customer_email, subject="Reminder")
    assert invoice.number in mail.subject
    expect(staff.get_by_role("region", name="Activity")).to_contain_text("Reminder sent")
