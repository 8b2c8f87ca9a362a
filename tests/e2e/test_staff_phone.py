"""Every staff page on a 360 px phone: no sideways page scroll. A wide table scrolls
inside its own box; nothing (not even a visually hidden label) pokes out of it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import make_open_invoice, stack
from tests.e2e.test_accessibility import assert_no_serious_violations

pytestmark = pytest.mark.e2e

WIDTH = 360
# One unbroken word: the worst a customer's name can do to a layout.
LONG_NAME = "Aktiengesellschaftfürinternationalezusammenarbeit"

SEED = """
from decimal import Decimal
from django.utils import timezone
from customers.models import Customer
from invoices.models import CatalogItem, Invoice, TaxRate
from invoices.quotes import QuoteContent, create_quote, save_quote, send_quote
from invoices.recurring_models import RecurringLine, RecurringTemplate
from invoices.services import record_offline_payment
invoice = Invoice.objects.get(pk={invoice_id})
customer = invoice.customer
today = timezone.localdate()
record_offline_payment(
    invoice=invoice, amount=12345, method="bank_transfer", received_on=today,
    reference="Transfer reference " + "9" * 40,
)
rate, _ = TaxRate.objects.get_or_create(name="Sales tax CA 7.25%", percent=Decimal("7.25"))
CatalogItem.objects.create(
    name="Phone layout item " + {name!r}, description="Senior designer per hour",
    unit_amount=1999, currency="USD", tax_rate=rate,
)
template = RecurringTemplate.objects.create(customer=customer, start_date=today)
RecurringLine.objects.create(
    template=template, position=0, description="Hosting", quantity=Decimal(1),
    unit_amount=2500, tax_rate=Decimal(0),
)
quote = create_quote(customer=customer, currency="USD", terms="net_30", footer="", actor=None)
content = QuoteContent(
    header={{
        "currency": "USD", "issue_date": today, "terms": "net_30",
        "discount_kind": "", "discount": Decimal(0), "memo": "Kitchen refit", "footer": "",
    }},
    lines=[{{"description": "Cabinets", "quantity": Decimal(1), "unit_amount": 80000,
             "tax_rate": Decimal(0)}}],
    expires_on=today + timezone.timedelta(days=30),
    deposit_kind="", deposit_value=Decimal(0),
)
send_quote(quote=save_quote(quote=quote, content=content))
result = customer.pk
"""


def page_width(page: Page) -> tuple[int, int, int]:
    return page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )


def widest(page: Page) -> str:
    """The outermost elements that stick out of the window and are not held by a
    scroll box of their own, for the failure message."""
    return page.evaluate(
        """() => {
            const limit = window.innerWidth;
            const held = (el) => {
                for (let up = el.parentElement; up; up = up.parentElement) {
                    const x = getComputedStyle(up).overflowX;
                    if (x !== 'visible' && up.getBoundingClientRect().right <= limit) return true;
                }
                return false;
            };
            const out = (el) => el.getBoundingClientRect().right > limit + 0.5 && !held(el);
            const name = (el) => {
                const cls = el.className && typeof el.className === 'string'
                    ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
                return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls;
            };
            const found = [];
            for (const el of document.querySelectorAll('body *')) {
                if (!out(el) || (el.parentElement && out(el.parentElement))) continue;
                const where = el.parentElement ? name(el.parentElement) + ' > ' : '';
                found.push(where + name(el) + ' to '
                    + Math.round(el.getBoundingClientRect().right) + 'px');
            }
            return found.slice(0, 5).join(', ');
        }"""
    )


def test_no_staff_page_scrolls_sideways_on_a_phone(staff_page: Page) -> None:
    invoice = make_open_invoice(customer_name=LONG_NAME)
    customer_id = stack().shell.run(SEED.format(invoice_id=invoice.id, name=LONG_NAME))
    page = staff_page
    page.set_viewport_size({"width": WIDTH, "height": 780})
    pages = {
        "the invoice list": ("/", invoice.number),
        "the invoice page": (invoice.staff_path, invoice.number),
        "the customers list": ("/customers/", LONG_NAME),
        "the customer page": (f"/customers/{customer_id}/", LONG_NAME),
        "the payments ledger": ("/payments/", invoice.number),
        "the receivables": ("/receivables/", LONG_NAME),
        "the quotes": ("/quotes/", LONG_NAME),
        "the catalog": ("/catalog/", "Phone layout item"),
        "the recurring invoices": ("/recurring/", LONG_NAME),
    }
    wide = []
    for what, (path, shown) in pages.items():
        response = page.goto(path)
        assert response is not None, f"{what}: {path}"
        assert response.status == 200, f"{what}: {path} answered {response.status}"
        expect(page.get_by_text(shown).first).to_be_attached()
        document, body, window = page_width(page)
        if max(document, body) > window:
            wide.append(f"{what} ({path}) is {max(document, body)}px: {widest(page)}")
    assert not wide, "\n".join(wide)


def test_the_scroll_boxes_stay_reachable_by_keyboard_on_a_phone(staff_page: Page) -> None:
    """A box that scrolls must be focusable (axe: scrollable-region-focusable) when
    nothing in it is, or a keyboard user cannot see its right-hand columns."""
    invoice = make_open_invoice(customer_name=LONG_NAME)
    customer_id = stack().shell.run(SEED.format(invoice_id=invoice.id, name=LONG_NAME))
    page = staff_page
    page.set_viewport_size({"width": WIDTH, "height": 780})
    for what, path in (
        ("the invoice page", invoice.staff_path),
        ("the customer page", f"/customers/{customer_id}/"),
    ):
        page.goto(path)
        assert_no_serious_violations(page, f"{what} at {WIDTH}px")
