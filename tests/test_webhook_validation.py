"""Signed events whose data can never apply: stored once, flagged, answered 200."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from invoices.models import Invoice, InvoiceFlag, StripeEvent
from tests import stripe_events as se
from tests.factories import open_with_intent

pytestmark = pytest.mark.django_db


def snapshot(invoice: Invoice) -> tuple:
    invoice.refresh_from_db()
    payments = list(invoice.payments.values_list("status", "amount", "amount_refunded"))
    return (
        invoice.status,
        invoice.amount_paid,
        invoice.amount_refunded,
        invoice.amount_due,
        payments,
    )


def assert_refused_and_flagged(client: Client, invoice: Invoice, body: dict) -> StripeEvent:
    before = snapshot(invoice)
    response = se.deliver(client, body)
    assert response.status_code == 200  # Stripe must not retry it for days
    assert snapshot(invoice) == before
    stored = StripeEvent.objects.get(event_id=body["id"])
    assert stored.status == StripeEvent.Status.INVALID
    assert stored.error
    flag = InvoiceFlag.objects.get(invoice=invoice, stripe_event_id=body["id"])
    assert flag.kind == InvoiceFlag.Kind.INVALID_EVENT
    # A second delivery is a duplicate: no second flag.
    assert se.deliver(client, body).status_code == 200
    assert InvoiceFlag.objects.filter(stripe_event_id=body["id"]).count() == 1
    return stored


def test_a_negative_amount_is_not_recorded_as_a_payment(client):
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice, amount=-5000))
    assert_refused_and_flagged(client, invoice, body)


def test_a_fractional_amount_is_not_truncated(client):
    invoice = open_with_intent()
    obj = se.intent(invoice)
    obj["amount"] = obj["amount_received"] = invoice.amount_due - 0.5
    assert_refused_and_flagged(client, invoice, se.event("payment_intent.succeeded", obj))


def test_a_refund_above_the_charge_is_refused(client):
    invoice = open_with_intent()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    paid = invoice.total
    body = se.event("charge.refunded", se.charge("pi_test_1", amount=paid, refunded=paid + 1))
    stored = assert_refused_and_flagged(client, invoice, body)
    assert "more than the charge" in stored.error


@pytest.mark.parametrize(
    ("field", "value"),
    [("metadata", ["invoice_id", "1"]), ("currency", 5), ("amount", "5000"), ("amount", True)],
)
def test_malformed_fields_are_flagged_not_retried(client, field, value):
    invoice = open_with_intent()
    obj = se.intent(invoice)
    obj[field] = value
    assert_refused_and_flagged(client, invoice, se.event("payment_intent.succeeded", obj))


def test_an_invoice_id_that_is_not_a_number_is_stored_as_invalid(client):
    body = se.event("payment_intent.succeeded", se.intent(None, metadata={"invoice_id": "12abc"}))
    response = se.deliver(client, body)
    assert response.status_code == 200
    assert StripeEvent.objects.get().status == StripeEvent.Status.INVALID


def test_an_event_without_data_object_is_stored_as_invalid(client):
    body = se.event("payment_intent.succeeded", {})
    body["data"] = {"previous_attributes": {}}
    response = se.deliver(client, body)
    assert response.status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.status == StripeEvent.Status.INVALID
    assert "data.object" in stored.error


def test_a_nul_character_anywhere_is_stored_once_and_applied(client):
    invoice = open_with_intent()
    obj = se.intent(invoice)
    obj["description"] = "Invoice\u0000 payment"
    obj["metadata"]["note\u0000"] = "x\u0000y"
    body = se.event("payment_intent.succeeded", obj)
    assert se.deliver(client, body).status_code == 200
    assert se.deliver(client, body).status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.status == StripeEvent.Status.PROCESSED
    assert "\x00" not in json.dumps(stored.payload).encode().decode("unicode_escape")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_a_lone_surrogate_is_stored_not_a_500(client):
    invoice = open_with_intent()
    obj = se.intent(invoice)
    obj["description"] = "x"
    payload = json.dumps(se.event("payment_intent.succeeded", obj)).replace('"x"', '"\\ud800"')
    response = se.deliver(client, payload.encode())
    assert response.status_code == 200
    assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED


def test_a_stale_event_is_reported_as_stale_with_several_secrets(client, settings, caplog):
    # The matching secret first: the other one's mismatch must not hide why it failed.
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_simulator", "whsec_new"]
    invoice = open_with_intent()
    payload = json.dumps(se.event("payment_intent.succeeded", se.intent(invoice))).encode()
    old = se.signature(payload, timestamp=int(time.time()) - 301)
    response = se.deliver(client, payload, HTTP_STRIPE_SIGNATURE=old)
    assert response.status_code == 400
    assert b"tolerance" in response.content
    assert "tolerance" in caplog.text
    assert not StripeEvent.objects.exists()
