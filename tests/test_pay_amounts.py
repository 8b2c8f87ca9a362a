"""The amount the customer pays is the amount due now, against the simulator.

Staff recording money another way moves the open PaymentIntent; the pay page
re-checks at the moment the customer presses Pay; stale Stripe ids heal;
Stripe's per-currency minimums are a clear sentence; idempotency keys are
unique per deployment and database.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client

from customers.models import Customer
from invoices import stripe_api
from invoices.models import Installation, Invoice, InvoiceFlag, Payment
from invoices.payments import intents as payments
from invoices.services import record_offline_payment
from tests import stripe_events as se
from tests.factories import make_open

pytestmark = pytest.mark.django_db


def start(client: Client, invoice: Invoice):
    return client.post(f"{invoice.get_pay_url()}pay/")


def check(client: Client, invoice: Invoice, **data: str):
    return client.post(f"{invoice.get_pay_url()}pay/check/", data)


def form_data(response) -> dict[str, str]:
    html = response.content.decode()
    found = dict(re.findall(r'data-(payment-intent|amount)="([^"]*)"', html))
    assert found, html
    return {"payment_intent": found["payment-intent"], "amount": found["amount"]}


def pay_offline(invoice: Invoice, amount: int) -> None:
    record_offline_payment(
        invoice=invoice, amount=amount, method="bank_transfer", received_on=date.today()
    )


def sim_intent(sim, intent_id: str):
    return sim.client().v1.payment_intents.retrieve(intent_id)


def test_an_offline_payment_moves_the_open_intent_to_the_new_amount_due(client, stripe_env):
    invoice = make_open(lines=1, unit_amount=120000)
    shown = form_data(start(client, invoice))
    assert shown["amount"] == "120000"
    pay_offline(invoice, 50000)
    assert sim_intent(stripe_env, shown["payment_intent"]).amount == 70000
    assert Payment.objects.get(stripe_payment_intent_id=shown["payment_intent"]).amount == 70000


def test_paying_the_rest_offline_cancels_the_open_intent(client, stripe_env):
    invoice = make_open(lines=1, unit_amount=120000)
    shown = form_data(start(client, invoice))
    pay_offline(invoice, 120000)
    assert sim_intent(stripe_env, shown["payment_intent"]).status == "canceled"


def test_the_pay_time_check_passes_when_the_form_shows_the_amount_due(client, stripe_env):
    invoice = make_open(lines=1, unit_amount=120000)
    shown = form_data(start(client, invoice))
    assert check(client, invoice, **shown).status_code == 204


def test_the_pay_time_check_refuses_a_stale_amount_with_a_fresh_form(client, stripe_env):
    invoice = make_open(lines=1, unit_amount=120000)
    shown = form_data(start(client, invoice))
    pay_offline(invoice, 50000)
    response = check(client, invoice, **shown)
    assert response.status_code == 409
    html = response.content.decode()
    assert "The amount due is now $700.00" in html
    assert "Nothing was charged" in html
    assert "Pay $700.00" in html
    fresh = form_data(response)
    assert fresh["amount"] == "70000"
    assert sim_intent(stripe_env, fresh["payment_intent"]).amount == 70000
    assert check(client, invoice, **fresh).status_code == 204


def test_the_pay_time_check_moves_an_intent_that_staff_changes_left_behind(
    client, stripe_env, monkeypatch
):
    """Even when updating the intent failed while staff recorded the money."""
    invoice = make_open(lines=1, unit_amount=120000)
    shown = form_data(start(client, invoice))
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=50000, amount_due=70000)
    assert sim_intent(stripe_env, shown["payment_intent"]).amount == 120000
    assert check(client, invoice, **shown).status_code == 409
    assert sim_intent(stripe_env, shown["payment_intent"]).amount == 70000


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"payment_intent": "pi_other", "amount": "120000"},
        {"amount": "12\x00", "payment_intent": ""},
        {"amount": "-1"},
        {"amount": "١٢٠٠٠٠"},
    ],
)
def test_the_pay_time_check_refuses_bad_input_without_a_500(client, stripe_env, data):
    invoice = make_open(lines=1, unit_amount=120000)
    start(client, invoice)
    response = check(client, invoice, **data)
    assert response.status_code == 409
    assert "Nothing was charged" in response.content.decode()


def test_the_pay_time_check_on_a_paid_invoice_says_so(client, stripe_env):
    invoice = make_open(lines=1, unit_amount=120000)
    shown = form_data(start(client, invoice))
    pay_offline(invoice, 120000)
    response = check(client, invoice, **shown)
    assert response.status_code == 409
    assert "already paid" in response.content.decode()
    assert "data-payment-form" not in response.content.decode()


def test_an_overpayment_in_a_race_is_flagged_with_a_one_click_refund(
    client, staff_client, stripe_env
):
    invoice = make_open(lines=1, unit_amount=120000)
    shown = form_data(start(client, invoice))
    intent_id = shown["payment_intent"]
    # The customer's confirmation reached Stripe before staff recorded the transfer.
    stripe_env.client().v1.payment_intents.confirm(
        intent_id, params={"payment_method": "pm_card_visa", "return_url": "http://x/"}
    )
    pay_offline(invoice, 50000)
    intent = sim_intent(stripe_env, intent_id).to_dict()
    assert intent["amount_received"] == 120000
    se.deliver(client, se.event("payment_intent.succeeded", intent))
    invoice.refresh_from_db()
    flag = invoice.flags.get(kind=InvoiceFlag.Kind.OVERPAID)
    assert flag.amount == 50000
    page = staff_client.get(invoice.get_absolute_url()).content.decode()
    assert "Refund the excess $500.00" in page
    response = staff_client.post(f"/invoices/{invoice.pk}/flags/{flag.pk}/refund-excess/")
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.resolved_at is not None
    refunds = list(stripe_env.client().v1.refunds.list(params={"payment_intent": intent_id}))
    assert [r.amount for r in refunds] == [50000]
    # A second click refunds nothing more.
    staff_client.post(f"/invoices/{invoice.pk}/flags/{flag.pk}/refund-excess/")
    refunds = list(stripe_env.client().v1.refunds.list(params={"payment_intent": intent_id}))
    assert len(refunds) == 1


def test_the_refund_excess_action_is_staff_only(stranger_client, client):
    invoice = make_open()
    flag = InvoiceFlag.objects.create(invoice=invoice, kind="overpaid", message="x", amount=5)
    url = f"/invoices/{invoice.pk}/flags/{flag.pk}/refund-excess/"
    assert stranger_client.post(url).status_code == 403
    assert client.post(url).status_code == 302
    flag.refresh_from_db()
    assert flag.resolved_at is None


@pytest.mark.django_db(transaction=True)
def test_stale_ids_heal_and_the_invoice_ends_paid(stripe_env, live_server, wired):
    """The simulator forgets every object (restart, key or account switch) between two tries."""
    invoice = make_open()
    first = payments.start_payment(invoice=invoice)
    customer_id = Customer.objects.get(pk=invoice.customer_id).stripe_customer_id
    assert customer_id.startswith("cus_")
    stripe_env.reset()  # forgets the wiring too: the webhooks are wired again
    stripe_env.configure(
        webhook_endpoints=[f"{live_server.url}/invoices/wh/"], delivery_enabled=True
    )
    second = payments.start_payment(invoice=invoice)
    assert second.payment_intent_id != first.payment_intent_id
    assert Customer.objects.get(pk=invoice.customer_id).stripe_customer_id not in ("", customer_id)
    assert Payment.objects.get(stripe_payment_intent_id=first.payment_intent_id).status == (
        Payment.Status.CANCELED
    )
    stripe_env.client().v1.payment_intents.confirm(
        second.payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://x/"},
    )
    stripe_env.wait_for_delivery(type="payment_intent.succeeded", status="200")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_below_stripes_minimum_is_a_clear_sentence_before_calling_stripe(client, stripe_env):
    invoice = make_open(lines=1, unit_amount=10000, currency="GBP")
    pay_offline(invoice, 9980)
    page = client.get(invoice.get_pay_url()).content.decode()
    assert "The smallest card payment in GBP is £0.30." in page
    assert "remaining £0.20" in page
    response = start(client, invoice)
    assert "The smallest card payment in GBP is £0.30." in response.content.decode()
    assert list(stripe_env.client().v1.payment_intents.list().data) == []


def test_stripes_amount_too_small_error_becomes_the_same_sentence(client, stripe_env, monkeypatch):
    """Should our table ever hold a limit too low, Stripe's own refusal is translated."""
    from portal import money

    invoice = make_open(lines=1, unit_amount=100, currency="DKK")
    monkeypatch.setitem(money.MINIMUM_CHARGE, "DKK", 1)
    page = start(client, invoice).content.decode()
    assert "data-payment-form" not in page
    assert "below the smallest card payment Stripe accepts in DKK" in page
    assert list(stripe_env.client().v1.payment_intents.list().data) == []


