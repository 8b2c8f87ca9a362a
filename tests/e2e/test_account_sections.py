"""The account page's quotes and saved payment methods on a phone: shown, linked, and
never wider than the screen, long names included."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import stack

pytestmark = pytest.mark.e2e

MAKE = """
import uuid
from decimal import Decimal
from customers.models import Customer
from invoices.models import SavedPaymentMethod
from tests.quote_helpers import make_quote
tag = uuid.uuid4().hex[:8]
customer = Customer.objects.create(name=f"Sections {tag}", email=f"sections-{tag}@example.com")
quote = make_quote(customer)
SavedPaymentMethod.objects.create(
    customer=customer, stripe_payment_method_id=f"pm_sections_{tag}",
    stripe_customer_id="cus_sections", method_type="us_bank_account",
    bank_name="THE VERY LONG NAMED COOPERATIVE SAVINGS AND LOAN BANK OF SPRINGFIELD",
    last4="6789", autopay=False,
)
result = {"token": customer.account_token, "quote": quote.number}
"""


def test_a_customer_sees_their_quotes_and_saved_methods_on_a_phone(page: Page) -> None:
    made = stack().shell.run(MAKE)
    for width in (320, 414):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"/account/{made['token']}/")
        expect(page.get_by_role("heading", name="Quotes")).to_be_visible()
        expect(page.get_by_role("heading", name="Saved payment methods")).to_be_visible()
        expect(page.locator("#account-saved-methods")).to_contain_text("•••• 6789")
        expect(page.locator("#account-saved-methods")).to_contain_text("Autopay off")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"the page scrolls sideways at {width}px ({wide}px)"
    page.get_by_role("link", name=f"Quote {made['quote']}").click()
    expect(page.get_by_role("heading", name=f"Quote {made['quote']}")).to_be_visible()
    page.go_back()
    page.get_by_role("link", name="Remove a saved payment method").click()
    expect(page.get_by_role("heading", name="Your saved payment methods")).to_be_visible()
