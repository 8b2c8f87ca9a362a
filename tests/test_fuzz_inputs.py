"""Hostile input everywhere: never a 5xx, and an error changes no saved row.

The targets are found, not listed: every URL pattern of the URLconf is
visited as a superuser (a pattern this file cannot fill in fails the test, so
a new page is never silently skipped); every POST form on those pages (its
action, its buttons' `formaction` / `hx-post`, its fields and `hx-vals`) is a
form target; every query parameter seen in the pages' links and GET forms, or
read in a view's source, is a query target. Hypothesis then posts or appends
random and hostile values. Each example runs in a savepoint rolled back after
it, so every example starts from the same data.

CI runs this on SQLite and again on PostgreSQL (where NUL bytes and
out-of-range integers used to be 500s).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices.models import (
    CatalogItem,
    CreditNote,
    EmailLog,
    InvoiceFlag,
    Payment,
    RecurringTemplate,
    SavedPaymentMethod,
    StripeEvent,
    TaxRate,
)
from invoices.saved_methods import removal_token
from tests import stripe_events as se
from tests.factories import StaffFactory, make_draft, make_open
from tests.quote_helpers import make_quote

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = [
    "",
    " ",
    "²",
    "٣",
    "\uff11\uff12",  # fullwidth digits
    "1e999999999",
    "-1e999999999",
    "1e-999999999",
    "NaN",
    "-Infinity",
    "Infinity",
    "9" * 5000,
    "99999999999999999999",
    "-1",
    "0",
    "1e3",
    "12.345",
    "-0.00",
    "1,000.50",
    "\x00",
    "a\x00b",
    "x" * 10_000,
    "9999-12-31",
    "0001-01-01",
    "2024-02-30",
    '<div hx-post="/admin/auth/user/1/change/" hx-trigger="load">x</div>',
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202e\u200b💸",
    "../../etc/passwd",
]
hostile_values = st.one_of(
    st.sampled_from(HOSTILE),  # twice: the known-hostile values are drawn half the time
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)

# Patterns filled in but not visited: the documents render a PDF (seconds
# each), hold no form and read no query parameter.
NO_QUERY_FUZZ = {
    *("invoices:pdf", "invoices:receipt_pdf", "pay:pdf"),
    *("account:statement_pdf", "account:receipt_pdf", "account:credit_note_pdf"),
    *("customers:statement_pdf", "invoices:credit_note_pdf", "pay:credit_note_pdf"),
}
# Posting here ends the session the rest of the test needs.
NOT_POSTED = {"/accounts/logout/"}


# -- what the pages offer ----------------------------------------------------------


@dataclass
class FormTarget:
    url: str
    fields: dict[str, str]  # name -> the value the page rendered


@dataclass
class _Forms(HTMLParser):
    page_url: str
    targets: list[FormTarget] = field(default_factory=list)
    query_names: set[str] = field(default_factory=set)
    _form: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "?" in a.get("href", ""):
            self.query_names.update(k for k, _ in parse_qsl(urlsplit(a["href"]).query))
        if tag == "form":
            method = a.get("method", "get").lower()
            self._form = {
                "method": method,
                "urls": {a.get("action") or self.page_url} | {a.get("hx-post") or self.page_url},
                "fields": self._vals(a),
            }
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag in ("input", "select", "textarea") and name:
            if self._form["method"] == "get":
                self.query_names.add(name)
            self._form["fields"].setdefault(name, a.get("value", ""))
        for key in ("formaction", "hx-post"):
            if a.get(key):
                self._form["urls"].add(a[key])
        self._form["fields"].update(self._vals(a))

    @staticmethod
    def _vals(a: dict[str, str]) -> dict[str, str]:
        try:
            return {k: str(v) for k, v in json.loads(a.get("hx-vals") or "{}").items()}
        except ValueError:
            return {}

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            if self._form["method"] == "post":
                for url in self._form["urls"]:
                    self.targets.append(FormTarget(url, dict(self._form["fields"])))
            self._form = None


def _patterns(resolvers: list, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    found = []
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            found += _patterns(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else entry.name or ""
            found.append((prefix + str(entry.pattern), name))
    return found


def query_names_in_source() -> set[str]:
    """Parameters read by name (`request.GET.get("x")`, `query.get("x")`, `query_int(q, "x")`)."""
    names: set[str] = set()
    for module in ("invoices", "customers", "portal"):
        for path in (ROOT / module).rglob("*.py"):
            text = path.read_text()
            names.update(re.findall(r"(?:GET|query)\.get\(\s*\"(\w+)\"", text))
            names.update(re.findall(r"query_(?:int|text)\(\s*[\w.]+,\s*\"(\w+)\"", text))
    return names


@dataclass
class Site:
    get_urls: list[str]
    query_urls: list[str]
    forms: list[FormTarget]
    query_names: list[str]

    @staticmethod
    def kind(url: str) -> str:
        return re.sub(r"\d+", "N", urlsplit(url).path)

    @property
    def forms_by_kind(self) -> dict[str, list[FormTarget]]:
        groups: dict[str, list[FormTarget]] = {}
        for form in self.forms:
            groups.setdefault(self.kind(form.url), []).append(form)
        return groups

    @property
    def query_urls_by_kind(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for url in self.query_urls:
            groups.setdefault(self.kind(url), []).append(url)
        return groups


def _fill(pattern: str, values: dict[str, str]) -> str | None:
    missing = []

    def one(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in values:
            missing.append(name)
            return ""
        return values[name]

    path = re.sub(r"<(?:(\w+):)?(\w+)>", one, pattern)
    return None if missing or "(" in path or "^" in path else "/" + path


def discover(client: Client, fixtures: list[dict[str, str]]) -> Site:
    get_urls: list[str] = []
    query_urls: list[str] = []
    forms: list[FormTarget] = []
    names = query_names_in_source()
    unfilled = []
    for pattern, name in _patterns(get_resolver().url_patterns):
        if name.startswith("admin:") or pattern.startswith("admin/"):
            continue  # Django's admin: its own forms, read-only rules tested elsewhere
        urls = {u for values in fixtures if (u := _fill(pattern, values))}
        if not urls:
            unfilled.append(pattern)
        for url in sorted(urls):
            if name in NO_QUERY_FUZZ:
                continue  # a PDF: no form, no parameter, seconds to render
            response = client.get(url)
            if response.status_code == 405:
                continue  # POST-only: reached through the forms that post to it
            get_urls.append(url)
            query_urls.append(url)
            if response.get("Content-Type", "").startswith("text/html") and not getattr(
                response, "streaming", False
            ):
                parser = _Forms(url)
                parser.feed(response.content.decode())
                forms += [f for f in parser.targets if f.url not in NOT_POSTED]
                names |= parser.query_names
    assert not unfilled, f"patterns this test cannot fill in (add a fixture): {unfilled}"
    unique = {(f.url, tuple(sorted(f.fields))): f for f in forms}
    return Site(get_urls, query_urls, list(unique.values()), sorted(names))


# -- the data every example starts from -----------------------------------------------


@pytest.fixture
def site(db, stripe_env) -> tuple[Client, Site]:
    admin = StaffFactory(username="fuzzer", is_superuser=True)
    client = Client()
    client.force_login(admin)
    draft = make_draft()
    opened = make_open()
    paid = make_open()
    payment = Payment.objects.create(
        invoice=paid,
        amount=paid.amount_due,
        currency=paid.currency,
        method=Payment.Method.ONLINE,
        status=Payment.Status.SUCCEEDED,
        stripe_payment_intent_id="pi_fuzz_unknown_to_stripe",
    )
    paid.add_payment(payment.amount)
    paid.save()
    flag = InvoiceFlag.objects.create(invoice=paid, kind=InvoiceFlag.Kind.OVERPAID, message="x")
    sent = EmailLog.objects.create(
        key="fuzz-invoice", kind="invoice", invoice=paid, status=EmailLog.Status.FAILED
    )
    note = CreditNote.objects.create(
        invoice=paid, number="CN-FUZZ", amount=1, currency="USD", reason="x", outcome="reduced"
    )
    payload = se.event("payment_intent.succeeded", se.intent(opened), event_id="evt_fuzz")
    event = StripeEvent.objects.create(
        event_id="evt_fuzz", type="payment_intent.succeeded", payload=payload, status="failed"
    )
    fixtures = []
    for invoice in (draft, opened, paid):
        fixtures.append(
            {
                "pk": str(invoice.pk),
                "index": "0",
                "direction": "up",
                "kind": "reminder",
                "payment_pk": str(payment.pk),
                "flag_pk": str(flag.pk),
                "email_pk": str(sent.pk),
                "note_pk": str(note.pk),
            }
        )
    fixtures.append({"pk": str(invoice.customer_id)})  # customers:<pk>
    fixtures.append({"pk": str(event.pk)})  # webhook events
    recurring = RecurringTemplate.objects.create(customer=opened.customer, start_date=date.today())
    fixtures.append({"pk": str(recurring.pk)})  # recurring templates
    rate = TaxRate.objects.create(name="VAT 20%", percent=20)
    item = CatalogItem.objects.create(name="Item", unit_amount=100, currency="USD", tax_rate=rate)
    fixtures += [{"pk": str(item.pk)}, {"pk": str(rate.pk)}]  # the catalog
    fixtures.append({"uidb64": "MQ", "token": "set-password"})  # password reset confirm
    fixtures.append({"token": opened.pay_token})  # the customer's pages
    draft_quote, sent_quote = make_quote(send=False), make_quote()
    fixtures.append({"pk": str(draft_quote.pk)})  # quotes: the editor, send
    fixtures.append({"pk": str(sent_quote.pk), "token": sent_quote.token})  # accept, decline
    saved = SavedPaymentMethod.objects.create(
        customer=opened.customer,
        stripe_payment_method_id="pm_fuzz_unknown_to_stripe",
        stripe_customer_id="cus_fuzz",
        method_type="card",
        brand="visa",
        last4="4242",
    )
    fixtures.append({"pk": str(opened.customer_id), "method_pk": str(saved.pk)})  # autopay
    fixtures.append({"token": removal_token(opened.customer)})  # saved methods page
    # The account page of a customer with a receipt and a credit note (its combined-payment
    # form has its own fuzz test: a valid choice there rightly creates a payment).
    fixtures.append({"token": paid.customer.account_token, "pk": str(payment.pk)})
    fixtures.append({"token": paid.pay_token, "number": note.number})  # their credit notes
    return client, discover(client, fixtures)


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of the portal's own tables (and users), in a comparable form."""
    rows = {}
    for label in ("customers", "invoices", "portal", "auth"):
        for model in apps.get_app_config(label).get_models():
            if model.__name__ in ("RateCounter", "Permission", "Group"):
                continue
            rows[model.__name__] = list(model.objects.order_by("pk").values())
    return rows


