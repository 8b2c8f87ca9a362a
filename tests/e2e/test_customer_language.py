"""A German customer pays: the page, its live update and the receipt email in German."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    BUSINESS_NAME,
    VISA,
    assert_not_reloaded,
    card_fields,
    follow_email_link,
    last_email,
    make_open_invoice,
    mark_page,
    pay_status,
    wait_for_live_update,
    wait_for_return,
)

pytestmark = pytest.mark.e2e


def test_a_german_customer_pays_in_german(page: Page) -> None:
    invoice = make_open_invoice(send=True, currency="EUR", language="de")
    assert invoice.total_text == "1.500,00\u00a0€"

    invitation = last_email(to=invoice.customer_email, subject=f"Rechnung {invoice.number}")
    assert f"über {invoice.total_text} gesendet" in invitation.text
    follow_email_link(page, invitation)
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name=f"Rechnung {invoice.number}")).to_be_visible()
    amount_due = re.compile(r"Fälliger Betrag\s*" + re.escape(invoice.total_text))
    expect(page.locator("main")).to_contain_text(amount_due)

    page.get_by_role("button", name=f"{invoice.total_text} bezahlen").click()
    form = page.locator("[data-payment-form]")
    expect(form).to_have_attribute("data-locale", "de")
    fields = card_fields(page)  # Stripe's cross-origin frame
    fields.get_by_label("Card number").fill(VISA)
    fields.get_by_label("Expiration date").fill("12 / 34")
    fields.get_by_label("Security code").fill("123")
    submit = form.get_by_role("button", name=f"{invoice.total_text} bezahlen")
    expect(submit).to_be_enabled()
    submit.click()

    wait_for_return(page)
    mark_page(page)
    wait_for_live_update(pay_status(page), "Bezahlt")  # pushed over SSE, in German
    expect(page.locator("#receipt")).to_contain_text(
        f"Wir haben Ihre Zahlung über {invoice.total_text} am"
    )
    expect(page.locator("#receipt")).to_contain_text("Zahlungs-ID")
    assert_not_reloaded(page)

    receipt = last_email(to=invoice.customer_email, subject="Quittung")
    assert receipt.subject == (
        f"Quittung von {BUSINESS_NAME}: {invoice.total_text} für Rechnung {invoice.number} bezahlt"
    )
