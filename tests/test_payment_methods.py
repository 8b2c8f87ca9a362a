"""How a payment was made: kept from Stripe's charge, named the same way everywhere."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from invoices import payment_methods
from invoices.models import Invoice, InvoiceActivity, Payment
from invoices.services import record_offline_payment
from tests import stripe_events as se
from tests.factories import make_open, open_with_intent

pytestmark = pytest.mark.django_db

US_BANK = {
    "type": "us_bank_account",
    "us_bank_account": {
        "bank_name": "STRIPE TEST BANK",
        "last4": "6789",
        "account_holder_type": "individual",
        "routing_number": "110000000",
    },
}
SEPA = {
    "type": "sepa_debit",
    "sepa_debit": {"country": "DE", "last4": "3000", "bank_code": "37040044"},
}


def charge_paid_with(invoice: Invoice, details: dict) -> dict:
    charge = se.charge("pi_test_1", amount=invoice.total)
    charge["payment_method_details"] = details
    return charge


def test_it_keeps_the_card_from_the_charge(client):
    invoice = open_with_intent()
    # Stripe sends the charge's event first; the intent's carries only the charge's id.
    se.deliver(client, se.event("charge.succeeded", se.charge("pi_test_1", amount=invoice.total)))
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    payment = invoice.payments.get()
    assert payment.method_type == payment_methods.MethodType.CARD
    assert payment.method_details == {"brand": "visa", "last4": "4242"}
    assert payment.method_label == "Visa •••• 4242"
    received = invoice.activities.get(kind=InvoiceActivity.Kind.PAYMENT_SUCCEEDED)
    assert received.message.endswith("received (Visa •••• 4242)")


def test_it_names_a_us_bank_account_by_its_bank(client):
    invoice = open_with_intent()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    se.deliver(client, se.event("charge.succeeded", charge_paid_with(invoice, US_BANK)))
    payment = invoice.payments.get()
    assert payment.method_type == "us_bank_account"
    # Only what identifies the account to a person is kept (no routing number).
    assert payment.method_details == {"bank_name": "STRIPE TEST BANK", "last4": "6789"}
    assert payment.method_label == "STRIPE TEST BANK •••• 6789"
    assert (payment.card_brand, payment.card_last4) == ("", "")


def test_it_names_a_sepa_debit_by_its_country(client):
    invoice = open_with_intent()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    se.deliver(client, se.event("charge.succeeded", charge_paid_with(invoice, SEPA)))
    payment = invoice.payments.get()
    assert payment.method_type == "sepa_debit"
    assert payment.method_label == "SEPA DE •••• 3000"


def test_it_ignores_a_type_it_does_not_know(client):
    invoice = open_with_intent()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    strange = {"type": "<script>", "<script>": {"last4": "1"}}
    se.deliver(client, se.event("charge.succeeded", charge_paid_with(invoice, strange)))
    payment = invoice.payments.get()
    assert payment.method_type == ""
    assert payment.method_details == {}


def test_an_offline_payment_says_so(staff):
    invoice = make_open(lines=1)
    payment = record_offline_payment(
        invoice=invoice,
        amount=100,
        method=Payment.Method.BANK_TRANSFER,
        received_on=invoice.issue_date,
        reference="TX-9",
        actor=staff,
    )
    payment.refresh_from_db()
    assert payment.method_type == payment_methods.MethodType.OFFLINE
    assert payment.method_label == "Bank transfer (ref TX-9)"


def test_rows_from_before_the_type_was_kept_are_named_from_the_card_columns():
    invoice = make_open(lines=1)
    payment = Payment.objects.create(
        invoice=invoice, amount=100, currency="USD", card_brand="amex", card_last4="0005"
    )
    assert payment.method_type == ""
    assert payment.method_label == "Amex •••• 0005"


def test_the_label_is_in_the_active_language():
    invoice = make_open(lines=1)
    payment = Payment(invoice=invoice, amount=1, currency="EUR", method_type="us_bank_account")
    with translation.override("de"):
        assert payment.method_label == "Bankkonto"
    with translation.override("fr"):
        assert payment.method_label == "Compte bancaire"


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_in_rows_written_before_the_type_was_kept():
    before, after = (
        [("invoices", "0009_balance_buckets")],
        [("invoices", "0010_payment_method_type")],
    )
    # The invoice is made with today's models, before going back: later migrations add
    # invoice columns that the old schema does not have.
    invoice = make_open(lines=1)
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    rows = {
        "card": {"method": "card", "card_brand": "visa", "card_last4": "4242"},
        "unconfirmed": {"method": "card"},
        "transfer": {"method": "bank_transfer", "reference": "TX-1"},
    }
    ids = {
        name: old.get_model("invoices", "Payment")
        .objects.create(invoice_id=invoice.pk, amount=1, currency="USD", **fields)
        .pk
        for name, fields in rows.items()
    }
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    stored = {name: Payment.objects.get(pk=pk) for name, pk in ids.items()}
    assert (stored["card"].method_type, stored["card"].method_details) == (
        "card",
        {"brand": "visa", "last4": "4242"},
    )
    assert stored["unconfirmed"].method_type == ""
    assert stored["transfer"].method_type == "offline"
    assert stored["transfer"].method_label == "Bank transfer (ref TX-1)"
