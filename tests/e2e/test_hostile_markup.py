"""Stored markup never acts: the privilege-escalation payload, opened by a superuser.

A staff member writes htmx attributes and scripts into an invoice (memo, footer,
lines, customer). A superuser then opens the email previews and the invoice;
the customer opens the pay page. Nothing the payload asks for may happen: no
request leaves the page, the staff member stays staff, the invoice stays open.
"""

from __future__ import annotations

import json
import secrets
import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.helpers import invoice_state, make_open_invoice, sign_in, stack

pytestmark = pytest.mark.e2e

KINDS = ("invoice", "receipt", "reminder", "refund", "void")
# As reported: a stored div that makes the superuser's browser post the admin's user form.
ESCALATE = (
    '<div hx-post="/admin/auth/user/USER/change/" hx-trigger="load" hx-swap="none" '
    """hx-vals='{"username": "MALLORY", "is_active": "on", "is_staff": "on", """
    '"is_superuser": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00"}\'></div>'
)
VOID = '<div hx-post="/invoices/INVOICE/void/" hx-trigger="load">void</div>'
SCRIPT = "<script>fetch('/invoices/INVOICE/void/', {method: 'POST'})</script>"
BREAKOUT = """"><img src=x onerror="fetch('/invoices/INVOICE/void/', {method: 'POST'})">"""

PLANT = """
from django.contrib.auth import get_user_model
from customers.models import Customer
from invoices.models import Invoice
User = get_user_model()
spec = json.loads({spec!r})
mallory = User.objects.create_user(spec["mallory"], password=spec["password"], is_staff=True)
User.objects.create_superuser(spec["root"], email="root@acme.test", password=spec["password"])
invoice = Invoice.objects.get(pk=spec["invoice"])
def fill(text):
    return text.replace("USER", str(mallory.pk)).replace("INVOICE", str(invoice.pk)).replace(
        "MALLORY", mallory.username
    )
invoice.memo = fill(spec["long"])
invoice.footer = fill(spec["long"])
invoice.save(update_fields=["memo", "footer"])
invoice.lines.update(description=fill(spec["short"]))
Customer.objects.filter(pk=invoice.customer_id).update(company=fill(spec["short"]))
result = mallory.pk
"""

IS_SUPERUSER = """
from django.contrib.auth import get_user_model
result = get_user_model().objects.get(pk={pk}).is_superuser
"""


def watch_requests(page: Page) -> list[str]:
    """Every request the page makes besides loading pages and assets, and besides the
    invoice page refreshing itself on a live update (an htmx GET of its own URL)."""
    seen: list[str] = []

    def record(request: Request) -> None:
        if request.method == "GET" and request.resource_type not in ("fetch", "xhr"):
            return
        if request.method == "GET" and urlsplit(request.url).path == urlsplit(page.url).path:
            return
        seen.append(f"{request.method} {request.url}")

    page.on("request", record)
    return seen


def test_stored_markup_does_not_act_for_a_superuser(page: Page, new_context) -> None:
    invoice = make_open_invoice()
    tag = uuid.uuid4().hex[:8]
    password = secrets.token_urlsafe(16)
    spec = {
        "mallory": f"mallory-{tag}",
        "root": f"root-{tag}",
        "password": password,
        "invoice": invoice.id,
        "long": ESCALATE + VOID + SCRIPT + BREAKOUT,
        "short": VOID,
    }
    mallory = stack().shell.run(PLANT.format(spec=json.dumps(spec)))

    admin = new_context().new_page()
    sign_in(admin, spec["root"], password)
    fired = watch_requests(admin)
    for kind in KINDS:
        admin.goto(f"/invoices/{invoice.id}/emails/{kind}/")
        if kind == "invoice":  # the one whose text part carries the memo
            # The plain-text part shows the payload as text, not as elements.
            expect(admin.locator("#email-text")).to_contain_text('hx-post="/admin/auth/user/')
        # The page runs htmx with eval, script tags and other origins turned off.
        config = admin.evaluate(
            "[htmx.config.allowEval, htmx.config.allowScriptTags, htmx.config.selfRequestsOnly,"
            " htmx.config.historyCacheSize]"
        )
        assert config == [False, False, True, 0]
        admin.wait_for_timeout(300)  # `load` triggers fire as htmx processes the page
    admin.goto(invoice.staff_path)
    expect(admin.get_by_text("hx-post=", exact=False).first).to_be_visible()
    admin.wait_for_timeout(300)

    customer_fired = watch_requests(page)
    page.goto(invoice.pay_path)
    expect(page.get_by_text("hx-post=", exact=False).first).to_be_visible()
    page.wait_for_timeout(300)

    assert fired == []
    assert [request for request in customer_fired if "/void/" in request] == []
    assert stack().shell.run(IS_SUPERUSER.format(pk=mallory)) is False
    assert invoice_state(invoice)["status"] == "open"
