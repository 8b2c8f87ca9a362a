"""Autopay in a real browser: the customer saves their card while paying the first invoice of
a monthly recurring template; next month's invoice is charged to it off-session with no
customer action, and the customer's and the staff's open pages turn Paid live."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.e2e.helpers import (
    BUSINESS_NAME,
    VISA,
    assert_not_reloaded,
    follow_email_link,
    last_email,
    mark_page,
    open_payment_form,
    pay_status,
    pay_with_card,
    stack,
    wait_for_live_update,
    wait_for_return,
    wait_until,
)

pytestmark = pytest.mark.e2e

MONTHLY_TEMPLATE = """
from datetime import date
from customers.models import Customer
from invoices.recurring import create_template, run_recurring
spec = json.loads({spec!r})
customer = Customer.objects.create(name=spec["name"], email=spec["email"], country="US")
today = date.fromisoformat(spec["today"])
template = create_template(
    customer=customer, currency="USD", frequency="monthly", day_of_month=today.day,
    start_date=today, lines=[{{"description": "Monthly retainer", "unit_amount": 25000}}],
)
[invoice] = run_recurring(today=today).created
result = {{"customer": customer.pk, "template": template.pk, "number": invoice.number}}
"""

NEXT_MONTH = """
from datetime import date
from invoices.models import AutopayCharge
from invoices.recurring import run_recurring
created = run_recurring(today=date.fromisoformat({day!r})).created
[invoice] = [i for i in created if i.customer_id == {customer}]
charge = AutopayCharge.objects.get(invoice=invoice)
result = {{"id": invoice.pk, "number": invoice.number, "token": invoice.pay_token,
          "charge": charge.status}}
"""


def saved_methods(customer: int) -> list[dict]:
    code = f"""
from invoices.models import SavedPaymentMethod
result = list(SavedPaymentMethod.objects.filter(customer_id={customer})
              .values("brand", "last4", "autopay"))
"""
    return stack().shell.run(code)


def test_a_card_saved_on_the_first_invoice_pays_the_next_month_without_the_customer(
    page: Page, staff_page: Page, simulator: SimulatorProcess
) -> None:
    tag = uuid.uuid4().hex[:8]
    spec = {"name": f"Retainer {tag}", "email": f"retainer-{tag}@example.com"}
    spec["today"] = "2026-03-15"
    seeded = stack().shell.run(MONTHLY_TEMPLATE.format(spec=json.dumps(spec)))

    # Month one: the customer pays from the email and ticks "Save this card".
    first_email = last_email(to=spec["email"], subject=f"Invoice {seeded['number']}")
    follow_email_link(page, first_email)
    open_payment_form(page)
    save = page.get_by_label(f"Save this card/account for future invoices from {BUSINESS_NAME}")
    expect(page.locator("#save-method-consent")).to_contain_text(
        f"you authorise {BUSINESS_NAME} to send instructions"
    )
    save.check()
    pay_with_card(page, VISA)
    wait_for_return(page)
    wait_for_live_update(pay_status(page), "Paid")
    [method] = wait_until(lambda: saved_methods(seeded["customer"]), what="the saved card")
    assert method == {"brand": "visa", "last4": "4242", "autopay": True}

    # Staff see it on the customer's page.
    staff = staff_page
    staff.goto(f"/customers/{seeded['customer']}/")
    saved = staff.locator("#saved-methods")
    expect(saved).to_contain_text("Visa •••• 4242")
    expect(saved.locator("[data-autopay]")).to_have_text("on")

    # Month two (time travels to 15 April): Stripe takes the money at once; its webhooks
    # are held until both pages are open, so the change can only reach them live.
    simulator.configure(hold=True)
    second = stack().shell.run(NEXT_MONTH.format(day="2026-04-15", customer=seeded["customer"]))
    assert second["charge"] == "submitted"
    page.goto(f"/pay/{second['token']}/")
    expect(pay_status(page)).to_contain_text("Amount due")
    mark_page(page)
    staff.goto(f"/invoices/{second['id']}/")
    badge = staff.locator(f"#invoice-status-{second['id']} .badge").first
    expect(badge).not_to_have_text("Paid")
    mark_page(staff)

    simulator.release()

    wait_for_live_update(pay_status(page), "Paid")
    expect(page.locator("#receipt")).to_contain_text("Visa •••• 4242")
    assert_not_reloaded(page)
    wait_for_live_update(badge, "Paid")
    assert_not_reloaded(staff)
    receipt = last_email(to=spec["email"], subject=f"invoice {second['number']}")
    assert re.search(r"/pay/saved-methods/\S+/remove/", receipt.text)

    # On a phone, the customer removes the card from the receipt's link: autopay stops.
    page.set_viewport_size({"width": 320, "height": 640})
    follow_email_link(page, receipt, contains="/pay/saved-methods/")
    expect(page.get_by_text("Visa •••• 4242")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name="Remove this payment method").click()
    expect(page.locator("[data-saved-notice]")).to_contain_text("Removed")
    expect(page.locator("[data-no-saved-methods]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    wait_until(lambda: not saved_methods(seeded["customer"]), what="the card forgotten")
    staff.goto(f"/customers/{seeded['customer']}/")
    expect(staff.locator("#saved-methods")).to_contain_text("No saved payment method")
    expect(staff.locator("#saved-methods")).to_contain_text("Removed by customer")
