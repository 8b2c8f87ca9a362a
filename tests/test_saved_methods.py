"""Saved payment methods: the "Save this card/account" tick on the pay page, what Stripe's
`payment_method.attached` / `detached` record, staff's autopay switch, the customer's
removal link in every email, and the email asking for a new card before one expires."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Customer
from invoices.models import (
    BusinessProfile,
    EmailLog,
    RecurringTemplate,
    SavedMethodActivity,
    SavedPaymentMethod,
    StripeEvent,
)
from invoices.outbox import queue_email
from invoices.saved_method_expiry import notify_expiring
from invoices.saved_methods import removal_token, removal_url
from tests import stripe_events as se
from tests.factories import CustomerFactory, make_open
from tests.test_fuzz_inputs import HOSTILE

pytestmark = pytest.mark.django_db


def card_pm(customer_id: str, pm_id: str = "pm_saved_1", **card: object) -> dict:
    """A card PaymentMethod as Stripe sends it in `payment_method.attached`."""
    details = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, **card}
    return {
        "id": pm_id,
        "object": "payment_method",
        "type": "card",
        "card": details,
        "customer": customer_id,
        "metadata": {},
    }


def saved_card(customer: Customer, **fields: object) -> SavedPaymentMethod:
    values = {
        "stripe_payment_method_id": "pm_saved_1",
        "stripe_customer_id": customer.stripe_customer_id or "cus_saved",
        "method_type": "card",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2030,
        **fields,
    }
    return SavedPaymentMethod.objects.create(customer=customer, **values)


# -- the tick on the pay page ------------------------------------------------------------


def test_it_offers_to_save_the_card_naming_the_business_with_the_consent(client, stripe_env):
    BusinessProfile.objects.update_or_create(pk=1, defaults={"name": "<b>Acme</b> & Co"})
    invoice = make_open()
    response = client.post(reverse("pay:start", args=[invoice.pay_token]))
    body = response.content.decode()
    assert "data-save-method" in body
    assert (
        "Save this card/account for future invoices from &lt;b&gt;Acme&lt;/b&gt; &amp; Co" in body
    )
    assert "you authorise &lt;b&gt;Acme&lt;/b&gt; &amp; Co to send instructions" in body
    assert 'data-business-name="&lt;b&gt;Acme&lt;/b&gt; &amp; Co"' in body
    assert "<b>Acme</b>" not in body


def test_it_sets_setup_future_usage_at_the_pay_check_and_unsets_it(client, stripe_env):
    invoice = make_open()
    client.post(reverse("pay:start", args=[invoice.pay_token]))
    invoice.refresh_from_db()
    intent_id = invoice.stripe_payment_intent_id
    check = reverse("pay:check", args=[invoice.pay_token])
    stripe = stripe_env.client()

    def ask(save: str | None) -> str | None:
        data = {"payment_intent": intent_id, "amount": str(invoice.amount_due)}
        if save is not None:
            data["save_method"] = save
        assert client.post(check, data).status_code == 204
        return stripe.v1.payment_intents.retrieve(intent_id).setup_future_usage

    assert ask("1") == "off_session"
    assert ask(None) == "off_session"  # an old page without the tick changes nothing
    assert ask("yes") == "off_session"  # nor does a value that is not 0 or 1
    assert ask("0") is None
    # The intent's customer is the invoice customer's Stripe customer (where it is saved).
    invoice.customer.refresh_from_db()
    assert stripe.v1.payment_intents.retrieve(intent_id).customer == (
        invoice.customer.stripe_customer_id
    )


def test_it_never_saves_from_a_stale_form(client, stripe_env):
    invoice = make_open()
    client.post(reverse("pay:start", args=[invoice.pay_token]))
    invoice.refresh_from_db()
    data = {"payment_intent": invoice.stripe_payment_intent_id, "amount": "1", "save_method": "1"}
    response = client.post(reverse("pay:check", args=[invoice.pay_token]), data)
    assert response.status_code == 409
    intent = stripe_env.client().v1.payment_intents.retrieve(invoice.stripe_payment_intent_id)
    assert intent.setup_future_usage is None


# -- what Stripe's webhook records ---------------------------------------------------------


def test_it_records_an_attached_card_for_our_customer(client):
    customer = CustomerFactory(stripe_customer_id="cus_ours")
    response = se.deliver(client, se.event("payment_method.attached", card_pm("cus_ours")))
    assert response.status_code == 200
    saved = SavedPaymentMethod.objects.get()
    assert (saved.customer, saved.label, saved.expiry_label) == (
        customer,
        "Visa •••• 4242",
        "12/2030",
    )
    assert saved.autopay
    assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED
    trail = SavedMethodActivity.objects.get()
    assert (trail.kind, trail.source) == (SavedMethodActivity.Kind.SAVED, "stripe")
    # A duplicate delivery under another event id records nothing twice.
    se.deliver(client, se.event("payment_method.attached", card_pm("cus_ours")))
    assert SavedPaymentMethod.objects.count() == 1
    assert SavedMethodActivity.objects.count() == 1


def test_it_records_a_bank_account(client):
    CustomerFactory(stripe_customer_id="cus_bank")
    pm = {
        "id": "pm_bank_1",
        "object": "payment_method",
        "type": "us_bank_account",
        "us_bank_account": {"bank_name": "STRIPE TEST BANK", "last4": "6789"},
        "customer": "cus_bank",
    }
    se.deliver(client, se.event("payment_method.attached", pm))
    saved = SavedPaymentMethod.objects.get()
    assert saved.label == "STRIPE TEST BANK •••• 6789"
    assert saved.expiry_label == ""


def test_it_ignores_a_method_attached_to_a_customer_it_does_not_know(client):
    CustomerFactory(stripe_customer_id="cus_ours")
    se.deliver(client, se.event("payment_method.attached", card_pm("cus_someone_else")))
    assert not SavedPaymentMethod.objects.exists()
    assert StripeEvent.objects.get().status == StripeEvent.Status.IGNORED


@pytest.mark.parametrize(
    "card",
    [
        {"exp_year": 10**9, "exp_month": 13},
        {"exp_year": "2030", "exp_month": True},
        {"brand": "\x00" * 300, "last4": ["4242"]},
    ],
)
def test_it_keeps_a_card_with_nonsense_fields_without_them(client, card):
    CustomerFactory(stripe_customer_id="cus_ours")
    response = se.deliver(client, se.event("payment_method.attached", card_pm("cus_ours", **card)))
    assert response.status_code == 200
    saved = SavedPaymentMethod.objects.get()
    assert saved.exp_year is None or saved.exp_year == 2030
    assert len(saved.brand) <= 32


def test_it_forgets_a_detached_method(client):
    customer = CustomerFactory(stripe_customer_id="cus_ours")
    saved_card(customer)
    pm = card_pm(None)
    response = se.deliver(client, se.event("payment_method.detached", pm))
    assert response.status_code == 200
    assert not SavedPaymentMethod.objects.exists()
    trail = SavedMethodActivity.objects.get()
    assert (trail.kind, trail.source, trail.method_label) == ("removed", "stripe", "Visa •••• 4242")


# -- staff: the customer page and the autopay switch ------------------------------------------


def test_it_shows_the_saved_card_and_autopay_on_the_customer_page(staff_client):
    customer = CustomerFactory()
    saved_card(customer, brand="<script>x</script>")
    body = staff_client.get(customer.get_absolute_url()).content.decode()
    assert "&lt;Script&gt;X&lt;/Script&gt; •••• 4242" in body
    assert "expires 12/2030" in body
    assert re.search(r"Autopay <span[^>]*>on</span>", body)
    assert "<script>x</script>" not in body.lower()


def test_it_lets_staff_switch_autopay_off_and_on_with_a_trail(staff_client, staff):
    customer = CustomerFactory()
    saved = saved_card(customer)
    url = reverse("customers:autopay", args=[customer.pk, saved.pk])
    response = staff_client.post(url, {"autopay": "off"})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert not saved.autopay
    staff_client.post(url, {"autopay": "off"})  # again: nothing new to record
    staff_client.post(url, {"autopay": "on"})
    saved.refresh_from_db()
    assert saved.autopay
    kinds = list(SavedMethodActivity.objects.order_by("pk").values_list("kind", "actor"))
    assert kinds == [("autopay_off", staff.pk), ("autopay_on", staff.pk)]


def test_it_refuses_the_autopay_switch_to_strangers(client, stranger_client):
    customer = CustomerFactory()
    saved = saved_card(customer)
    url = reverse("customers:autopay", args=[customer.pk, saved.pk])
    for visitor in (client, stranger_client):
        response = visitor.post(url, {"autopay": "off"})
        assert response.status_code in (302, 403)
        assert "login" in response.get("Location", "login")
    saved.refresh_from_db()
    assert saved.autopay
    assert not SavedMethodActivity.objects.exists()


def test_it_refuses_a_method_of_another_customer(staff_client):
    saved = saved_card(CustomerFactory())
    other = CustomerFactory()
    url = reverse("customers:autopay", args=[other.pk, saved.pk])
    assert staff_client.post(url, {"autopay": "off"}).status_code == 404
    saved.refresh_from_db()
    assert saved.autopay


# -- the customer's removal link -----------------------------------------------------------


def test_every_customer_email_links_to_removing_a_saved_method(
    mailoutbox, django_capture_on_commit_callbacks
):
    invoice = make_open()
    with django_capture_on_commit_callbacks(execute=True):
        queue_email("invoice", invoice)
    saved_card(invoice.customer)
    with django_capture_on_commit_callbacks(execute=True):
        queue_email("invoice", invoice)
    without, with_link = mailoutbox
    url = removal_url(invoice.customer)
    assert url.startswith("http://testserver/pay/saved-methods/")
    assert url not in without.body
    assert url in with_link.body
    html = with_link.alternatives[0][0]
    assert f'href="{url}"' in html
    assert "Remove it" in html


def test_the_removal_page_lists_and_removes_only_that_customers_methods(client, stripe_env):
    customer = CustomerFactory(language="de")
    mine = saved_card(customer)
    theirs = saved_card(CustomerFactory(), stripe_payment_method_id="pm_theirs")
    url = reverse("pay:saved_methods", args=[removal_token(customer)])
    page = client.get(url)
    assert page.status_code == 200
    assert page["Content-Language"] == "de"
    assert "Visa •••• 4242" in page.content.decode()
    # Another customer's method, posted with this customer's link: nothing happens.
    response = client.post(url, {"method": str(theirs.pk)})
    assert response.status_code == 302
    assert SavedPaymentMethod.objects.filter(pk=theirs.pk).exists()
    assert "done=gone" in response["Location"]
    # Its own method: detached at Stripe (the simulator no longer knows it: gone there too).
    response = client.post(url, {"method": str(mine.pk)})
    assert response["Location"].endswith("?done=removed")
    assert not SavedPaymentMethod.objects.filter(pk=mine.pk).exists()
    trail = SavedMethodActivity.objects.get()
    assert (trail.kind, trail.source) == ("removed", "customer")
    after = client.get(response["Location"]).content.decode()
    assert "data-no-saved-methods" in after
    assert "data-saved-notice" in after


def test_the_removal_page_refuses_a_forged_or_other_token(client):
    customer = CustomerFactory()
    saved_card(customer)
    forged = removal_token(customer)[:-2] + "xx"
    other_salt = signing.Signer(salt="something else").sign(str(customer.pk))
    for token in (forged, other_salt, "abc"):
        url = reverse("pay:saved_methods", args=[token])
        assert client.get(url).status_code == 404
        assert client.post(url, {"method": "1"}).status_code == 404
    assert SavedPaymentMethod.objects.count() == 1


# -- a card that expires before the next recurring invoice -------------------------------------


def test_it_asks_once_for_a_new_card_that_expires_before_the_next_run(
    mailoutbox, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    expiring = saved_card(customer, exp_month=1, exp_year=2027)
    saved_card(CustomerFactory(), stripe_payment_method_id="pm_fine", exp_year=2031)
    RecurringTemplate.objects.create(customer=customer, start_date=date(2026, 1, 1))
    RecurringTemplate.objects.create(
        customer=SavedPaymentMethod.objects.get(stripe_payment_method_id="pm_fine").customer,
        start_date=date(2026, 1, 1),
    )
    # On 2 Jan 2027 the next monthly run is 1 Feb 2027: after the card's last day.
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_expiring(today=date(2027, 1, 2)) == 1
        assert notify_expiring(today=date(2027, 1, 3)) == 0
    [email] = mailoutbox
    assert email.to == [customer.email]
    assert "01/2027" in email.body
    assert "Visa •••• 4242" in email.body
    assert removal_url(customer) in email.body
    assert EmailLog.objects.filter(kind="card_expiring").count() == 1
    expiring.refresh_from_db()
    assert expiring.expiry_notice_for == "01/2027"
    assert SavedMethodActivity.objects.filter(kind="expiry_notice").count() == 1


def test_it_does_not_ask_while_the_card_outlasts_the_next_run(mailoutbox):
    customer = CustomerFactory()
    saved_card(customer, exp_month=2, exp_year=2027)
    RecurringTemplate.objects.create(customer=customer, start_date=date(2026, 1, 1))
    assert notify_expiring(today=date(2027, 1, 2)) == 0  # good through 28 Feb; next run 1 Feb
    assert not mail.outbox


def test_the_run_recurring_command_asks_for_new_cards(
    mailoutbox, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    customer = CustomerFactory()
    saved_card(customer, exp_month=1, exp_year=2020)
    RecurringTemplate.objects.create(customer=customer, start_date=date(2099, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_recurring", "--today", "2030-01-01")
    assert [m.to for m in mailoutbox] == [[customer.email]]


def test_a_client_sees_nothing_for_a_customer_without_methods(client: Client):
    customer = CustomerFactory()
    assert removal_url(customer) == ""
    page = client.get(reverse("pay:saved_methods", args=[removal_token(customer)]))
    assert "data-no-saved-methods" in page.content.decode()


# -- hostile input on the new parameters ------------------------------------------------------

VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(save=VALUES)
def test_it_never_fails_on_a_hostile_save_tick(stripe_env, save):
    """Only "1" and "0" change the intent; anything else is a normal answer that leaves it."""
    invoice = make_open()
    client = Client()
    client.post(reverse("pay:start", args=[invoice.pay_token]))
    invoice.refresh_from_db()
    data = {
        "payment_intent": invoice.stripe_payment_intent_id,
        "amount": str(invoice.amount_due),
        "save_method": save,
    }
    response = client.post(reverse("pay:check", args=[invoice.pay_token]), data)
    assert response.status_code in (204, 409)
    intent = stripe_env.client().v1.payment_intents.retrieve(invoice.stripe_payment_intent_id)
    expected = "off_session" if save == "1" else None
    assert intent.setup_future_usage == expected


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(method=VALUES, done=VALUES)
def test_it_never_fails_on_a_hostile_removal_request(method, done):
    customer = CustomerFactory()
    saved = saved_card(customer, stripe_payment_method_id=f"pm_{customer.pk}")
    url = reverse("pay:saved_methods", args=[removal_token(customer)])
    client = Client()
    response = client.post(url, {"method": method})
    assert response.status_code == 302
    assert SavedPaymentMethod.objects.filter(pk=saved.pk).exists() or method.strip() == str(
        saved.pk
    )
    page = client.get(url, {"done": done})
    assert page.status_code in (200, 400)  # 400: a NUL in the query, refused up front
