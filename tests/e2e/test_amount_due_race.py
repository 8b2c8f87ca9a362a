"""The amount the customer pays is the amount due now, even when staff record money
while the customer has the card form open."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.e2e.helpers import (
    VISA,
    flash_messages,
    invoice_state,
    make_open_invoice,
    open_payment_form,
    pay_status,
    pay_with_card,
    payment_intent_of,
    wait_for_live_update,
    wait_for_return,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_a_bank_transfer_recorded_while_the_form_is_open_means_paying_only_the_rest(
    page: Page, staff_page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice((("Website design", 1, "1200.00"),))

    # The customer opens the card form for $1,200.
    page.goto(invoice.pay_path)
    form = open_payment_form(page)
    expect(form.get_by_role("button", name="Pay $1,200.00")).to_be_visible()

    # Staff record a $500 bank transfer meanwhile.
    staff = staff_page
    staff.goto(invoice.staff_path)
    staff.get_by_role("link", name="Record payment").click()
    staff.get_by_label("Amount").fill("500.00")
    staff.get_by_label("Method").select_option("bank_transfer")
    staff.get_by_role("button", name="Record payment").click()
    expect(flash_messages(staff)).to_contain_text("$500.00 recorded.")
    wait_for_live_update(pay_status(page), "$700.00")

    # The customer presses Pay on the form as it is now.
    submit = page.locator("[data-payment-form]").get_by_role("button", name=r"Pay")
    stale = "1,200" in submit.inner_text()
    pay_with_card(page, VISA)
    if stale:
        # Refused before Stripe was asked: nothing charged, a fresh form for $700.
        notice = page.locator("[data-payment-notice]")
        expect(notice).to_contain_text("The amount due is now $700.00")
        expect(notice).to_contain_text("Nothing was charged")
        expect(page.get_by_role("button", name="Pay $700.00")).to_be_visible()
        assert _card_payments_received(invoice) == []
        pay_with_card(page, VISA)
    wait_for_return(page)

    # Charged exactly the $700 that was due, and the invoice is paid in full.
    intent = simulator.client().v1.payment_intents.retrieve(payment_intent_of(invoice))
    assert (intent.amount, intent.amount_received, intent.status) == (70000, 70000, "succeeded")
    # The return page may show Stripe's "Paid" before our webhook lands: wait for the books.
    state = wait_until(
        lambda: (found := invoice_state(invoice))["status"] == "paid" and found,
        what="the webhook to record the payment",
    )
    wait_for_live_update(pay_status(page), "Paid")
    assert (state["status"], state["amount_paid"], state["amount_due"]) == ("paid", 120000, 0)
    assert _card_payments_received(invoice) == [70000]


def _card_payments_received(invoice) -> list[int]:
    return [
        p["amount"]
        for p in invoice_state(invoice)["payments"]
        if p["stripe_payment_intent_id"] and p["status"] == "succeeded"
    ]
