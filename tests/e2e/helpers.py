"""Helpers for the browser suite: what a QA person does, one call each.

The session fixture in `conftest.py` starts the stack (portal, Stripe simulator, mail
folder) and registers it here with `use()`, so the helpers need no stack argument:

    invoice = make_open_invoice(lines=[("Logo design", 1, "1200.00")])
    page.goto(invoice.pay_path)
    pay_with_card(page, VISA)
    wait_for_live_update(page.locator("#pay-status"), "Paid")
    receipt = last_email(to=invoice.customer_email, subject="Receipt")

Every wait here waits for a condition, with a timeout; none sleeps for a fixed time.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from playwright.sync_api import FrameLocator, Locator, Page, expect

from stripe_sim import cards
from stripe_sim.testing import SimulatorProcess
from tests.servers import Deployment, DjangoShell, PortalServer

# The staff user the session seeds (a plain staff member, not a superuser).
STAFF_USERNAME = "qa.staff"
STAFF_PASSWORD = "Quality-Assured-2026"
STAFF_EMAIL = "qa.staff@acme.test"
BUSINESS_NAME = "Acme Studio QA"
BUSINESS_EMAIL = "billing@acme.test"


def spaced(number: str) -> str:
    """As a person types a card number: groups of four."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


# Stripe test cards (stripe_sim/cards.py, stripe_sim/README.md).
VISA = spaced(cards.VISA)
DECLINED = spaced(cards.DECLINED)
THREE_D_SECURE = spaced(cards.AUTHENTICATION_REQUIRED)
PROCESSING = cards.PROCESSING_CARD_DISPLAY  # simulator only: processing, then succeeded

# How long a live update (SSE), a webhook or an email may take. Generous, because two
# cores are shared with other work; a passing run never waits for the whole of it.
LIVE_TIMEOUT_MS = 15_000
WAIT_SECONDS = 15.0


# -- the running stack --------------------------------------------------------------


@dataclass
class Stack:
    deployment: Deployment
    portal: PortalServer
    sim: SimulatorProcess
    mail_dir: Path
    shell: DjangoShell  # runs Django code in the deployment (seeding, checking the database)

    @property
    def webhook_url(self) -> str:
        return f"{self.portal.url}/invoices/wh/"


_stack: Stack | None = None


def use(stack: Stack | None) -> None:
    """Called by the session fixture: the stack the helpers below talk to."""
    global _stack
    _stack = stack


def stack() -> Stack:
    if _stack is None:
        raise RuntimeError("the e2e stack is not running (use the fixtures in tests/e2e)")
    return _stack


def wait_until[T](condition: Callable[[], T], *, timeout: float = WAIT_SECONDS, what: str) -> T:
    """Poll `condition` until it returns something truthy (for things outside the
    browser: files, the database, the simulator; in the page use `expect`)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)  # the poll interval of a condition wait, not a fixed delay


# -- staff ---------------------------------------------------------------------------


def sign_in(page: Page, username: str = STAFF_USERNAME, password: str = STAFF_PASSWORD) -> None:
    """Sign in through the login form (from the login page the browser is on, or a fresh one)."""
    if "/accounts/login/" not in page.url:
        page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def flash_messages(page: Page) -> Locator:
    """The "Invoice emailed to ..." style messages at the top of a staff page."""
    return page.locator("main ul.messages")


def accept_next_confirm(page: Page) -> None:
    """htmx asks `hx-confirm` questions with the browser's confirm(): say yes to the next one.
    (Playwright dismisses dialogs by default, which answers no.)"""
    page.once("dialog", lambda dialog: dialog.accept())


# -- customers' invoices, seeded straight into the deployment's database ------------------


@dataclass(frozen=True)
class Invoice:
    id: int
    token: str
    number: str
    total: int  # minor units (cents)
    total_text: str  # as the pages show it, e.g. "$1,250.00"
    customer_name: str
    customer_email: str

    @property
    def pay_path(self) -> str:
        return f"/pay/{self.token}/"

    @property
    def pay_url(self) -> str:
        return stack().portal.url + self.pay_path

    @property
    def staff_path(self) -> str:
        return f"/invoices/{self.id}/"


MAKE_OPEN_INVOICE = """
from decimal import Decimal
from customers.models import Customer
from invoices.models import Invoice, InvoiceLine
from invoices.services import finalize_invoice, send_invoice
from portal.i18n import format_money_in
spec = json.loads({spec!r})
customer = Customer.objects.create(
    name=spec["name"], email=spec["email"], company="Globex QA",
    address_line1="1 Test Street", city="Springfield", country="US",
    language=spec["language"],
)
invoice = Invoice(customer=customer, currency=spec["currency"])
invoice.apply_terms()
invoice.save()
for position, (description, quantity, unit_amount) in enumerate(spec["lines"]):
    InvoiceLine.objects.create(
        invoice=invoice, position=position, description=description,
        quantity=Decimal(str(quantity)), unit_amount=unit_amount, tax_rate=Decimal(0),
    )
