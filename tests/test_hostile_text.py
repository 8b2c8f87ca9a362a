"""Every user-written field carries markup and htmx attributes; every output shows it as text.

Staff pages, the customer's pages, the email previews, both parts of every
email, the PDFs and the CSV export are rendered with hostile values in every
field a person can write (customer, invoice, lines, payments, business
profile). In HTML the markup must only ever appear escaped; in plain text it
appears as written; in the PDF it is printed as text; in the CSV no cell can
start a formula.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from pypdf import PdfReader

from invoices.credit_notes import issue_credit_note
from invoices.documents import emails
from invoices.documents.credit_notes import send_credit_note_email
from invoices.documents.statements import send_statement_email
from invoices.email_log import EmailLog
from invoices.models import (
    BusinessProfile,
    InvoiceActivity,
    InvoiceFlag,
    Payment,
    SavedMethodActivity,
    SavedPaymentMethod,
    StripeEvent,
)
from invoices.pay import live as pay_live
from invoices.saved_methods import removal_token
from invoices.services import record_offline_payment
from invoices.staff import live as staff_live
from tests.factories import (
    CustomerFactory,
    InvoiceLineFactory,
    StaffFactory,
    make_draft,
    make_open,
)

pytestmark = pytest.mark.django_db

HTMX = '<div hx-post="/x" hx-trigger="load">htmx</div>'
SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
PAYLOAD = HTMX + SCRIPT + BREAKOUT
# Fields with a short column get what fits; each still opens a tag.
SHORT = SCRIPT + BREAKOUT[:20]
PREFIX = '@"><i>'  # the invoice number prefix: 12 characters at most

# What must never reach an HTML page unescaped.
RAW = [
    '<div hx-post="/x"',
    "<script>alert",
    "<img src=x",
    '"><i>',
    "<i>",
]
# What proves the field was rendered (as escaped text) at all.
ESCAPED = [
    "&lt;div hx-post=&quot;/x&quot; hx-trigger=&quot;load&quot;&gt;",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&lt;img src=x onerror=alert(1)&gt;",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Endless streams, the webhook (POST only) and the reset link (a signed user id):
# none of them shows user text.
SKIPPED = {"live_staff", "pay:events", "stripe_webhook", "password_reset_confirm"}


def hostile_world() -> dict[str, Any]:
    profile = BusinessProfile.load()
    profile.name = "Biz " + PAYLOAD
    profile.address = f"1 {PAYLOAD}\n2 {SCRIPT}"
    profile.tax_id = SHORT
    profile.default_footer = "Default footer " + PAYLOAD
    profile.number_prefix = PREFIX
    profile.save()

    customer = CustomerFactory(
        name="=HYPERLINK(1)" + PAYLOAD,
        company="Co " + PAYLOAD,
        address_line1=PAYLOAD,
        address_line2=PAYLOAD,
        city=PAYLOAD[:100],
        postal_code="<i>x</i>",
        state=SCRIPT,
        tax_id=SHORT,
    )
    texts = {"memo": "Memo " + PAYLOAD, "footer": "Footer " + PAYLOAD}
    invoice = make_open(customer=customer, **texts)
    invoice.lines.update(description="Line " + PAYLOAD)
    payment = Payment.objects.create(
        invoice=invoice,
        method=Payment.Method.ONLINE,
        status=Payment.Status.SUCCEEDED,
        amount=5000,
        currency=invoice.currency,
        amount_refunded=1000,
        card_brand=SCRIPT[:32],
        card_last4="4242",
        stripe_payment_intent_id="pi_hostile",
        reference=PAYLOAD,
        failure_message="Failed " + PAYLOAD,
    )
    Payment.objects.create(
        invoice=invoice,
        method=Payment.Method.BANK_TRANSFER,
        status=Payment.Status.SUCCEEDED,
        amount=1000,
        currency=invoice.currency,
        reference=PAYLOAD,
        received_on=date(2026, 1, 2),
    )
    invoice.add_payment(6000)
    invoice.last_payment_error = "Declined " + PAYLOAD
    invoice.save()
    InvoiceActivity.objects.create(
        invoice=invoice, kind=InvoiceActivity.Kind.UPDATED, message=PAYLOAD
    )
    flag = InvoiceFlag.objects.create(
        invoice=invoice, kind=InvoiceFlag.Kind.AMOUNT_MISMATCH, message=PAYLOAD
    )
    StripeEvent.objects.create(
        event_id="evt_hostile",
        type="payment_intent.succeeded",
        payload={"note": PAYLOAD},
        invoice=invoice,
        status="failed",
        error=PAYLOAD,
    )
    email_log = EmailLog.objects.create(
        key="hostile",
        kind="invoice",
        invoice=invoice,
        status=EmailLog.Status.FAILED,
        recipient=customer.email,
        subject="Subject " + PAYLOAD,
        last_error="Refused " + PAYLOAD,
    )
    paid = make_open(customer=customer, **texts)
    record_offline_payment(
        invoice=paid,
        amount=paid.amount_due,
        method=Payment.Method.CHECK,
        received_on=date(2026, 1, 3),
        reference=PAYLOAD,
    )
    draft = make_draft(customer=customer, **texts)
    InvoiceLineFactory(invoice=draft, description="Draft line " + PAYLOAD, position=9)
    note = issue_credit_note(invoice=invoice, amount=100, reason="Credit " + PAYLOAD)
    saved = SavedPaymentMethod.objects.create(
        customer=customer,
        stripe_payment_method_id="pm_hostile",
        stripe_customer_id="cus_hostile",
        method_type="sepa_debit",
        bank_name=PAYLOAD[:100],
        last4="3000",
    )
    SavedMethodActivity.objects.create(
        customer=customer, kind="saved", method_label=saved.label[:140], message=PAYLOAD
    )
    return {
        "customer": customer,
        "invoice": invoice,
        "draft": draft,
        "paid": paid,
        "email_log": email_log,
        "payment": payment,
        "flag": flag,
        "note": note,
        "saved": saved,
    }


def assert_escaped(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{where}: unescaped {raw!r}"
    assert any(escaped in html for escaped in ESCAPED), f"{where}: no user text rendered"


def staff_urls(world: dict[str, Any]) -> list[str]:
    """Every GET-able route of the portal, filled in for the hostile invoice / draft."""
    invoice, draft = world["invoice"], world["draft"]
    values = {
        "pk": invoice.pk,
        "payment_pk": world["payment"].pk,
        "flag_pk": world["flag"].pk,
        "email_pk": world["email_log"].pk,
        "note_pk": world["note"].pk,
        "method_pk": world["saved"].pk,
        "token": invoice.pay_token,
        "number": world["note"].number,
        "index": 0,
        "direction": "up",
    }
    urls = []
    for name, params in route_names(get_resolver()):
        if name in SKIPPED or name.startswith("admin:"):
            continue
        missing = set(params) - set(values) - {"kind"}
        assert not missing, f"{name}: give this test a value for {missing}"
        if "kind" in params:
            for kind in emails.PREVIEW_KINDS:
                kwargs = {p: values[p] for p in params if p != "kind"}
                urls.append(reverse(name, kwargs={**kwargs, "kind": kind}))
            continue
        kwargs = {p: values[p] for p in params}
        urls.append(reverse(name, kwargs=kwargs))
        if "pk" in params and not {"payment_pk", "flag_pk", "email_pk", "note_pk"} & set(params):
            urls.append(reverse(name, kwargs={**kwargs, "pk": draft.pk}))
    customer = world["customer"]
    return [
        *urls,
        reverse("pay:invoice", args=[world["paid"].pay_token]),
        reverse("pay:saved_methods", args=[removal_token(customer)]),
        reverse("account:page", args=[customer.account_token]),
        reverse("invoices:detail", args=[world["paid"].pk]),
        f"/payments/?q={SCRIPT}",
        f"/customers/{customer.pk}/statement/?start=2020-01-01",
        reverse("invoices:email_preview", args=[world["paid"].pk, "receipt"]),
        f"/?q={SCRIPT}",
        f"/?customer={customer.pk}",
        f"/customers/pick/?q={customer.name[:10]}",
        f"/invoices/new/?customer={customer.pk}",
        f"/invoices/{invoice.pk}/emails/reminder/?offset=7",
        f"/invoices/{invoice.pk}/emails/reminder/html/?offset=-3",
        f"/admin/invoices/invoice/{invoice.pk}/change/",
        f"/admin/invoices/invoice/{draft.pk}/change/",
        f"/admin/customers/customer/{customer.pk}/change/",
        "/admin/invoices/invoice/",
        "/admin/invoices/payment/",
        "/admin/invoices/invoiceactivity/",
        "/admin/invoices/invoiceflag/",
        "/admin/invoices/stripeevent/",
        f"/admin/invoices/stripeevent/{StripeEvent.objects.get().pk}/change/",
    ]


def route_names(resolver: URLResolver, namespace: str = "") -> list[tuple[str, list[str]]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += [
                (name, [*entry.pattern.converters, *params])
                for name, params in route_names(entry, inner)
            ]
        elif isinstance(entry, URLPattern) and entry.name:
            found.append((namespace + entry.name, list(entry.pattern.converters)))
    return found


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_it_escapes_user_text_on_every_page(superuser_client) -> None:
    world = hostile_world()
    rendered = 0
    for url in staff_urls(world):
        response = superuser_client.get(url)
        assert response.status_code < 500, url
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        html = response.content.decode()
        for raw in RAW:
            assert raw not in html, f"{url}: unescaped {raw!r}"
        rendered += any(escaped in html for escaped in ESCAPED)
    # The dashboard, customers, invoice and draft pages, previews, pay page, admin...
    assert rendered >= 30


@pytest.mark.parametrize("kind", emails.PREVIEW_KINDS)
def test_it_escapes_both_parts_in_the_email_preview(superuser_client, kind) -> None:
    """The page staff open shows the text part as text, never as markup."""
    invoice = hostile_world()["invoice"]
    page = superuser_client.get(reverse("invoices:email_preview", args=[invoice.pk, kind]))
    assert page.status_code == 200
    html = page.content.decode()
    assert_escaped(html, f"{kind} preview")
    # The text part really is on the page (escaped) and inside an hx-disable region.
    text_block = re.search(r'<pre id="email-text">(.*?)</pre>', html, re.S).group(1)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text_block
    assert html.index("hx-disable") < html.index('id="email-text"')
    frame = superuser_client.get(reverse("invoices:email_preview_html", args=[invoice.pk, kind]))
    assert_escaped(frame.content.decode(), f"{kind} preview html")
    assert "script-src" not in frame["Content-Security-Policy"]  # default-src 'none' rules


def test_it_escapes_user_text_in_live_updates() -> None:
    """The SSE streams push rendered HTML into open pages: the same rules apply."""
    world = hostile_world()
    for invoice in (world["invoice"], world["paid"]):
        pushed = [html for _, html in staff_live.staff_messages(invoice)]
        pushed.append(pay_live.render_customer_status(invoice))
        for html in pushed:
            for raw in RAW:
                assert raw not in html, f"live update: unescaped {raw!r}"
        assert any(escaped in html for html in pushed for escaped in ESCAPED)


def sent_emails(world: dict[str, Any]) -> list[mail.EmailMessage]:
    invoice, payment = world["invoice"], world["payment"]
    mail.outbox.clear()
    emails.send_invoice_email(invoice)
    emails.send_receipt_email(invoice, payment)
    emails.send_reminder_email(invoice, 3)
    emails.send_refund_email(invoice, payment, 1000)
    emails.send_void_email(invoice)
    send_credit_note_email(invoice, world["note"].number)
    send_statement_email(invoice.customer, {"start": "2020-01-01", "end": "2030-12-31"})
    for kind in emails.STAFF_NOTICE_SUBJECTS:
        emails.send_staff_notice(invoice, kind, "Notice " + PAYLOAD)
    return list(mail.outbox)


def test_it_escapes_the_html_part_of_every_email() -> None:
    messages = sent_emails(hostile_world())
    assert len(messages) == 7 + len(emails.STAFF_NOTICE_SUBJECTS)
    for message in messages:
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        assert_escaped(html, f"html part of {message.subject!r}")
        # The text part is plain text: the customer's words as they wrote them.
        assert SCRIPT in message.body, message.subject
        assert "&lt;" not in message.body
        assert "&quot;" not in message.body


def pdf_text(content: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\s+", "", text)


def test_it_prints_markup_as_text_in_the_pdfs(superuser_client) -> None:
    world = hostile_world()
    invoice, payment = world["invoice"], world["payment"]
    squeezed = re.sub(r"\s+", "", SCRIPT)
    for url in [
        reverse("invoices:pdf", args=[invoice.pk]),
        reverse("invoices:pdf", args=[world["draft"].pk]),
        reverse("invoices:receipt_pdf", args=[invoice.pk, payment.pk]),
        reverse("pay:pdf", args=[invoice.pay_token]),
        reverse("pay:pdf", args=[world["paid"].pay_token]),
        reverse("pay:credit_note_pdf", args=[invoice.pay_token, world["note"].number]),
    ]:
        response = superuser_client.get(url)
        assert response.status_code == 200, url
        text = pdf_text(response.content)
        # Parsed as HTML the script would vanish from the page; escaped it is printed.
        assert squeezed in text, url
        assert "hx-trigger=" in text, url


def test_it_neutralises_formulas_in_the_csv(superuser_client) -> None:
    hostile_world()
    for start in FORMULA_STARTS:
        make_open(customer=CustomerFactory(name=f"{start}1+1", email=f"x{ord(start)}@example.com"))
    response = superuser_client.get(reverse("invoices:export"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1 + 3 + len(FORMULA_STARTS)  # header, the hostile world, the formulas
    for row in rows[1:]:
        for cell in row:
            if cell[:1] in FORMULA_STARTS:
                # Money is written by the portal as a plain number; anything else is text.
                assert re.fullmatch(r"-\d+(\.\d+)?", cell), f"formula cell {cell!r}"
    names = {row[2] for row in rows[1:]}
    assert "'=HYPERLINK(1)" + PAYLOAD in names
    assert {f"'{start}1+1" for start in FORMULA_STARTS} <= names
    numbers = {row[0] for row in rows[1:]}
    assert all(number.startswith("'@") for number in numbers if number)


class DisabledText(HTMLParser):
    """Collects each text node that contains `needle`, with whether an ancestor has hx-disable."""

    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle = needle
        self.open: list[bool] = []
        self.found: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            # A <title> holds only text in a browser: nothing in it can be an element.
            self.open.append(tag == "title" or any(name == "hx-disable" for name, _ in attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.needle in data:
            self.found.append(any(self.open))


def test_it_keeps_hx_disable_around_user_text(superuser_client) -> None:
    """Defence in depth: even markup that slipped through would not be run by htmx."""
    world = hostile_world()
    invoice = world["invoice"]
    everything = ("Memo " + HTMX, "Line " + HTMX, "Co " + HTMX, "Biz " + HTMX)
    pages = {
        reverse("invoices:detail", args=[invoice.pk]): everything,
        reverse("pay:invoice", args=[invoice.pay_token]): everything,
        reverse("invoices:email_preview", args=[invoice.pk, "invoice"]): ("Memo " + HTMX,),
        reverse("customers:detail", args=[world["customer"].pk]): ("Co " + HTMX,),
        reverse("invoices:dashboard"): ("=HYPERLINK(1)" + HTMX,),
    }
    for url, needles in pages.items():
        html = superuser_client.get(url).content.decode()
        for needle in needles:
            parser = DisabledText(needle)
            parser.feed(html)
            assert parser.found, f"{url}: {needle[:8]!r} not shown"
            assert all(parser.found), f"{url}: {needle[:8]!r} outside an hx-disable region"
        assert '"allowEval": false' in html, url
        assert '"selfRequestsOnly": true' in html, url


def test_it_shows_form_help_text_as_text(superuser_client) -> None:
    """`_fields.html` used to print help text with `|safe`."""
    from invoices.forms import BusinessProfileForm

    field = BusinessProfileForm.base_fields["name"]
    original = field.help_text
    field.help_text = SCRIPT
    try:
        html = superuser_client.get(reverse("invoices:profile")).content.decode()
    finally:
        field.help_text = original
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Django's own HTML help (the password rules list) still renders as a list.
    page = superuser_client.get(reverse("password_change")).content.decode()
    assert "<ul><li>" in page