def succeeded(response: Any) -> bool:
    if response.status_code in (301, 302, 303) or "HX-Redirect" in response:
        return True
    body = b"" if getattr(response, "streaming", False) else response.content
    return response.status_code == 200 and b"All changes saved." in body


def read(response: Any) -> bytes:
    if not getattr(response, "streaming", False):
        return response.content
    if "text/event-stream" in response.get("Content-Type", ""):
        return b""  # a live stream never ends: its status is the answer
    return b"".join(response.streaming_content)  # a CSV export fails mid-stream


FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=False,
)


@FUZZ
@given(data=st.data())
def test_every_staff_form_survives_hostile_values(site, data):
    client, found = site
    # Every kind of form equally often (not every invoice's copy of it).
    kind = data.draw(st.sampled_from(sorted(found.forms_by_kind)), label="kind")
    target = data.draw(st.sampled_from(found.forms_by_kind[kind]), label="form")
    post = {
        name: data.draw(st.one_of(st.just(value), hostile_values), label=name)
        for name, value in target.fields.items()
    }
    headers = {"HTTP_HX_REQUEST": "true"} if data.draw(st.booleans(), label="htmx") else {}
    with transaction.atomic():
        before = snapshot()
        response = client.post(target.url, post, **headers)
        read(response)
        assert response.status_code < 500, (target.url, post)
        if not succeeded(response):
            assert snapshot() == before, (target.url, response.status_code)
        transaction.set_rollback(True)


