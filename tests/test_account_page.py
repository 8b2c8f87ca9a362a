"""The customer's account page: reached by its own link, revocable by staff, in the
customer's language, listing everything they have with us, paying several invoices."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Customer
from invoices.documents.emails import send_invoice_email, send_staff_notice
from invoices.models import AccountActivity, CreditNote, PaymentGroup
from invoices.services import record_offline_payment
from tests.factories import CustomerFactory, make_open, pay
from tests.test_fuzz_inputs import HOSTILE, snapshot

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script><div hx-get="/admin/" hx-trigger="load">'


def page_url(customer: Customer) -> str:
    return reverse("account:page", args=[customer.account_token])


def test_it_gives_every_customer_a_distinct_unguessable_link():
    first, second = CustomerFactory(), CustomerFactory()
    assert len(first.account_token) >= 32
    assert first.account_token != second.account_token
    assert first.account_url.endswith(page_url(first))


def test_it_shows_the_customers_invoices_receipts_and_statement(client: Client):
    customer = CustomerFactory(name="Ada Lovelace")
    overdue = make_open(customer=customer, issue_date=date(2020, 1, 1))
    open_one = make_open(customer=customer)
    paid = make_open(customer=customer)
    payment = pay(paid)
    other = make_open()  # another customer's
    response = client.get(page_url(customer))
    assert response.status_code == 200
    html = response.content.decode()
    for invoice in (overdue, open_one, paid):
        assert invoice.number in html
        assert invoice.get_pay_url() in html
    assert other.number not in html
    assert "Overdue" in html
    assert reverse("account:receipt_pdf", args=[customer.account_token, payment.pk]) in html
    assert reverse("account:statement_pdf", args=[customer.account_token]) in html
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_it_keeps_its_queries_constant_as_invoices_grow(client, django_assert_max_num_queries):
    customer = CustomerFactory()
    for _ in range(3):
        make_open(customer=customer)
    with django_assert_max_num_queries(20) as few:
        client.get(page_url(customer))
    for _ in range(10):
        pay(make_open(customer=customer))
        make_open(customer=customer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(page_url(customer)).status_code == 200


def test_it_speaks_the_customers_language(client):
    customer = CustomerFactory(language="de")
    make_open(customer=customer)
    response = client.get(page_url(customer))
    assert response["Content-Language"] == "de"
    assert "Ihr Konto" in response.content.decode()


def test_an_unknown_link_gets_the_friendly_404(client):
    response = client.get(reverse("account:page", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "contact" in response.content.decode().lower()


def test_a_pay_token_is_not_an_account_token(client):
    invoice = make_open()
    assert client.get(reverse("account:page", args=[invoice.pay_token])).status_code == 404


def test_it_revokes_and_reissues_the_link_with_a_trail(client, staff_client, staff):
    customer = CustomerFactory()
    old = page_url(customer)
    response = staff_client.post(reverse("customers:account_link_revoke", args=[customer.pk]))
    assert response.status_code == 302
    assert client.get(old).status_code == 404
    customer.refresh_from_db()
    assert customer.account_url == ""
    response = staff_client.post(reverse("customers:account_link_issue", args=[customer.pk]))
    customer.refresh_from_db()
    assert client.get(old).status_code == 404
    assert client.get(page_url(customer)).status_code == 200
    trail = list(AccountActivity.objects.filter(customer=customer).order_by("created_at", "id"))
    assert [(e.kind, e.actor) for e in trail] == [
        (AccountActivity.Kind.LINK_REVOKED, staff),
        (AccountActivity.Kind.LINK_ISSUED, staff),
    ]
    detail = staff_client.get(customer.get_absolute_url()).content.decode()
    assert customer.account_url in detail
    assert "Account link issued" in detail or "New account link issued" in detail


def test_it_refuses_strangers_and_anonymous_visitors_the_staff_actions(stranger_client, client):
    customer = CustomerFactory()
    token = customer.account_token
    for url in (
        reverse("customers:account_link_revoke", args=[customer.pk]),
        reverse("customers:account_link_issue", args=[customer.pk]),
    ):
        assert stranger_client.post(url).status_code == 403
        assert client.post(url).status_code == 302  # to the login page
    customer.refresh_from_db()
    assert customer.account_token == token
    assert not AccountActivity.objects.exists()


def test_it_refuses_get_on_the_staff_actions(staff_client):
    customer = CustomerFactory()
    url = reverse("customers:account_link_revoke", args=[customer.pk])
    assert staff_client.get(url).status_code == 405


def test_one_customers_link_never_opens_anothers_documents(client):
    mine, theirs = CustomerFactory(), CustomerFactory()
    paid = make_open(customer=theirs)
    payment = pay(paid)
    note = CreditNote.objects.create(
        invoice=paid, number="CN-1", amount=100, currency="USD", reason="x", outcome="reduced"
    )
    token = mine.account_token
    assert client.get(reverse("account:receipt_pdf", args=[token, payment.pk])).status_code == 404
    assert client.get(reverse("account:credit_note_pdf", args=[token, note.pk])).status_code == 404


def test_every_customer_email_carries_the_account_link():
    invoice = make_open()
    sent = send_invoice_email(invoice)
    url = invoice.customer.account_url
    assert url in sent.body
    assert url in sent.alternatives[0][0]


def test_a_revoked_link_is_left_out_of_emails():
    invoice = make_open()
    invoice.customer.revoke_account_token()
    sent = send_invoice_email(invoice)
    assert "/account/" not in sent.body
    assert "/account/" not in sent.alternatives[0][0]


def test_staff_notices_carry_no_account_link():
    invoice = make_open()
    sent = send_staff_notice(invoice, "flag", "look")
    assert "/account/" not in sent.body
    assert "/account/" not in sent.alternatives[0][0]


def test_it_prints_hostile_text_as_text(client):
    customer = CustomerFactory(name="Name " + SCRIPT, company="Co " + SCRIPT)
    paid = make_open(customer=customer)
    pay(paid)
    CreditNote.objects.create(
        invoice=paid, number="CN-9", amount=100, currency="USD", reason=SCRIPT, outcome="reduced"
    )
    make_open(customer=customer)
    html = client.get(page_url(customer)).content.decode()
    assert "<script>alert" not in html
    assert 'hx-get="/admin/"' not in html
    assert "&lt;script&gt;" in html


# -- paying several invoices from the page ---------------------------------------------


def test_it_offers_the_open_invoices_oldest_first_per_currency(client):
    customer = CustomerFactory()
    newer = make_open(customer=customer, issue_date=date(2026, 3, 1))
    older = make_open(customer=customer, issue_date=date(2026, 1, 1))
    euro = make_open(customer=customer, currency="EUR")
    html = client.get(page_url(customer)).content.decode()
    start = html.index('id="pay-title-USD"')
    usd_form = html[start : html.index("</fieldset>", start)]
    boxes = re.findall(r'name="invoice" value="(\d+)"', usd_form)
    assert boxes == [str(older.pk), str(newer.pk)]
    assert f'value="{euro.pk}"' in html[html.index("pay-title-EUR") :]


def test_it_starts_one_payment_for_the_chosen_invoices(client, stripe_env):
    customer = CustomerFactory()
    first, second = make_open(customer=customer), make_open(customer=customer)
    url = reverse("account:start", args=[customer.account_token])
    response = client.post(url, {"invoice": [first.pk, second.pk]})
    assert response.status_code == 200
    html = response.content.decode()
    group = PaymentGroup.objects.get()
    assert group.amount == first.amount_due + second.amount_due
    assert f'data-payment-intent="{group.stripe_payment_intent_id}"' in html
    assert f'data-amount="{group.amount}"' in html
    assert "$400.00" in html  # the total the customer pays


def test_the_check_refuses_a_stale_choice_with_409(client, stripe_env):
    customer = CustomerFactory()
    first, second = make_open(customer=customer), make_open(customer=customer)
    client.post(
        reverse("account:start", args=[customer.account_token]),
        {"invoice": [first.pk, second.pk]},
    )
    group = PaymentGroup.objects.get()
    check = reverse("account:check", args=[customer.account_token])
    fields = {"payment_intent": group.stripe_payment_intent_id, "amount": str(group.amount)}
    assert client.post(check, fields).status_code == 204
    record_offline_payment(
        invoice=first, amount=500, method="bank_transfer", received_on=date.today()
    )
    response = client.post(check, fields)
    assert response.status_code == 409
    assert first.number in response.content.decode()


def test_another_customers_link_cannot_pay_or_check(client, stripe_env):
    mine, theirs = CustomerFactory(), CustomerFactory()
    invoice = make_open(customer=theirs)
    response = client.post(
        reverse("account:start", args=[mine.account_token]), {"invoice": [invoice.pk]}
    )
    assert "cannot be paid here" in response.content.decode()
    assert not PaymentGroup.objects.exists()
    bad = reverse("account:start", args=["forged"])
    assert client.post(bad, {"invoice": [invoice.pk]}).status_code == 404


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.data())
def test_the_payment_forms_survive_hostile_values(client, stripe_env, data):
    """Never a 5xx; a refused request changes no row."""
    customer = Customer.objects.first() or CustomerFactory()
    if not customer.invoices.exists():
        make_open(customer=customer)
    invoice = customer.invoices.first()
    values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30), st.just(str(invoice.pk)))
    name = data.draw(st.sampled_from(["start", "check"]))
    if name == "start":
        post = {"invoice": data.draw(st.lists(st.sampled_from(HOSTILE), min_size=0, max_size=3))}
    else:
        post = {"payment_intent": data.draw(values), "amount": data.draw(values)}
    with transaction.atomic():
        before = snapshot()
        response = client.post(reverse(f"account:{name}", args=[customer.account_token]), post)
        assert response.status_code < 500
        assert snapshot() == before
        transaction.set_rollback(True)


def test_other_features_add_their_sections_to_the_page(client, monkeypatch, settings, tmp_path):
    """The hook quotes and saved payment methods use: a template and its context."""
    from invoices.account import context

    (tmp_path / "account").mkdir()
    (tmp_path / "account" / "_test_section.html").write_text(
        '<section id="test-section">{{ section.who }}</section>'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    ]
    monkeypatch.setattr(context, "SECTIONS", {})
    context.register_section(
        "notes", "account/_test_section.html", lambda customer: {"who": customer.name}
    )
    customer = CustomerFactory(name="Grace <b>Hopper</b>")
    html = client.get(page_url(customer)).content.decode()
    assert '<section id="test-section">Grace &lt;b&gt;Hopper&lt;/b&gt;</section>' in html


def test_back_from_stripe_it_waits_for_the_webhook_then_stops_asking(client):
    customer = CustomerFactory()
    invoice = make_open(customer=customer)
    group = PaymentGroup.objects.create(
        customer=customer,
        currency="USD",
        amount=invoice.amount_due,
        stripe_payment_intent_id="pi_g",
    )
    url = page_url(customer) + "?payment_intent=pi_g"
    html = client.get(url).content.decode()
    assert "Payment being recorded" in html
    assert 'hx-trigger="load delay:2s"' in html
    for ended in (PaymentGroup.Status.SUCCEEDED, PaymentGroup.Status.CANCELED):
        PaymentGroup.objects.filter(pk=group.pk).update(status=ended)
        html = client.get(url).content.decode()
        assert "Payment being recorded" not in html
        assert "delay:2s" not in html
    # Another customer's intent id never shows as theirs.
    other = CustomerFactory()
    PaymentGroup.objects.filter(pk=group.pk).update(status=PaymentGroup.Status.PENDING)
    theirs = client.get(page_url(other) + "?payment_intent=pi_g").content.decode()
    assert "being recorded" not in theirs


def test_after_a_few_polls_it_asks_stripe_itself(client, stripe_env):
    """The webhook is late: the page's own poll books the payment through the reconciler."""
    customer = CustomerFactory()
    invoices = [make_open(customer=customer), make_open(customer=customer)]
    client.post(
        reverse("account:start", args=[customer.account_token]),
        {"invoice": [i.pk for i in invoices]},
    )
    group = PaymentGroup.objects.get()
    stripe_env.client().v1.payment_intents.confirm(
        group.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://127.0.0.1/return"},
    )
    url = reverse("account:invoices", args=[customer.account_token])
    query = f"?payment_intent={group.stripe_payment_intent_id}"
    early = client.get(url + query + "&poll=1").content.decode()
    assert "Payment being recorded" in early
    assert "poll=2" in early
    late = client.get(url + query + "&poll=4").content.decode()
    assert "Payment being recorded" not in late
    assert 'id="nothing-open"' in late
    group.refresh_from_db()
    assert group.status == PaymentGroup.Status.SUCCEEDED


def test_it_downloads_the_customers_own_documents(client):
    customer = CustomerFactory()
    paid = make_open(customer=customer)
    payment = pay(paid)
    note = CreditNote.objects.create(
        invoice=paid, number="CN-7", amount=100, currency="USD", reason="x", outcome="reduced"
    )
    token = customer.account_token
    for url in (
        reverse("account:statement_pdf", args=[token]),
        reverse("account:receipt_pdf", args=[token, payment.pk]),
        reverse("account:credit_note_pdf", args=[token, note.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert "no-store" in response["Cache-Control"]
