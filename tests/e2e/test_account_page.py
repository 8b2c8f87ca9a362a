"""A customer pays two invoices at once from their account page, on a phone, and staff
watch both flip to Paid live on the dashboard."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    VISA,
    assert_not_reloaded,
    card_fields,
    mark_page,
    stack,
    wait_for_live_update,
)

pytestmark = pytest.mark.e2e

MAKE_CUSTOMER_WITH_TWO_INVOICES = """
import uuid
from datetime import date, timedelta
from decimal import Decimal
from customers.models import Customer
from invoices.models import Invoice, InvoiceLine
from invoices.services import finalize_invoice
tag = uuid.uuid4().hex[:8]
customer = Customer.objects.create(name=f"Two Invoices {tag}", email=f"two-{tag}@example.com")
made = []
for days_ago, cents in ((40, 120000), (10, 30000)):
    invoice = Invoice(
        customer=customer, currency="USD", issue_date=date.today() - timedelta(days=days_ago)
    )
    invoice.apply_terms()
    invoice.save()
    InvoiceLine.objects.create(
        invoice=invoice, position=0, description="Work", quantity=Decimal(1),
        unit_amount=cents, tax_rate=Decimal(0),
    )
    invoice.recalculate()
    invoice.save()
    made.append(finalize_invoice(invoice=invoice))
result = {
    "customer": customer.pk, "token": customer.account_token,
    "invoices": [{"id": i.pk, "number": i.number} for i in made],
}
"""


def test_a_customer_pays_two_invoices_at_once_and_staff_see_both_paid_live(
    page: Page, staff_page: Page
) -> None:
    made = stack().shell.run(MAKE_CUSTOMER_WITH_TWO_INVOICES)
    older, newer = made["invoices"]

    staff = staff_page
    staff.goto(f"/?customer={made['customer']}")
    rows = [staff.locator(f"#invoice-row-{i['id']}") for i in (older, newer)]
    for row in rows:
        expect(row).to_contain_text(re.compile("Open|Overdue"))
    mark_page(staff)

    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"/account/{made['token']}/")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    narrowest = page.evaluate("document.documentElement.scrollWidth")
    assert narrowest <= 320, f"the page scrolls sideways at 320px ({narrowest}px)"
    page.set_viewport_size({"width": 375, "height": 800})
    # The older (overdue) invoice is listed first, both chosen by default.
    boxes = page.locator("input[name=invoice]")
    expect(boxes).to_have_count(2)
    assert [boxes.nth(n).get_attribute("value") for n in range(2)] == [
        str(older["id"]),
        str(newer["id"]),
    ]
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator("[data-group-total]")).to_have_text("$1,500.00")
    fields = card_fields(page)
    fields.get_by_label("Card number").fill(VISA)
    fields.get_by_label("Expiration date").fill("12 / 34")
    fields.get_by_label("Security code").fill("123")
    # Phones first: nothing wider than the screen, the card form included.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"
    submit = page.locator("[data-payment-form]").get_by_role("button", name=re.compile(r"^Pay "))
    expect(submit).to_have_text("Pay $1,500.00")
    expect(submit).to_be_enabled()
    submit.click()
    page.wait_for_url(re.compile(r"/account/[^/]+/\?payment_intent=pi_"))

    for row in rows:
        wait_for_live_update(row, "Paid")
    assert_not_reloaded(staff)

    # The account page catches up too: nothing left to pay, both among the paid.
    expect(page.locator("#nothing-open")).to_be_visible(timeout=15_000)
    for invoice in (older, newer):
        expect(page.locator(f"#account-paid-{invoice['id']}")).to_be_visible()
    booked = stack().shell.run(
        "from invoices.models import Payment\n"
        f"ids = {json.dumps([older['id'], newer['id']])}\n"
        "result = sorted(Payment.objects.filter(invoice_id__in=ids)"
        ".values_list('invoice_id', 'amount'))"
    )
    assert [tuple(b) for b in booked] == [(older["id"], 120000), (newer["id"], 30000)]
