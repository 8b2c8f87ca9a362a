"""A customer accepts a quote with a deposit on a phone and pays the deposit by card.

The quote is made and sent through the portal's own workflows; the customer follows
the emailed link at a phone's width, types their name, lands on the deposit
invoice's pay page and pays with the simulator's card; the webhook marks the
deposit paid; staff see the quote accepted and its deposit invoice paid.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.e2e.helpers import (
    VISA,
    assert_not_reloaded,
    card_fields,
    follow_email_link,
    frame_settled,
    last_email,
    mark_page,
    open_payment_form,
    pay_status,
    stack,
    wait_for_live_update,
    wait_for_return,
)

pytestmark = pytest.mark.e2e

MAKE_QUOTE = """
from decimal import Decimal
from django.utils import timezone
from customers.models import Customer
from invoices.quotes import QuoteContent, create_quote, save_quote, send_quote
spec = json.loads({spec!r})
customer = Customer.objects.create(
    name=spec["name"], email=spec["email"], company="Globex QA",
    address_line1="1 Test Street", city="Springfield", country="US",
)
quote = create_quote(customer=customer, currency="USD", terms="net_30", footer="", actor=None)
content = QuoteContent(
    header={{
        "currency": "USD", "issue_date": timezone.localdate(), "terms": "net_30",
        "discount_kind": "", "discount": Decimal(0), "memo": "Kitchen refit", "footer": "",
    }},
    lines=[
        {{"description": "Cabinets", "quantity": Decimal(1), "unit_amount": 80000,
          "tax_rate": Decimal(0)}},
        {{"description": "Fitting (hours)", "quantity": Decimal(8), "unit_amount": 5000,
          "tax_rate": Decimal(0)}},
    ],
    expires_on=timezone.localdate() + timezone.timedelta(days=30),
    deposit_kind="percent",
    deposit_value=Decimal(25),
)
quote = send_quote(quote=save_quote(quote=quote, content=content))
result = {{"id": quote.pk, "number": quote.number, "email": customer.email}}
"""


def assert_no_sideways_scroll(page: Page, what: str) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{what}: page is {widths[0]}px wide in a {widths[1]}px window"


def test_a_customer_accepts_a_quote_on_a_phone_and_pays_the_deposit(
    page: Page, staff_page: Page, simulator: SimulatorProcess
) -> None:
    tag = uuid.uuid4().hex[:8]
    spec = {"name": f"Customer {tag}", "email": f"customer-{tag}@example.com"}
    quote = stack().shell.run(MAKE_QUOTE.format(spec=json.dumps(spec)))

    page.set_viewport_size({"width": 375, "height": 740})
    invitation = last_email(to=quote["email"], subject=f"Quote {quote['number']}")
    assert "$300.00" in invitation.text  # 25% of $1,200.00
    follow_email_link(page, invitation, contains="/pay/quote/")
    expect(page.get_by_role("heading", name=f"Quote {quote['number']}")).to_be_visible()
    expect(page.locator("#quote-deposit")).to_contain_text("$300.00")
    for width in (320, 414, 375):
        page.set_viewport_size({"width": width, "height": 740})
        assert_no_sideways_scroll(page, f"quote page at {width}px")

    # Staff have the quote's page open while the customer answers: it updates live.
    staff_page.goto(f"/quotes/{quote['id']}/")
    expect(staff_page.locator("#quote-status")).to_have_text("Awaiting answer")
    mark_page(staff_page)

    page.get_by_label("Type your full name to accept").fill("Grace Hopper")
    page.get_by_role("button", name="Accept and pay the deposit").click()

    # Straight on to the deposit invoice, payable at once.
    page.wait_for_url("**/pay/*/")
    wait_for_live_update(staff_page.locator("#quote-status"), "Accepted")
    expect(staff_page.locator("#quote-acceptance")).to_contain_text("Grace Hopper")
    assert_not_reloaded(staff_page)
    expect(pay_status(page)).to_contain_text("Amount due$300.00")
    assert_no_sideways_scroll(page, "deposit pay page")
    # Stripe's webhooks wait until the customer is back on the page (as in the pay tests),
    # so "Paid" can only arrive there live.
    simulator.configure(hold=True)
    form = open_payment_form(page)
    fields = card_fields(page)
    fields.get_by_label("Card number").fill(VISA)
    fields.get_by_label("Expiration date").fill("12 / 34")
    fields.get_by_label("Security code").fill("123")
    button = form.get_by_role("button", name=re.compile(r"^Pay "))
    expect(button).to_be_enabled()
    # On a phone the button sits below the fold: aim once the card frame has settled.
    button.scroll_into_view_if_needed()
    frame_settled(page, fields)
    button.click()
    wait_for_return(page)
    simulator.release()
    wait_for_live_update(pay_status(page), "Paid")
    assert_no_sideways_scroll(page, "paid deposit page")

    staff_page.goto(f"/quotes/{quote['id']}/")
    expect(staff_page.locator("#quote-status")).to_have_text("Accepted")
    expect(staff_page.locator("#quote-acceptance")).to_contain_text("Grace Hopper")
    expect(staff_page.locator("#quote-deposit")).to_contain_text("Paid")
    expect(staff_page.locator("#quote-deposit")).to_contain_text("$300.00")
