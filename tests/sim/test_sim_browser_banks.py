"""The Payment Element stand-in's bank tabs in a real browser: a tab per method the
PaymentIntent offers, the bank forms with Stripe's mandate text, and the debit that follows."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.sim.test_sim_browser import PageServer, card_frame

DAYS = 4 * 86400


def open_checkout(
    page: Page, shop: PageServer, sim: SimulatorProcess, currency: str, types: list[str]
) -> str:
    sim.configure(settle_delay=DAYS)
    pi = sim.client().v1.payment_intents.create(
        params={"amount": 250000, "currency": currency, "payment_method_types": types}
    )
    shop.client_secret = pi.client_secret
    page.goto(f"{shop.origin}/checkout")
    expect(page.locator("#payment-form")).to_have_attribute("data-ready", "true")
    return pi.id


def test_it_shows_a_tab_per_method_and_debits_a_hand_entered_account_after_microdeposits(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    pi_id = open_checkout(page, shop, sim, "usd", ["card", "us_bank_account"])
    frame = card_frame(page)
    expect(frame.get_by_role("tab")).to_have_text(["Card", "US bank account"])
    expect(frame.get_by_label("Card number")).to_be_visible()

    frame.get_by_role("tab", name="US bank account").click()
    expect(frame.get_by_label("Card number")).to_be_hidden()
    expect(
        frame.get_by_text(re.compile("you authorize the business to debit the bank account"))
    ).to_be_visible()
    page.get_by_role("button", name="Pay").click()
    expect(frame.locator("[role=alert]")).to_have_text("Your name is incomplete.")

    frame.get_by_label("Full name").fill("Jenny Rosen")
    frame.get_by_label("Routing number").fill("110000000")
    frame.get_by_label("Account number").fill("000123456789")
    expect(page.locator("#payment-form")).to_have_attribute("data-complete", "true")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(r"/done\?"))
    assert parse_qs(urlsplit(page.url).query)["payment_intent"] == [pi_id]

    client = sim.client()
    pi = client.v1.payment_intents.retrieve(pi_id)
    assert pi.status == "requires_action"
    pm = client.v1.payment_methods.retrieve(pi.payment_method)
    assert pm.billing_details.name == "Jenny Rosen"
    assert pm.us_bank_account.last4 == "6789"

    page.goto(pi.next_action.verify_with_microdeposits.hosted_verification_url)
    page.get_by_label(re.compile("code in the description")).fill("SM11AA")
    page.get_by_role("button", name="Verify account").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "processing")

    sim.advance(DAYS)
    pi = client.v1.payment_intents.retrieve(pi_id)
    assert pi.status == "succeeded"
    mandate_id = client.v1.charges.retrieve(
        pi.latest_charge
    ).payment_method_details.us_bank_account.mandate
    acceptance = client.v1.mandates.retrieve(mandate_id).customer_acceptance
    assert acceptance.type == "online"
    assert "Chrome" in acceptance.online.user_agent  # inferred from the browser's request


def test_it_links_a_test_institution_account_instantly(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    pi_id = open_checkout(page, shop, sim, "usd", ["us_bank_account"])
    frame = card_frame(page)
    expect(frame.get_by_role("tab")).to_have_count(0)  # one method: no tabs
    frame.get_by_label("Full name").fill("Jenny Rosen")
    frame.get_by_role("radio", name=re.compile("Test Institution")).check()
    expect(frame.get_by_label("Routing number")).to_be_hidden()
    frame.get_by_label("Test Institution account").select_option(label="Insufficient funds")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(r"/done\?.*redirect_status=processing"))

    assert sim.client().v1.payment_intents.retrieve(pi_id).status == "processing"
    sim.advance(DAYS)
    pi = sim.client().v1.payment_intents.retrieve(pi_id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "insufficient_funds"


def test_it_collects_a_sepa_debit_with_its_mandate(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    pi_id = open_checkout(page, shop, sim, "eur", ["card", "sepa_debit"])
    frame = card_frame(page)
    frame.get_by_role("tab", name="SEPA Direct Debit").click()
    expect(frame.get_by_text(re.compile("A refund must be claimed within 8 weeks"))).to_be_visible()
    frame.get_by_label("Full name").fill("Jenny Rosen")
    frame.get_by_label("IBAN").fill("AT86 1904 3002 3547 3202")
    page.get_by_role("button", name="Pay").click()
    expect(frame.locator("[role=alert]")).to_have_text("Your email address is incomplete.")
    frame.get_by_label("Email").fill("jenny@example.com")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(r"/done\?.*redirect_status=processing"))

    sim.advance(DAYS)
    pi = sim.client().v1.payment_intents.retrieve(pi_id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.payment_method.sepa_debit.last4 == "3202"
