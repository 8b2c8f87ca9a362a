"""Refunds of bank debits as Stripe really runs them: the credit goes back through the bank,
so the refund is pending for days and then succeeds or fails.

A failed refund puts the money back on the invoice (activity, staff flag and notice, all in
the webhook's transaction); events repeated or out of order change nothing more. Everything
runs against the simulator through the SDK, and its events reach the portal as really
signed webhooks.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from invoices.models import (
    BusinessProfile,
    EmailLog,
    Invoice,
    InvoiceActivity,
    InvoiceFlag,
    Payment,
    Refund,
)
from invoices.payments.intents import start_payment
from invoices.payments.refunds import request_refund
from stripe_sim import banks
from stripe_sim.testing import SimulatorProcess
from tests import stripe_events as se
from tests.factories import make_open

pytestmark = pytest.mark.django_db

DAYS = 4 * 86400
ACCEPTANCE = {
    "customer_acceptance": {
        "type": "online",
        "online": {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux)"},
    }
}


class Forwarder:
    """Sends the simulator's events to the portal's webhook, signed with its real secret,
    each once (or again on purpose)."""

    def __init__(self, sim: SimulatorProcess, client: Client) -> None:
        self.sim, self.client, self.sent = sim, client, set()

    def __call__(self) -> list[dict[str, Any]]:
        fresh = [e for e in self.sim.events() if e["id"] not in self.sent]
        for event in fresh:
            self.deliver(event)
        return fresh

    def deliver(self, event: dict[str, Any]) -> None:
        response = se.deliver(self.client, event, secret=self.sim.webhook_secret)
        assert response.status_code == 200, response.content
        self.sent.add(event["id"])


@pytest.fixture
def forward(stripe_env, client, django_capture_on_commit_callbacks) -> Forwarder:
    stripe_env.configure(settle_delay=DAYS)
    forwarder = Forwarder(stripe_env, client)
    deliver = forwarder.deliver

    def deliver_and_commit(event: dict[str, Any]) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            deliver(event)

    forwarder.deliver = deliver_and_commit  # type: ignore[method-assign]
    return forwarder


def paid_by_debit(sim: SimulatorProcess, forward: Forwarder, data: dict[str, Any]) -> Payment:
    """An invoice paid by a bank debit that has settled, as the webhooks said."""
    profile = BusinessProfile.load()
    profile.accept_us_bank_account = profile.accept_sepa_debit = True
    profile.save()
    currency = "USD" if data["type"] == "us_bank_account" else "EUR"
    invoice = make_open(currency=currency)
    session = start_payment(invoice=invoice)
    client = sim.client()
    intent = client.v1.payment_intents.confirm(
        session.payment_intent_id,
        params={"payment_method_data": data, "mandate_data": ACCEPTANCE},
    )
    if intent.status == "requires_action":
        client.v1.payment_intents.verify_microdeposits(
            intent.id, params={"descriptor_code": "SM11AA"}
        )
    forward()
    sim.advance(DAYS + 200)
    forward()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    return invoice.payments.get(status=Payment.Status.SUCCEEDED)


def ach(account_number: str) -> dict[str, Any]:
    return {
        "type": "us_bank_account",
        "us_bank_account": {
            "routing_number": banks.TEST_ROUTING_NUMBER,
            "account_number": account_number,
            "account_holder_type": "individual",
        },
        "billing_details": {"name": "Jenny Rosen"},
    }


def sepa(iban: str) -> dict[str, Any]:
    return {
        "type": "sepa_debit",
        "sepa_debit": {"iban": iban},
        "billing_details": {"name": "Jenny Rosen", "email": "jenny@example.com"},
    }


def refund_emails() -> int:
    return EmailLog.objects.filter(kind="refund").count()


def test_it_shows_a_debit_refund_as_pending_until_the_bank_has_sent_it(
    stripe_env, forward, staff_client, client
):
    payment = paid_by_debit(stripe_env, forward, ach(banks.ACH_SUCCESS))
    invoice = payment.invoice
    refund = request_refund(payment=payment, amount=5000)
    assert refund.status == Refund.Status.PENDING
    forward()

    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.amount_refund_pending, payment.amount_refunded) == (5000, 0)
    assert invoice.amount_refunded == 0
    assert refund_emails() == 0  # nobody is told money is back before it is
    staff_page = staff_client.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert "$50.00 pending" in staff_page
    ledger = staff_client.get(reverse("invoices:ledger")).content.decode()
    assert "badge-pending" in ledger
    customer_page = client.get(invoice.get_pay_url()).content.decode()
    assert "Refunded:" not in customer_page
    assert "A refund of $50.00 is on its way." in customer_page

    stripe_env.advance(DAYS + 1)
    forward()
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.amount_refund_pending, payment.amount_refunded) == (0, 5000)
    assert invoice.amount_refunded == 5000
    assert refund_emails() == 1
    customer_page = client.get(invoice.get_pay_url()).content.decode()
    assert "Refunded: $50.00" in customer_page
    assert "on its way" not in customer_page


@pytest.mark.parametrize(
    "data",
    [ach(banks.ACH_REFUND_FAILS), sepa(banks.SEPA_REFUND_FAILS)],
    ids=["ach", "sepa"],
)
def test_it_puts_the_money_back_when_a_debit_refund_fails(stripe_env, forward, data):
    payment = paid_by_debit(stripe_env, forward, data)
    invoice = payment.invoice
    request_refund(payment=payment, amount=payment.amount)
    forward()
    payment.refresh_from_db()
    assert payment.refundable == 0

    stripe_env.advance(DAYS + 1)
    events = forward()
    assert {e["type"] for e in events} >= {"refund.updated", "refund.failed"}

    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.amount_refunded == 0
    assert (payment.amount_refunded, payment.amount_refund_pending) == (0, 0)
    assert payment.refundable == payment.amount  # it can be refunded again
    refund = Refund.objects.get()
    assert (refund.status, refund.failure_reason) == (Refund.Status.FAILED, "declined")
    failed = invoice.activities.filter(kind=InvoiceActivity.Kind.REFUND_FAILED)
    assert failed.count() == 1
    assert "has not been refunded" in failed.get().message
    assert invoice.flags.filter(kind=InvoiceFlag.Kind.REFUND_FAILED).count() == 1
    assert EmailLog.objects.filter(kind="notice", key__contains="refund-failed").count() == 1
    assert refund_emails() == 0


def test_it_applies_repeated_and_reversed_refund_events_once(stripe_env, forward, client):
    payment = paid_by_debit(stripe_env, forward, ach(banks.ACH_REFUND_FAILS))
    invoice = payment.invoice
    request_refund(payment=payment, amount=payment.amount)
    stripe_env.advance(DAYS + 1)
    kinds = ("refund.", "charge.refund")
    refund_events = [e for e in stripe_env.events() if e["type"].startswith(kinds)]
    # The failure first, then the pending news late, then everything again.
    for event in [*reversed(refund_events), *refund_events]:
        forward.deliver(event)

    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert Refund.objects.get().status == Refund.Status.FAILED
    assert invoice.amount_refunded == 0
    assert payment.refundable == payment.amount
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.REFUND_FAILED).count() == 1
    assert invoice.flags.filter(kind=InvoiceFlag.Kind.REFUND_FAILED).count() == 1
    assert EmailLog.objects.filter(kind="notice", key__contains="refund-failed").count() == 1
