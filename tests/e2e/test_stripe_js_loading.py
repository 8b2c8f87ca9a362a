"""The pay page when things fail: a slow Stripe.js never holds up the invoice, a Stripe.js
that does not load and a request that never arrives are explained, with a way to retry.

The simulator serves Stripe.js slowly (`js_delay`) or not at all (`js_unavailable`), as a
slow or unreachable js.stripe.com would.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.e2e.helpers import (
    VISA,
    card_fields,
    make_open_invoice,
    open_payment_form,
    pay_status,
    pay_with_card,
    payment_intent_of,
    wait_for_live_update,
    wait_for_return,
)

pytestmark = pytest.mark.e2e

UNAVAILABLE = "Card payments could not be loaded. Check your connection and try again."


def test_the_invoice_draws_before_a_slow_stripe_js_and_the_card_form_follows(
    page: Page, simulator: SimulatorProcess
) -> None:
    simulator.configure(js_delay=4)
    invoice = make_open_invoice()
    page.goto(invoice.pay_path, wait_until="domcontentloaded")

    # The invoice is on screen while Stripe.js is still on its way.
    expect(page.get_by_role("heading", name=f"Invoice {invoice.number}")).to_be_visible()
    expect(pay_status(page)).to_contain_text(invoice.total_text)
    assert page.evaluate("typeof window.Stripe") == "undefined"

    # Pressing Pay before it arrived waits for it, then shows the card form.
    page.locator("#pay-action").get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(card_fields(page).get_by_label("Card number")).to_be_visible(timeout=15_000)
    simulator.configure(js_delay=0)
    pay_with_card(page, VISA)
    wait_for_return(page)
    wait_for_live_update(pay_status(page), "Paid")


def test_a_stripe_js_that_does_not_load_is_explained_and_can_be_retried(
    page: Page, simulator: SimulatorProcess
) -> None:
    simulator.configure(js_unavailable=True)
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    page.locator("#pay-action").get_by_role("button", name=re.compile(r"^Pay ")).click()

    message = page.locator("[data-payment-message]")
    expect(message).to_contain_text(UNAVAILABLE)
    expect(page.locator("[data-pay-submit]")).to_be_disabled()

    simulator.configure(js_unavailable=False)
    message.get_by_role("button", name="Try again").click()
    expect(card_fields(page).get_by_label("Card number")).to_be_visible()
    expect(message).to_have_text("")
    expect(page.locator("[data-pay-submit]")).to_be_enabled()


def test_a_pay_request_that_never_reaches_the_server_is_explained_and_retried(
    page: Page,
) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    expect(pay_status(page)).to_contain_text(invoice.total_text)

    page.context.set_offline(True)  # the phone lost its connection
    page.locator("#pay-action").get_by_role("button", name=re.compile(r"^Pay ")).click()
    problem = page.locator("[data-pay-problem]")
    expect(problem).to_contain_text("We could not reach the server.")

    page.context.set_offline(False)
    problem.get_by_role("button", name="Try again").click()
    expect(card_fields(page).get_by_label("Card number")).to_be_visible()
    expect(problem).to_have_count(0)


def test_an_error_not_written_for_customers_is_replaced_by_our_sentence(
    page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    open_payment_form(page)
    # The PaymentIntent is canceled behind the open form (its webhook held back, so only
    # Stripe.js finds out): confirming it is an invalid_request_error, not a card error.
    simulator.configure(hold=True)
    simulator.client().v1.payment_intents.cancel(payment_intent_of(invoice))
    # The portal's own check at Pay would notice and hand out a fresh form; the cancel
    # landing just after that check (a race) is what reaches Stripe.js, so the check passes.
    page.route("**/pay/check/", lambda route: route.fulfill(status=204))

    pay_with_card(page, VISA)
    message = page.locator("[data-payment-message]")
    expect(message).to_have_text(
        "This payment can no longer be completed here. "
        "Please reload the page to see the invoice as it is now."
    )
    expect(message).not_to_contain_text("canceled")


def test_a_card_form_that_does_not_load_is_explained_and_can_be_retried(
    page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)
    page.wait_for_function("typeof window.Stripe === 'function'")
    simulator.configure(js_unavailable=True)  # Stripe.js is here, its card frame is not
    page.locator("#pay-action").get_by_role("button", name=re.compile(r"^Pay ")).click()

    message = page.locator("[data-payment-message]")
    expect(message).to_contain_text(UNAVAILABLE)
    expect(page.locator("[data-pay-submit]")).to_be_disabled()

    simulator.configure(js_unavailable=False)
    message.get_by_role("button", name="Try again").click()
    expect(card_fields(page).get_by_label("Card number")).to_be_visible()
    expect(page.locator("[data-pay-submit]")).to_be_enabled()
