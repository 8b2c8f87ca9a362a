"""The Payment Element stand-in when the PaymentIntent saves the card: Stripe's consent wording
under the card fields, and the card saved with the expiry typed into them."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.sim.test_sim_browser import PageServer, card_frame, fill_card

CONSENT = (
    "By providing your card information, you allow the business to charge your card for future "
    "payments in accordance with their terms."
)


def open_saving_checkout(page: Page, shop: PageServer, sim: SimulatorProcess, **extra: str) -> str:
    client = sim.client()
    cus = client.v1.customers.create(params={"email": "jenny@example.com"})
    pi = client.v1.payment_intents.create(
        params={"amount": 4500, "currency": "usd", "customer": cus.id, **extra}
    )
    shop.client_secret = pi.client_secret
    page.goto(f"{shop.origin}/checkout")
    expect(page.locator("#payment-form")).to_have_attribute("data-ready", "true")
    return pi.id


def test_it_shows_the_consent_and_saves_the_card_as_typed(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    pi_id = open_saving_checkout(page, shop, sim, setup_future_usage="off_session")
    expect(card_frame(page).get_by_text(CONSENT)).to_be_visible()
    fill_card(page, "4242 4242 4242 4242", expiry="07 / 31")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(r"/done\?"))

    client = sim.client()
    pi = client.v1.payment_intents.retrieve(pi_id)
    assert pi.status == "succeeded"
    pm = client.v1.payment_methods.retrieve(pi.payment_method)
    assert pm.customer == pi.customer
    assert (pm.card.exp_month, pm.card.exp_year, pm.card.last4) == (7, 2031, "4242")


def test_it_shows_no_consent_when_the_card_is_not_saved(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    open_saving_checkout(page, shop, sim)
    frame = card_frame(page)
    expect(frame.get_by_label("Card number")).to_be_visible()
    expect(frame.get_by_text("for future payments")).to_have_count(0)
