"""The pay page's state: every region agrees, on the page and in each live update."""

from __future__ import annotations

import gzip
import json
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from invoices.models import BusinessProfile, Invoice, Payment
from invoices.pay import live
from invoices.pay.context import POLLS_BEFORE_CHECK, brand_version, readable_ink
from invoices.services import record_offline_payment, revoke_pay_link, void_invoice
from tests.factories import CustomerFactory, make_draft, make_open, open_with_intent

pytestmark = pytest.mark.django_db

REGIONS = [
    "pay-status",
    "invoice-status-badge",
    "pay-headline",
    "invoice-totals",
    "pay-downloads",
]
VOID_TAGS = {"br", "img", "input", "meta", "link", "hr", "source", "wbr", "path", "circle", "rect"}


class _Regions(HTMLParser):
    """The text of each element with an id (nested ids too), and which are out of band."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str | None]] = []
        self.text: dict[str, str] = {}
        self.oob: set[str] = set()
        self.buttons: list[str] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "button":
            self._button = []
        if tag in VOID_TAGS:
            return
        ident = found.get("id")
        if ident:
            self.text.setdefault(ident, "")
            if found.get("hx-swap-oob"):
                self.oob.add(ident)
        self.open.append((tag, ident))

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            self.buttons.append(" ".join("".join(self._button).split()))
            self._button = None
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break

    def handle_data(self, data: str) -> None:
        for _, ident in self.open:
            if ident:
                self.text[ident] += data + " "  # a cell's end is a word's end
        if self._button is not None:
            self._button.append(data)


def regions(html: str) -> _Regions:
    parser = _Regions()
    parser.feed(html)
    parser.text = {k: " ".join(v.split()) for k, v in parser.text.items()}
    return parser


def page(client: Client, invoice: Invoice, **query: str) -> _Regions:
    response = client.get(invoice.get_pay_url(), query)
    assert response.status_code == 200
    return regions(response.content.decode())


def pushed(invoice: Invoice, **state) -> _Regions:
    fresh = Invoice.objects.select_related("customer").get(pk=invoice.pk)
    return regions(live.render_customer_state(fresh, **state))


def pay_in_full(invoice: Invoice) -> None:
    record_offline_payment(
        invoice=invoice,
        amount=invoice.amount_due,
        method=Payment.Method.BANK_TRANSFER,
        received_on=date(2026, 11, 2),
        reference="TR-1",
    )


# -- one state everywhere -------------------------------------------------------------


def test_it_renders_every_region_of_an_open_invoice_alike_on_the_page_and_live(client):
    invoice = make_open(lines=2, due_date=date(2026, 12, 29))
    for found in (page(client, invoice), pushed(invoice)):
        assert set(REGIONS) <= set(found.text)
        assert found.text["pay-headline"] == "$200.00 due 29 Dec 2026"
        assert found.text["invoice-status-badge"] in {"Open", "Overdue"}
        assert "Amount due $200.00" in found.text["invoice-totals"]
        assert "Amount paid $0.00" in found.text["invoice-totals"]
        assert "Download invoice (PDF)" in found.text["pay-downloads"]
        assert "Pay $200.00" in found.buttons


def test_the_live_update_carries_every_other_region_out_of_band(client):
    invoice = make_open()
    found = pushed(invoice)
    assert found.oob >= set(REGIONS) - {"pay-status"}
    assert "pay-status" not in found.oob  # the SSE swap's own target


def test_a_paid_invoice_says_paid_in_every_region(client):
    invoice = make_open(lines=1)
    pay_in_full(invoice)
    for found in (page(client, invoice), pushed(invoice)):
        assert found.text["invoice-status-badge"] == "Paid"
        assert found.text["pay-headline"].startswith("$100.00 paid")
        assert "Amount due $0.00" in found.text["invoice-totals"]
        assert "Amount paid $100.00" in found.text["invoice-totals"]
        assert "Paid" in found.text["pay-status"]
        assert "View receipt" in found.text["pay-downloads"]
        assert "Download receipt (PDF)" in found.text["pay-downloads"]
        assert not any(button.startswith("Pay") for button in found.buttons)
    # The live update empties the payment box (and a stale return notice) out of band.
    assert {"pay-action", "return-notice"} <= pushed(invoice).oob


def test_a_void_invoice_says_void_in_every_region(client):
    invoice = make_open(lines=1)
    void_invoice(invoice=invoice)
    for found in (page(client, invoice), pushed(invoice)):
        assert found.text["invoice-status-badge"] == "Void"
        assert found.text["pay-headline"] == "This invoice was voided"
        assert "There is nothing to pay" in found.text["pay-status"]
        assert not any(button.startswith("Pay") for button in found.buttons)


def test_a_processing_payment_is_processing_in_every_region(client):
    invoice = open_with_intent()
    invoice.payment_state = Invoice.PaymentState.PROCESSING
    invoice.save()
    for found in (page(client, invoice), pushed(invoice)):
        assert found.text["invoice-status-badge"] == "Processing"
        assert found.text["pay-headline"] == "$200.00: payment processing"
        assert "Your payment is processing" in found.text["processing-notice"]
        assert not any(button.startswith("Pay") for button in found.buttons)


def test_a_failed_attempt_is_said_once_with_one_full_stop(client):
    invoice = open_with_intent()
    invoice.payment_state = Invoice.PaymentState.FAILED
    invoice.last_payment_error = "Your card was declined."
    invoice.save()
    text = page(client, invoice).text["pay-status"]
    assert "Your last payment attempt failed. Your card was declined. You can try again." in text
    assert ".." not in text


# -- between Stripe's redirect and our webhook -----------------------------------------


def returned_from_stripe(client: Client, stripe_env) -> Invoice:
    invoice = make_open(lines=1)
    assert client.post(f"{invoice.get_pay_url()}pay/").status_code == 200
    invoice.refresh_from_db()
    stripe_env.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://testserver/"},
    )
    return invoice


def test_the_return_before_the_webhook_is_being_recorded_in_every_region(client, stripe_env):
    invoice = returned_from_stripe(client, stripe_env)
    intent = invoice.stripe_payment_intent_id
    found = page(client, invoice, payment_intent=intent, redirect_status="succeeded")
    assert found.text["invoice-status-badge"] == "Payment being recorded"
    assert found.text["pay-headline"] == "$100.00: payment being recorded"
    assert "Payment being recorded" in found.text["pay-status"]
    assert "Paid" not in found.text["pay-status"]
    assert not any(button.startswith("Pay") for button in found.buttons)
    assert found.text["return-notice"] == ""  # no "received" beside an amount due
    # The live stream and the poll of this page keep the state.
    assert "Payment being recorded" in pushed(invoice, recording_intent=intent).text["pay-status"]


def test_the_poll_asks_stripe_after_a_bounded_wait_and_books_the_payment(client, stripe_env):
    invoice = returned_from_stripe(client, stripe_env)
    intent = invoice.stripe_payment_intent_id
    state_url = f"{invoice.get_pay_url()}state/"
    waiting = client.get(state_url, {"payment_intent": intent, "poll": 1})
    assert "Payment being recorded" in waiting.content.decode()
    assert "check=1" not in waiting.content.decode()  # not yet: the webhook usually wins
    last_wait = client.get(state_url, {"payment_intent": intent, "poll": POLLS_BEFORE_CHECK})
    assert "check=1" in last_wait.content.decode()

    checked = client.get(state_url, {"payment_intent": intent, "poll": 5, "check": 1})
    found = regions(checked.content.decode())
    assert found.text["invoice-status-badge"] == "Paid"
    assert "Visa •••• 4242" in found.text["receipt"]
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_with_stripe_down_the_return_waits_and_never_says_paid(client, stripe_env, settings):
    invoice = returned_from_stripe(client, stripe_env)
    intent = invoice.stripe_payment_intent_id
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    found = page(client, invoice, payment_intent=intent, redirect_status="succeeded")
    assert found.text["invoice-status-badge"] == "Payment being recorded"
    assert "Paid" not in found.text["pay-status"]
    assert not any(button.startswith("Pay") for button in found.buttons)

    checked = client.get(
        f"{invoice.get_pay_url()}state/", {"payment_intent": intent, "poll": 5, "check": 1}
    )
    found = regions(checked.content.decode())
    assert "we could not confirm it just now" in found.text["pay-status"]
    assert found.text["invoice-status-badge"] == "Payment being recorded"
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN


def test_a_paid_invoice_does_not_ask_stripe_on_return(client, stripe_env, settings):
    invoice = make_open(lines=1)
    pay_in_full(invoice)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    found = page(client, invoice, payment_intent="pi_whatever", redirect_status="succeeded")
    assert found.text["return-notice"] == ""  # no "could not check" beside "Paid"
    assert found.text["invoice-status-badge"] == "Paid"


def test_the_state_refuses_another_intent_and_bad_polls(client):
    invoice = open_with_intent("pi_ours")
    url = f"{invoice.get_pay_url()}state/"
    response = client.get(url, {"payment_intent": "pi_theirs", "poll": "x" * 50, "check": "1"})
    assert response.status_code == 200
    assert "Pay $200.00" in regions(response.content.decode()).buttons
    assert client.get("/pay/nope/state/").status_code == 404


# -- the receipt, the unknown link, the brand colour ------------------------------------


def test_the_receipt_shows_its_number_method_and_date(client):
    invoice = make_open(lines=1)
    pay_in_full(invoice)
    payment = invoice.payments.get()
    response = client.get(f"{invoice.get_pay_url()}receipt/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"{invoice.number}-R{payment.pk}" in body
    assert "Bank transfer (ref TR-1)" in body
    assert "2 Nov 2026" in body
    assert f'href="{invoice.get_pay_url()}pdf/"' in body


def test_the_receipt_of_an_unpaid_invoice_is_the_friendly_404(client):
    invoice = make_open()
    response = client.get(f"{invoice.get_pay_url()}receipt/")
    assert response.status_code == 404
    assert "This payment link does not work" in response.content.decode()


@pytest.mark.parametrize("path", ["/pay/nope/", "/pay/" + "x" * 40 + "/"])
def test_an_unknown_link_is_a_friendly_404_that_says_whom_to_ask(client, path):
    profile = BusinessProfile.load()
    profile.phone = "+1 415 555 0100"
    profile.save()
    response = client.get(path)
    assert response.status_code == 404
    body = response.content.decode()
    assert "This payment link does not work" in body
    assert "Please contact Acme Studio for a new link" in body
    assert "mailto:billing@example.com" in body
    assert 'href="tel:+14155550100"' in body


def test_revoked_and_draft_links_get_the_friendly_404(client):
    invoice = make_open()
    old = invoice.get_pay_url()
    revoke_pay_link(invoice=invoice)
    for url in (old, make_draft().get_pay_url()):
        response = client.get(url)
        assert response.status_code == 404
        assert "This payment link does not work" in response.content.decode()


def test_the_friendly_404_is_in_the_business_language(client):
    profile = BusinessProfile.load()
    profile.default_language = "de"
    profile.save()
    response = client.get("/pay/nope/")
    assert response.status_code == 404
    assert "Dieser Zahlungslink funktioniert nicht" in response.content.decode()


def test_the_brand_colour_is_a_long_cached_stylesheet(client):
    profile = BusinessProfile.load()
    profile.brand_color = "#ffcc00"
    profile.save()
    invoice = make_open()
    body = client.get(invoice.get_pay_url()).content.decode()
    version = brand_version("#ffcc00")
    assert f'href="/brand.css?v={version}"' in body
    response = client.get("/brand.css", {"v": version})
    assert response["Content-Type"].startswith("text/css")
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.content.decode() == ":root{--brand:#ffcc00;--brand-ink:#111111}\n"
    # An old version's URL is not cached for long (the colour changed since).
    assert client.get("/brand.css", {"v": "old"})["Cache-Control"] == "no-cache"


def test_a_colour_written_around_the_form_cannot_inject_css(client):
    BusinessProfile.objects.update_or_create(pk=1, defaults={"brand_color": "red}*{x"})
    assert client.get("/brand.css").content.decode() == (
        ":root{--brand:#3446c9;--brand-ink:#ffffff}\n"
    )


@pytest.mark.parametrize(
    ("color", "ink"), [("#3446c9", "#ffffff"), ("#ffcc00", "#111111"), ("#000000", "#ffffff")]
)
def test_the_text_on_the_brand_colour_is_the_readable_one(color, ink):
    assert readable_ink(color) == ink


@pytest.mark.parametrize(
    ("color", "message"),
    [
        ("#zz0000", "Enter a colour like #3446c9."),
        ("red;}body{", "Ensure this value has at most 7 characters"),
    ],
)
def test_the_profile_refuses_a_colour_that_is_not_rrggbb(admin_client, color, message):
    response = admin_client.post(
        "/settings/business/",
        {
            "name": "Studio",
            "email": "a@b.test",
            "default_currency": "USD",
            "default_terms": "net_30",
            "default_language": "en",
            "number_prefix": "S-",
            "reminder_schedule": "0",
            "brand_color": color,
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert BusinessProfile.load().brand_color == "#3446c9"


# -- trust, no-JS, cost ----------------------------------------------------------------


def test_the_page_shows_stripe_card_marks_contact_and_a_no_js_note(client):
    profile = BusinessProfile.load()
    profile.phone = "+1 415 555 0100"
    profile.save()
    body = client.get(make_open().get_pay_url()).content.decode()
    assert "Payments secured by Stripe" in body
    for brand in ("Visa", "Mastercard", "American Express"):
        assert f'aria-label="{brand}"' in body
    assert re.search(r'Questions\? <a href="mailto:billing@example.com">Contact Acme Studio', body)
    assert "<noscript>" in body
    assert "Paying by card needs JavaScript" in body
    assert 'id="pay-sentences" type="application/json"' in body


def test_the_pay_page_takes_a_fixed_number_of_queries(client, django_assert_num_queries):
    invoice = make_open(lines=8)
    client.get(invoice.get_pay_url())  # the first view is recorded once
    # session-less: one statement for the invoice, its customer and the business profile
    # (the finalized invoice's lines were read by the first view and are kept for its
    # version)... counted, not timed.
    with django_assert_num_queries(1):
        client.get(invoice.get_pay_url())


def test_the_pay_pages_own_css_and_js_are_under_30_kb_compressed(client):
    body = client.get(make_open().get_pay_url()).content.decode()
    own = re.findall(r'(?:href|src)="/static/([^"?]+\.(?:css|js))"', body)
    assert {"css/portal.css", "css/print.css", "js/pay.js"} <= set(own)
    static_root = Path(settings.BASE_DIR) / "static"
    sizes = {
        name: len(gzip.compress((static_root / name).read_bytes()))
        for name in own
        if (static_root / name).exists()
    }
    assert sum(sizes.values()) < 30 * 1024, sizes


# -- in the customer's language ---------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "headline", "secured", "sentence"),
    [
        (
            "de",
            "1.234,56 € fällig am 29.12.2026",  # regions() folds the no-break spaces
            "Zahlungen gesichert durch Stripe",
            "Wir konnten den Server nicht erreichen.",
        ),
        (
            "fr",
            "1 234,56 € à payer avant le 29 déc. 2026",
            "Paiements sécurisés par Stripe",
            "Nous n\u2019avons pas pu joindre le serveur.",
        ),
    ],
)
def test_the_new_words_are_in_the_customers_language(client, language, headline, secured, sentence):
    customer = CustomerFactory(language=language)
    invoice = make_open(customer=customer, currency="EUR", unit_amount=61728)
    Invoice.objects.filter(pk=invoice.pk).update(due_date=date(2026, 12, 29))
    response = client.get(invoice.get_pay_url())
    found = regions(response.content.decode())
    assert found.text["pay-headline"] == headline
    assert secured in response.content.decode()
    # pay.js's sentences come from the page, in the same language.
    sentences = re.search(
        r'<script id="pay-sentences" type="application/json">(.*?)</script>',
        response.content.decode(),
    )
    assert sentences is not None
    assert sentence in json.loads(sentences.group(1))["offline"]


def test_the_stripe_check_is_asked_once_per_poll_interval_however_often_it_is_called(
    client, stripe_env, settings
):
    invoice = returned_from_stripe(client, stripe_env)
    intent = invoice.stripe_payment_intent_id
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # every real check fails, and says so
    url = f"{invoice.get_pay_url()}state/"
    answers = [
        client.get(url, {"payment_intent": intent, "poll": 5, "check": 1}).content.decode()
        for _ in range(5)
    ]
    said = ["we could not confirm it just now" in answer for answer in answers]
    assert said == [True, False, False, False, False]  # one call reached "Stripe"
    assert all("Payment being recorded" in answer for answer in answers)