@FUZZ
@given(data=st.data())
def test_every_query_parameter_survives_hostile_values(site, data):
    client, found = site
    kind = data.draw(st.sampled_from(sorted(found.query_urls_by_kind)), label="kind")
    url = data.draw(st.sampled_from(found.query_urls_by_kind[kind]), label="url")
    # Each known parameter, hostile, in most requests: a page reads only its own.
    query = {
        name: data.draw(hostile_values, label=name)
        for name in found.query_names
        if data.draw(st.integers(0, 3), label=f"send {name}")
    }
    with transaction.atomic():
        before = snapshot()
        response = client.get(url, query)
        read(response)
        assert response.status_code < 500, (url, query)
        assert snapshot() == before or "/pay/" in url, (url, query)  # a view stamps viewed_at
        transaction.set_rollback(True)


def test_the_fuzzing_reaches_every_form_and_list(site):
    """The discovery is what makes the fuzzing honest: it must find what we know exists."""
    _, found = site
    urls = {f.url for f in found.forms}
    for expected in ("/customers/new/", "/invoices/new/", "/settings/business/", "/recurring/new/"):
        assert expected in urls
    # The payment methods the business offers are fuzzed with the rest of its profile.
    profile_fields = {n for f in found.forms if f.url == "/settings/business/" for n in f.fields}
    assert {"accept_us_bank_account", "accept_sepa_debit"} <= profile_fields
    for pattern in (
        r"/invoices/\d+/edit/",
        r"/invoices/\d+/payments/new/",
        r"/invoices/\d+/payments/\d+/refund/",
        r"/invoices/\d+/payments/\d+/reverse/",
        r"/invoices/\d+/credit-notes/new/",
        r"/invoices/\d+/lines/\d+/(up|down)/",
        r"/invoices/\d+/send/",
        r"/customers/\d+/edit/",
        r"/invoices/\d+/make-recurring/",
        r"/quotes/\d+/edit/",
        r"/quotes/\d+/send/",
        r"/pay/quote/[^/]+/accept/",
        r"/pay/quote/[^/]+/decline/",
        r"/invoices/\d+/customer/",
        r"/catalog/items/(new|\d+)/",
        r"/catalog/tax-rates/(new|\d+)/",
        r"/catalog/(items|tax-rates)/\d+/archive/",
    ):
        assert any(re.fullmatch(pattern, u) for u in urls), pattern
    for name in (
        *("q", "page", "customer", "status", "sort", "offset", "since", "customer_q"),
        *("start", "end", "kind", "method"),
        *("after", "before", "last"),  # keyset paging
        *("poll", "check", "payment_intent", "v"),  # the pay page's state poll, brand.css
    ):
        assert name in found.query_names
    for url in (
        *("/", "/customers/", "/invoices/export.csv", "/live/staff/", "/webhook-events/"),
        *("/payments/", "/payments/export.csv", "/receivables/", "/customers/export.csv"),
    ):
        assert url in found.query_urls
    assert "/brand.css" in found.query_urls
    assert any(re.fullmatch(r"/pay/[^/]+/state/", u) for u in found.query_urls)
