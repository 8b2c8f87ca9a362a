"""Scenario 9: Stripe's webhooks arrive late, out of order and twice; the invoice is
paid exactly once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.e2e.helpers import (
    VISA,
    emails_to,
    events_for,
    invoice_state,
    make_open_invoice,
    pay_status,
    pay_with_card,
    payment_intent_of,
    wait_for_live_update,
    wait_for_return,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_webhooks_out_of_order_and_twice_record_one_payment(
    page: Page, staff_page: Page, simulator: SimulatorProcess
) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)

    # Stripe holds every event while the customer pays.
    simulator.configure(hold=True)
    pay_with_card(page, VISA)
    wait_for_return(page)
    intent = payment_intent_of(invoice)
    succeeded = events_for(intent, "payment_intent.succeeded")
    assert len(succeeded) == 1
    held = simulator.get("/_sim/deliveries")["held"]
    assert succeeded[0]["id"] in held
    # Not booked before the webhook: the return page says so (and offers no Pay button).
    expect(pay_status(page)).to_contain_text("Payment being recorded")

    # Then sends them newest first: payment_intent.succeeded before charge.succeeded
    # and before payment_intent.created ...
    assert simulator.release(order="reverse") >= 3
    order = [
        events_for(intent, "payment_intent.succeeded")[0],
        events_for(intent, "charge.succeeded")[0],
        events_for(intent, "payment_intent.created")[0],
    ]
    arrived = [simulator.wait_for_delivery(event_id=event["id"]) for event in order]
    assert [d["id"] for d in sorted(arrived, key=lambda d: d["created"])] == [
        d["id"] for d in arrived
    ], "the events did not arrive newest first"
    wait_for_live_update(pay_status(page), "Paid")

    # ... and delivers payment_intent.succeeded once more.
    simulator.redeliver(succeeded[0])
    again = simulator.wait_for_deliveries(2, ok=True, event_id=succeeded[0]["id"])[-1]
    assert again["redelivery"]
    assert again["response_body"] == "duplicate"

    # One payment of the full amount; still paid; one receipt.
    state = invoice_state(invoice)
    assert state["status"] == "paid"
    assert state["amount_paid"] == invoice.total
    assert state["amount_due"] == 0
    assert [p["status"] for p in state["payments"]] == ["succeeded"]
    receipts = wait_until(
        lambda: [m for m in emails_to(invoice.customer_email) if m.subject.startswith("Receipt")],
        what="the receipt email",
    )
    assert len(receipts) == 1, [m.subject for m in receipts]

    page.reload()
    expect(pay_status(page)).to_contain_text("Paid")
    expect(page.locator("#receipt")).to_contain_text(f"We received {invoice.total_text}")

    staff = staff_page  # a staff member, signed in, in their own browser
    staff.goto(invoice.staff_path)
    expect(staff.locator(f"#invoice-status-{invoice.id}")).to_contain_text("Paid")
    rows = staff.get_by_role("region", name="Payments", exact=True).get_by_role("row")
    expect(rows).to_have_count(2)  # the header and one payment
    expect(rows.nth(1)).to_contain_text("Succeeded")
    expect(rows.nth(1)).to_contain_text(invoice.total_text)