def test_idempotency_keys_are_unique_per_deployment_and_database(settings, db):
    key = stripe_api.idempotency_key("pi", 1, 1000, 0)
    install = Installation.current_key()
    assert key == f"{settings.PORTAL_ID}:{install}:pi:1:1000:0"
    settings.PORTAL_ID = "staging"
    assert stripe_api.idempotency_key("pi", 1, 1000, 0) != key
    # A reset database gets a new random install key, so the same invoice number and
    # amount never replays another database's PaymentIntent.
    Installation.objects.all().delete()
    assert Installation.current_key() != install


def test_two_databases_on_one_account_get_two_intents_for_invoice_one(client, stripe_env):
    invoice = make_open(lines=1, unit_amount=5000)
    first = form_data(start(client, invoice))["payment_intent"]
    # The same invoice pk, customer and amount after a database reset.
    Installation.objects.all().delete()
    Invoice.objects.filter(pk=invoice.pk).update(stripe_payment_intent_id="")
    Payment.objects.all().delete()
    second = form_data(start(client, invoice))["payment_intent"]
    assert second != first


def test_an_invoice_whose_intent_stripe_forgot_can_still_be_voided(client, stripe_env):
    from invoices.services import void_invoice

    invoice = make_open()
    start(client, invoice)
    stripe_env.reset()  # forgets the wiring too: the webhooks are wired again
    invoice.refresh_from_db()
    assert void_invoice(invoice=invoice).status == Invoice.Status.VOID


def test_marking_uncollectible_cancels_the_open_intent(client, stripe_env):
    from invoices.services import mark_uncollectible

    invoice = make_open()
    shown = form_data(start(client, invoice))
    mark_uncollectible(invoice=invoice)
    assert sim_intent(stripe_env, shown["payment_intent"]).status == "canceled"
    response = check(client, invoice, **shown)
    assert response.status_code == 409
    assert "can no longer be paid online" in response.content.decode()
