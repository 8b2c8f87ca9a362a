"""Live updates that follow each other closely must all reach the page.

The pay page's stream sends the current state as soon as it connects; when the payment's
webhook lands a moment later, its update follows within milliseconds (the normal case
when Stripe.js brings the customer back). Stripe also sends charge.succeeded and
payment_intent.succeeded together, and each updates the staff pages. Here the streams are
replayed with the portal's own renderings (unpaid, then paid) sent back to back, so the
timing is exact: the page must end on the second one.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.helpers import make_open_invoice, pay_status, stack, wait_for_live_update

pytestmark = pytest.mark.e2e

RENDER_BOTH = """
from invoices.pay.live import render_customer_status
from invoices.models import Invoice
invoice = Invoice.objects.select_related("customer").get(pk={pk})
unpaid = render_customer_status(invoice)
invoice.status, invoice.amount_paid, invoice.amount_due = "paid", invoice.total, 0
result = [unpaid, render_customer_status(invoice)]  # rendered only, nothing saved
"""

RENDER_ROWS = """
from invoices.staff.live import staff_messages
from invoices.models import Invoice
invoice = Invoice.objects.select_related("customer").get(pk={pk})
unpaid = staff_messages(invoice)
invoice.status, invoice.amount_paid, invoice.amount_due = "paid", invoice.total, 0
result = [unpaid, staff_messages(invoice)]  # [(event, html), ...] twice; nothing saved
"""


def replay(page: Page, url: str, body: str) -> None:
    """Answer the page's EventSource at `url` with `body`, once (no reconnect for a minute)."""

    def fulfill(route: Route) -> None:
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body)

    page.route(url, fulfill)


def sse(event_id: int, event: str, html: str) -> str:
    data = "".join(f"data: {line}\n" for line in html.splitlines())
    return f"id: {event_id}\nevent: {event}\n{data}\n"


def test_an_update_right_after_the_initial_state_is_not_lost(page: Page) -> None:
    invoice = make_open_invoice()
    unpaid, paid = stack().shell.run(RENDER_BOTH.format(pk=invoice.id))
    assert "Amount due" in unpaid
    assert "Paid" in paid
    body = "retry: 60000\n\n" + sse(1, "status", unpaid) + sse(2, "status", paid)
    replay(page, f"**/pay/{invoice.token}/events/", body)

    page.goto(invoice.pay_path)

    wait_for_live_update(pay_status(page), "Paid")


def test_two_updates_of_a_dashboard_row_in_a_row_both_arrive(staff_page: Page) -> None:
    invoice = make_open_invoice()
    unpaid, paid = stack().shell.run(RENDER_ROWS.format(pk=invoice.id))
    row_event = f"invoice-{invoice.id}-row"
    rows = [html for event, html in unpaid + paid if event == row_event]
    body = "retry: 60000\n\n" + sse(1, row_event, rows[0]) + sse(2, row_event, rows[1])
    replay(staff_page, "**/live/staff/**", body)

    staff_page.goto(f"/?q={invoice.number}")

    row = staff_page.locator(f"#invoice-row-{invoice.id}")
    expect(row).to_be_visible()
    wait_for_live_update(row, "Paid")
