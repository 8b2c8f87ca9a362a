"""Scenario 8: wrong links and signed-out visitors."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import STAFF_PASSWORD, STAFF_USERNAME, make_open_invoice

pytestmark = pytest.mark.e2e


def test_a_wrong_pay_link_shows_not_found(page: Page) -> None:
    invoice = make_open_invoice()
    wrong = invoice.token[:-4] + ("aaaa" if not invoice.token.endswith("aaaa") else "bbbb")

    response = page.goto(f"/pay/{wrong}/")
    assert response is not None
    assert response.status == 404
    # A page that says what to do (ask the business for a new link), not a bare 404.
    expect(page.get_by_role("heading", name="This payment link does not work")).to_be_visible()
    expect(page.get_by_text(invoice.number)).to_have_count(0)

    # The right link works, so it was the token that was refused.
    response = page.goto(invoice.pay_path)
    assert response is not None
    assert response.status == 200


def test_a_staff_page_without_signing_in_redirects_to_login_and_back(page: Page) -> None:
    invoice = make_open_invoice()

    page.goto(invoice.staff_path)
    expect(page).to_have_url(re.compile(rf"/accounts/login/\?next=/invoices/{invoice.id}/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text(invoice.number)).to_have_count(0)

    page.get_by_label("Username").fill(STAFF_USERNAME)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/invoices/{invoice.id}/$"))
    expect(page.get_by_role("heading", name=f"Invoice {invoice.number}")).to_be_visible()


@pytest.mark.parametrize("path", ["/", "/customers/", "/invoices/new/", "/webhook-events/"])
def test_every_staff_area_asks_to_sign_in_first(page: Page, path: str) -> None:
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