invoice.recalculate()
invoice.save()
if spec["finalize"]:
    invoice = finalize_invoice(invoice=invoice)
if spec["send"]:
    send_invoice(invoice=invoice)
result = {{
    "id": invoice.pk, "token": invoice.pay_token, "number": invoice.number or "",
    "total": invoice.total,
    "total_text": format_money_in(invoice.total, invoice.currency, customer.language or "en"),
    "customer_name": customer.name, "customer_email": customer.email,
}}
"""


DEFAULT_LINES = (("Website design", 1, "1200.00"), ("Hosting (months)", 12, "25.00"))


def make_open_invoice(
    lines: Sequence[tuple[str, float | int | str, str]] = DEFAULT_LINES,
    *,
    customer_name: str | None = None,
    send: bool = False,
    finalize: bool = True,
    currency: str = "USD",
    language: str = "",
) -> Invoice:
    """A finalized, unpaid invoice for a brand-new customer (each test gets its own),
    by default $1,500.00.

    `lines`: (description, quantity, unit price in dollars). `send=True` also emails it.
    `language`: the customer's ("" = the business default); `total_text` is in it.
    """
    tag = uuid.uuid4().hex[:8]
    spec = {
        "name": customer_name or f"Customer {tag}",
        "email": f"customer-{tag}@example.com",
        "lines": [(d, str(q), _cents(p)) for d, q, p in lines],
        "send": send,
        "finalize": finalize,
        "currency": currency,
        "language": language,
    }
    data = stack().shell.run(MAKE_OPEN_INVOICE.format(spec=json.dumps(spec)))
    return Invoice(**data)


def make_draft_invoice(
    lines: Sequence[tuple[str, float | int | str, str]] = DEFAULT_LINES,
    *,
    customer_name: str | None = None,
) -> Invoice:
    """A draft (no number yet, editable in the editor) for a brand-new customer."""
    return make_open_invoice(lines, customer_name=customer_name, finalize=False)


def _cents(dollars: str) -> int:
    whole, _, fraction = dollars.partition(".")
    return int(whole.replace(",", "")) * 100 + int((fraction + "00")[:2])


def invoice_state(invoice: Invoice | int) -> dict[str, Any]:
    """The invoice as the database has it: status, amounts and its payments."""
    pk = invoice if isinstance(invoice, int) else invoice.id
    code = f"""
from invoices.models import Invoice
invoice = Invoice.objects.get(pk={pk})
result = {{
    "status": invoice.status, "payment_state": invoice.payment_state,
    "amount_paid": invoice.amount_paid, "amount_due": invoice.amount_due,
    "amount_refunded": invoice.amount_refunded,
    "payments": list(invoice.payments.values("status", "amount", "amount_refunded",
                                            "stripe_payment_intent_id")),
}}
"""
    return stack().shell.run(code)


# -- email ---------------------------------------------------------------------------

SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what Django's file backend writes after each message


@dataclass
class Email:
    to: list[str]
    subject: str
    text: str
    html: str
    links: list[str]
    attachments: list[str] = field(default_factory=list)  # file names
    message: EmailMessage | None = field(default=None, repr=False)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def _parse(raw: bytes) -> Email:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part else ""
    html = html_part.get_content() if html_part else ""
    parser = _Links()
    parser.feed(html)
    links = list(dict.fromkeys(parser.links + re.findall(r"https?://[^\s<>\"')]+", text)))
    return Email(
        to=[address.strip() for address in str(message["To"] or "").split(",")],
        subject=str(message["Subject"] or ""),
        text=text,
        html=html,
        links=links,
        attachments=[part.get_filename() or "" for part in message.iter_attachments()],
        message=message,
    )


def all_emails() -> list[Email]:
    """Every email the portal has sent, oldest first (complete messages only)."""
    folder = stack().mail_dir
    if not folder.exists():
        return []
    files = sorted(folder.glob("*.log"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    found = []
    for path in files:
        # The last chunk is empty, or a message still being written: skip it.
        for chunk in path.read_bytes().split(SEPARATOR)[:-1]:
            if chunk.strip():
                found.append(_parse(chunk))
    return found


def last_email(*, to: str, subject: str = "", timeout: float = WAIT_SECONDS) -> Email:
    """The newest email to `to` (whose subject contains `subject`), waiting for it to arrive."""

    def newest() -> Email | None:
        matching = [
            mail
            for mail in all_emails()
            if any(
                to.lower() == address.lower() or f"<{to.lower()}>" in address.lower()
                for address in mail.to
            )
            and subject.lower() in mail.subject.lower()
        ]
        return matching[-1] if matching else None

    return wait_until(newest, timeout=timeout, what=f"an email to {to} about {subject!r}")


def emails_to(to: str) -> list[Email]:
    return [m for m in all_emails() if any(to.lower() in a.lower() for a in m.to)]


def follow_email_link(page: Page, mail: Email, contains: str = "/pay/") -> str:
    """Open the email's link to the portal (by default its pay link) in `page`."""
    portal = stack().portal.url
    links = [link for link in mail.links if link.startswith(portal) and contains in link]
    assert links, f"no link to {portal} containing {contains!r} in {mail.subject!r}: {mail.links}"
    page.goto(links[0])
    return links[0]


