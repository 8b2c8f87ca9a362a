"""The quote editor in a browser: the invoice editor's autosave, catalog and undo, on a
draft quote; the deposit is saved with the lines."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import stack, wait_until

pytestmark = pytest.mark.e2e

MAKE_DRAFT = """
import json
from decimal import Decimal
from django.utils import timezone
from customers.models import Customer
from invoices.models import CatalogItem
from invoices.quotes import QuoteContent, create_quote, save_quote
spec = json.loads({spec!r})
customer = Customer.objects.create(name=spec["name"], email=spec["email"], country="US")
quote = create_quote(customer=customer, currency="USD", terms="net_30", footer="", actor=None)
content = QuoteContent(
    header={{
        "currency": "USD", "issue_date": timezone.localdate(), "terms": "net_30",
        "discount_kind": "", "discount": Decimal(0), "memo": "", "footer": "",
    }},
    lines=[{{"description": "Cabinets", "quantity": Decimal(1), "unit_amount": 80000,
             "tax_rate": Decimal(0)}}],
    expires_on=None, deposit_kind="", deposit_value=Decimal(0),
)
save_quote(quote=quote, content=content)
CatalogItem.objects.create(name=spec["item"], unit_amount=4500, currency="USD")
result = {{"id": quote.pk}}
"""


def saved(quote_id: int) -> dict:
    code = f"""
from invoices.models import Quote
quote = Quote.objects.get(pk={quote_id})
result = {{"lines": [[line.description, line.unit_amount] for line in quote.lines.all()],
          "total": quote.total, "deposit": quote.deposit_amount, "status": quote.status}}
"""
    return stack().shell.run(code)


def test_a_draft_quote_autosaves_picks_from_the_catalog_and_undoes_a_removal(
    staff_page: Page,
) -> None:
    page = staff_page
    tag = uuid.uuid4().hex[:8]
    item = f"Fitting hour {tag}"
    spec = {"name": f"Quote customer {tag}", "email": f"q-{tag}@example.com", "item": item}
    quote = stack().shell.run(MAKE_DRAFT.format(spec=json.dumps(spec)))["id"]
    page.goto(f"/quotes/{quote}/edit/")

    # Autosave: a changed price is saved without pressing anything.
    page.get_by_label("Unit price of line 1").fill("900.00")
    page.keyboard.press("Tab")
    wait_until(lambda: saved(quote)["total"] == 90000, what="the autosaved price")
    expect(page.locator("#editor-status")).to_have_text("All changes saved.")

    # The deposit is the quote's own field, saved the same way.
    page.get_by_label("Deposit", exact=True).select_option("percent")
    page.get_by_label("Deposit amount or %").fill("10")
    page.keyboard.press("Tab")
    wait_until(lambda: saved(quote)["deposit"] == 9000, what="the autosaved deposit")
    expect(page.locator("#editor-status")).to_have_text("All changes saved.")

    # A catalog item, suggested as the description is typed, fills a new line.
    with page.expect_response(re.compile(r"/lines/add/")):
        page.get_by_role("button", name="+ Add line").click()
    page.get_by_label("Description of line 2").fill(tag)
    page.get_by_role("button", name=item).click()
    wait_until(lambda: [item, 4500] in saved(quote)["lines"], what="the picked item")

    # Removed, then brought back with Undo.
    page.get_by_role("button", name="Remove line 1").click()
    wait_until(lambda: saved(quote)["lines"] == [[item, 4500]], what="the removal")
    page.get_by_role("button", name="Undo").click()
    wait_until(
        lambda: saved(quote)["lines"] == [["Cabinets", 90000], [item, 4500]], what="the undo"
    )
    expect(page.get_by_label("Description of line 1")).to_have_value("Cabinets")
    assert saved(quote)["status"] == "draft"
