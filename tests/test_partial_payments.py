"""Partial payments by the customer: where the business allows it, the customer chooses how
much to pay now (at least a minimum, at most the amount due); the PaymentIntent asks for
exactly that and the rest stays due, with reminders.

Against the simulator through the SDK; its events reach the portal as really signed
webhooks. An amount the customer may not pay is refused in plain words before Stripe is
asked for anything.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices import partial_payments
from invoices.documents.reminders import send_due_reminders
from invoices.models import BusinessProfile, Invoice, Payment
from invoices.payments.intents import AmountChanged, check_before_confirm, start_payment
from tests.factories import make_open
from tests.test_debit_refunds import Forwarder
from tests.test_fuzz_inputs import HOSTILE

pytestmark = pytest.mark.django_db


@pytest.fixture
def partial(db) -> BusinessProfile:
    profile = BusinessProfile.load()
    profile.allow_partial_payments = True
    profile.partial_minimum_percent = 10
    profile.save()
    return profile


@pytest.fixture
def forward(stripe_env, client, django_capture_on_commit_callbacks) -> Forwarder:
    forwarder = Forwarder(stripe_env, client)
    deliver = forwarder.deliver

    def deliver_and_commit(event: dict) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            deliver(event)

    forwarder.deliver = deliver_and_commit  # type: ignore[method-assign]
    return forwarder


def pay(client, invoice: Invoice, amount: str | None = None):
    data = {} if amount is None else {"amount": amount}
    response = client.post(reverse("pay:start", args=[invoice.pay_token]), data)
    assert response.status_code == 200
    return response.content.decode()


def intents_at_stripe(sim) -> list:
    return list(sim.client().v1.payment_intents.list(params={"limit": 100}).data)


def test_it_is_off_by_default_and_then_charges_the_full_amount(stripe_env, client):
    invoice = make_open()
    html = pay(client, invoice, "50.00")
    assert 'name="amount"' not in html
    (intent,) = intents_at_stripe(stripe_env)
    assert intent.amount == invoice.amount_due


def test_it_offers_the_amount_field_prefilled_with_the_amount_due(stripe_env, client, partial):
    invoice = make_open()
    html = pay(client, invoice)
    assert 'name="amount"' in html
    assert 'value="200.00"' in html
    assert "at least $20.00, at most $200.00" in html


def test_it_refuses_an_amount_below_the_minimum_and_creates_nothing_at_stripe(
    stripe_env, client, partial
):
    invoice = make_open()
    html = pay(client, invoice, "19.99")
    assert "Enter at least $20.00." in html
    assert 'value="19.99"' in html  # what they typed stays, to be corrected
    assert intents_at_stripe(stripe_env) == []
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.stripe_payment_intent_id == ""


def test_it_never_goes_below_stripes_minimum_charge(stripe_env, client, partial):
    partial.partial_minimum_percent = 0
    partial.save()
    invoice = make_open()
    assert partial_payments.minimum(invoice) == 50  # USD 0.50
    assert "Enter at least $0.50." in pay(client, invoice, "0.49")
    assert intents_at_stripe(stripe_env) == []


def test_it_takes_the_larger_of_the_fixed_and_the_percentage_minimum(partial):
    partial.partial_minimum_amount = Decimal("75.00")
    partial.save()
    invoice = make_open()  # 200.00 due: 10 % is 20.00
    assert partial_payments.minimum(invoice) == 7500
    partial.partial_minimum_amount = Decimal("500")
    partial.save()
    assert partial_payments.minimum(invoice) == invoice.amount_due  # never above what is due


def test_it_refuses_more_than_the_amount_due(stripe_env, client, partial):
    invoice = make_open()
    assert "You can pay at most $200.00, the amount due." in pay(client, invoice, "200.01")
    assert intents_at_stripe(stripe_env) == []


def test_it_reads_zero_decimal_currencies_in_whole_units(stripe_env, client, partial):
    invoice = make_open(currency="JPY", unit_amount=5000)
    assert "Enter a whole amount in JPY, like 1200." in pay(client, invoice, "12.5")
    assert intents_at_stripe(stripe_env) == []
    pay(client, invoice, "2500")
    (intent,) = intents_at_stripe(stripe_env)
    assert (intent.amount, intent.currency) == (2500, "jpy")


def test_it_explains_a_refused_amount_in_the_customers_language(stripe_env, client, partial):
    invoice = make_open()
    invoice.customer.language = "de"
    invoice.customer.save()
    html = pay(client, invoice, "zwanzig")
    assert "Geben Sie einen Betrag in Ziffern ein, z. B. 120,50." in html
    assert "Jetzt zu zahlender Betrag" in html
    assert "Geben Sie mindestens" in pay(client, invoice, "1,00")
    assert intents_at_stripe(stripe_env) == []


def test_it_shows_hostile_input_back_as_text(stripe_env, client, partial):
    invoice = make_open()
    html = pay(client, invoice, '"><script>alert(1)</script>')
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html
    assert "Enter an amount in numbers" in html


def test_it_reads_a_decimal_comma(stripe_env, client, partial):
    invoice = make_open()
    pay(client, invoice, " 120,50 ")
    (intent,) = intents_at_stripe(stripe_env)
    assert intent.amount == 12050


def test_it_checks_the_chosen_amount_when_the_customer_presses_pay(stripe_env, partial):
    invoice = make_open()
    session = start_payment(invoice=invoice, amount=6000)
    assert session.amount == 6000
    check_before_confirm(
        invoice=invoice, payment_intent_id=session.payment_intent_id, shown_amount=6000
    )
    with pytest.raises(AmountChanged, match="amount due is now"):
        check_before_confirm(
            invoice=invoice, payment_intent_id=session.payment_intent_id, shown_amount=1999
        )
    partial.allow_partial_payments = False
    partial.save()
    with pytest.raises(AmountChanged):
        check_before_confirm(
            invoice=invoice, payment_intent_id=session.payment_intent_id, shown_amount=6000
        )
    intent = stripe_env.client().v1.payment_intents.retrieve(session.payment_intent_id)
    assert intent.amount == 6000  # nothing was changed by a refused check


def test_it_pays_a_part_and_then_the_rest_through_webhooks(
    stripe_env, client, partial, forward, mailoutbox
):
    invoice = make_open()
    pay(client, invoice, "50")
    invoice.refresh_from_db()
    sdk = stripe_env.client()
    sdk.v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://x/"},
    )
    forward()

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert (invoice.amount_paid, invoice.amount_due) == (5000, 15000)
    page = client.get(invoice.get_pay_url()).content.decode()
    assert "Paid so far: $50.00" in page
    assert "$150.00 due" in page
    # Returning from Stripe after the part payment was recorded is not "being recorded".
    returned = client.get(
        invoice.get_pay_url(),
        {"payment_intent": invoice.stripe_payment_intent_id, "redirect_status": "succeeded"},
    ).content.decode()
    assert "Payment being recorded" not in returned
    assert "Paid so far: $50.00" in returned
    # Reminders go on for the rest.
    run = send_due_reminders(today=invoice.due_date + timedelta(days=1))
    assert [sent.pk for sent, _ in run.sent] == [invoice.pk]

    html = pay(client, invoice)  # the rest, pre-filled
    assert 'value="150.00"' in html
    invoice.refresh_from_db()
    second = invoice.stripe_payment_intent_id
    assert sdk.v1.payment_intents.retrieve(second).amount == 15000
    sdk.v1.payment_intents.confirm(
        second, params={"payment_method": "pm_card_visa", "return_url": "http://x/"}
    )
    forward()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert (invoice.amount_paid, invoice.amount_due) == (20000, 0)
    assert sorted(invoice.payments.values_list("amount", flat=True)) == [5000, 15000]
    for event in stripe_env.events("payment_intent.succeeded"):
        forward.deliver(event)  # again: applied once
    invoice.refresh_from_db()
    assert invoice.amount_paid == 20000


def expected_amount(raw: str) -> int | None:
    """An independent reading of the field: ASCII digits, one optional . or , with at most
    two decimals, between the minimum (20.00) and the amount due (200.00)."""
    text = raw.strip().replace("\u00a0", "").replace("\u202f", "")
    if not re.fullmatch(r"[0-9]{1,12}([.,][0-9]{1,4})?", text, re.ASCII):
        return None
    try:
        value = Decimal(text.replace(",", ".")) * 100
    except InvalidOperation:
        return None
    if value != value.to_integral_value() or not 2000 <= value <= 20000:
        return None
    return int(value)


amounts = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(["20", "20.00", "19.99", "200", "200.00", "200.001", "99,5", "1,000.50"]),
    st.decimals(min_value=0, max_value=300, places=2).map(str),
    st.text(alphabet="0123456789.,- \u00a0e²", max_size=12),
    st.text(max_size=20),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=amounts)
def test_the_amount_field_survives_hostile_input(stripe_env, client, partial, raw):
    invoice = make_open()
    before = len(intents_at_stripe(stripe_env))
    response = client.post(reverse("pay:start", args=[invoice.pay_token]), {"amount": raw})
    assert response.status_code == 200
    html = response.content.decode()
    wanted = expected_amount(raw)
    if wanted is None:
        assert 'class="field-error"' in html
        assert len(intents_at_stripe(stripe_env)) == before
        assert not invoice.payments.exists()
    else:
        assert 'class="field-error"' not in html
        payment = invoice.payments.get()
        assert payment.amount == wanted
        intent = stripe_env.client().v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
        assert intent.amount == wanted