# -- the customer's pay page ------------------------------------------------------------


def wait_for_live_update(
    locator: Locator, text: str | re.Pattern[str], timeout: float = LIVE_TIMEOUT_MS
) -> None:
    """Wait until a region that is updated live (over SSE) shows `text`."""
    expect(locator).to_contain_text(text, timeout=timeout)


def pay_status(page: Page) -> Locator:
    """The live status region of the pay page (amount due, processing, Paid + receipt)."""
    return page.locator("#pay-status")


CARD_FRAME = "iframe[title='Secure payment input frame']"


def card_fields(page: Page) -> FrameLocator:
    """The card fields: inside the Payment Element's cross-origin frame, as with Stripe."""
    return page.frame_locator(CARD_FRAME)


def open_payment_form(page: Page) -> Locator:
    """Click "Pay $X" and wait for the card fields (the simulator's Payment Element)."""
    page.locator("#pay-action").get_by_role("button", name=re.compile(r"^Pay ")).click()
    form = page.locator("[data-payment-form]")
    expect(card_fields(page).get_by_label("Card number")).to_be_visible()
    return form


def frame_settled(page: Page, frame: FrameLocator) -> None:
    """Wait until the Payment Element's frame has grown to its form: a bank form changes
    height as it is filled in (the mandate, an error cleared), and the frame follows a
    message later, moving the Pay button under a pointer that aimed at it before."""
    outer = page.locator("[data-payment-element] iframe")

    def heights() -> tuple[int, int]:
        inner = frame.locator("html").evaluate("e => Math.ceil(e.getBoundingClientRect().height)")
        return inner, round(outer.evaluate("e => e.getBoundingClientRect().height"))

    for _ in range(50):
        inner, framed = heights()
        if inner == framed:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the payment frame never settled: content {inner}px, frame {framed}px")


def pay_with_card(page: Page, number: str, exp: str = "12 / 34", cvc: str = "123") -> None:
    """On the pay page: open the card form if needed, type the card and press Pay.

    Returns once the payment is submitted; what happens next (a redirect back with
    `?payment_intent=`, the 3-D Secure page, an inline error) is for the test to check.
    """
    form = page.locator("[data-payment-form]")
    if form.count() == 0:
        form = open_payment_form(page)
    fields = card_fields(page)
    fields.get_by_label("Card number").fill(number)
    fields.get_by_label("Expiration date").fill(exp)
    fields.get_by_label("Security code").fill(cvc)
    submit = form.get_by_role("button", name=re.compile(r"^Pay "))
    expect(submit).to_be_enabled()
    submit.scroll_into_view_if_needed()
    frame_settled(page, fields)  # a pointer aimed before the frame grew would miss
    submit.click()


def wait_for_return(page: Page) -> None:
    """After paying: Stripe.js has sent the browser back to the pay page."""
    page.wait_for_url(re.compile(r"/pay/[^/]+/\?payment_intent=pi_"))


def tab_to(page: Page, target: Locator, *, max_presses: int = 40) -> None:
    """Press Tab (as a keyboard-only user does) until `target` has the focus."""
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} never got the focus in {max_presses} presses of Tab")


def mark_page(page: Page) -> None:
    """Remember this document; `assert_not_reloaded` fails if the browser navigated since."""
    page.evaluate("window.__e2eMark = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__e2eMark === true"), "the page was reloaded"


# -- the simulator ------------------------------------------------------------------------


def payment_intent_of(invoice: Invoice) -> str:
    """The id of the invoice's current PaymentIntent (set once the customer pressed Pay)."""
    state = invoice_state(invoice)
    ids = [
        p["stripe_payment_intent_id"] for p in state["payments"] if p["stripe_payment_intent_id"]
    ]
    assert ids, f"no card payment started for invoice {invoice.number}"
    return ids[-1]


def events_for(intent_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
    """The simulator's events about one PaymentIntent (or its charge), oldest first."""

    def about(event: dict[str, Any]) -> bool:
        obj = event["data"]["object"]
        return intent_id in (obj.get("id"), obj.get("payment_intent"))

    return [e for e in stack().sim.events(event_type) if about(e)]
