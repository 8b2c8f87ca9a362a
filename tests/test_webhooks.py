from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from invoices.models import Invoice, InvoiceActivity, InvoiceFlag, Payment, StripeEvent
from tests import stripe_events as se
from tests.factories import open_with_intent

pytestmark = pytest.mark.django_db


def refreshed(invoice: Invoice) -> Invoice:
    invoice.refresh_from_db()
    return invoice


def test_it_marks_the_invoice_paid(client, mailoutbox):
    invoice = open_with_intent()
    response = se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    assert response.status_code == 200
    invoice = refreshed(invoice)
    assert invoice.status == Invoice.Status.PAID
    assert invoice.amount_due == 0
    assert invoice.amount_paid == invoice.total
    payment = invoice.payments.get()
    assert payment.status == Payment.Status.SUCCEEDED
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.PAYMENT_SUCCEEDED).count() == 1
    assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED
    assert StripeEvent.objects.get().invoice == invoice


def test_it_refuses_a_request_without_signature_before_touching_the_database(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.post("/invoices/wh/", b"{}", content_type="application/json")
    assert response.status_code == 400
    assert b"Stripe-Signature" in response.content


def test_it_refuses_a_wrong_secret():
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))
    response = se.deliver(Client(), body, secret="whsec_wrong")
    assert response.status_code == 400
    assert response.content == b"bad signature"
    assert not StripeEvent.objects.exists()
    assert refreshed(invoice).status == Invoice.Status.OPEN


def test_it_refuses_a_stale_timestamp(client):
    invoice = open_with_intent()
    payload = json.dumps(se.event("payment_intent.succeeded", se.intent(invoice))).encode()
    old = se.signature(payload, timestamp=int(time.time()) - 301)
    response = se.deliver(client, payload, HTTP_STRIPE_SIGNATURE=old)
    assert response.status_code == 400
    assert b"tolerance" in response.content
    assert not StripeEvent.objects.exists()


def test_it_refuses_malformed_json_even_when_signed(client):
    response = se.deliver(client, b"{not json")
    assert response.status_code == 400
    assert response.content == b"malformed payload"
    response = se.deliver(client, b'{"hello": "world"}')
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_it_accepts_any_of_several_secrets(client, settings):
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_new", "whsec_old"]
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))
    assert se.deliver(client, body, secret="whsec_old").status_code == 200
    assert refreshed(invoice).status == Invoice.Status.PAID


def test_it_rejects_get(client):
    assert client.get("/invoices/wh/").status_code == 405


def test_a_duplicate_is_answered_200_and_changes_nothing(client):
    invoice = open_with_intent(lines=2)
    body = se.event("payment_intent.succeeded", se.intent(invoice))
    assert se.deliver(client, body).status_code == 200
    response = se.deliver(client, body)
    assert response.status_code == 200
    assert response.content == b"duplicate"
    invoice = refreshed(invoice)
    assert invoice.amount_paid == invoice.total
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.PAYMENT_SUCCEEDED).count() == 1
    assert StripeEvent.objects.count() == 1


def test_the_same_payment_under_two_event_ids_is_applied_once(client):
    invoice = open_with_intent()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    invoice = refreshed(invoice)
    assert invoice.amount_paid == invoice.total
    assert StripeEvent.objects.count() == 2


def test_failed_after_succeeded_does_not_unpay(client):
    invoice = open_with_intent()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    failed = se.intent(invoice, status="requires_payment_method", error="Your card was declined.")
    assert se.deliver(client, se.event("payment_intent.payment_failed", failed)).status_code == 200
    processing = se.intent(invoice, status="processing")
    assert se.deliver(client, se.event("payment_intent.processing", processing)).status_code == 200
    invoice = refreshed(invoice)
    assert invoice.status == Invoice.Status.PAID
    assert invoice.payment_state == ""
    assert invoice.payments.get().status == Payment.Status.SUCCEEDED


def test_a_refund_before_the_success_it_refunds_is_applied_once_both_are_in(client):
    invoice = open_with_intent()
    total = invoice.total
    refund = se.refund("pi_test_1", amount=3000)
    assert se.deliver(client, se.event("refund.created", refund)).status_code == 200
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    invoice = refreshed(invoice)
    assert invoice.status == Invoice.Status.PAID
    assert invoice.amount_paid == total
    assert invoice.amount_refunded == 3000
    payment = invoice.payments.get()
    assert payment.amount_refunded == 3000
    assert payment.refundable == total - 3000


def test_partial_then_full_refund_adds_up(client, mailoutbox):
    invoice = open_with_intent()
    total = invoice.total
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    first = se.refund("pi_test_1", amount=500, refund_id="re_1")
    se.deliver(client, se.event("refund.created", first))
    rest = se.refund("pi_test_1", amount=total - 500, refund_id="re_2")
    se.deliver(client, se.event("refund.created", rest))
    # an older event arriving late changes nothing
    late = se.refund("pi_test_1", amount=500, refund_id="re_1", status="pending")
    se.deliver(client, se.event("refund.created", late))
    invoice = refreshed(invoice)
    assert invoice.amount_refunded == total
    assert invoice.status == Invoice.Status.PAID  # a refund never rewinds the invoice
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.REFUNDED).count() == 2
    assert invoice.payments.get().refundable == 0


def test_a_charge_refunded_payload_with_embedded_refunds_is_applied_once(client):
    """Older API versions embed the refunds in the charge; the refund events may follow."""
    invoice = open_with_intent()
    total = invoice.total
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    charge = se.charge("pi_test_1", amount=total, refunded=700)
    charge["refunds"] = {"object": "list", "data": [se.refund("pi_test_1", amount=700)]}
    se.deliver(client, se.event("charge.refunded", charge))
    se.deliver(client, se.event("refund.created", se.refund("pi_test_1", amount=700)))
    invoice = refreshed(invoice)
    assert invoice.amount_refunded == 700
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.REFUNDED).count() == 1
    assert invoice.payments.get().stripe_charge_id == "ch_test_1"


def test_a_partial_payment_reduces_the_amount_due(client):
    invoice = open_with_intent()
    total = invoice.total
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice, amount=5000)))
    invoice = refreshed(invoice)
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.amount_due == total - 5000


def test_a_currency_mismatch_is_flagged_not_paid(client):
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice, currency="eur"))
    assert se.deliver(client, body).status_code == 200
    invoice = refreshed(invoice)
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.amount_paid == 0
    flag = invoice.flags.get()
    assert flag.kind == InvoiceFlag.Kind.CURRENCY_MISMATCH
    assert "EUR" in flag.message


def test_an_amount_larger_than_due_is_flagged(client):
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice, amount=invoice.total + 700))
    se.deliver(client, body)
    invoice = refreshed(invoice)
    assert invoice.flags.get().kind == InvoiceFlag.Kind.OVERPAID
    assert "refund $7.00" in invoice.flags.get().message


def test_an_unknown_invoice_id_is_recorded_and_changes_nothing(client, settings):
    metadata = {"portal": settings.PORTAL_ID, "invoice_id": "999999"}
    body = se.event(
        "payment_intent.succeeded", se.intent(None, intent_id="pi_elsewhere", metadata=metadata)
    )
    response = se.deliver(client, body)
    assert response.status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.status == StripeEvent.Status.IGNORED
    assert "pi_elsewhere" in stored.error
    assert not Payment.objects.exists()


@pytest.mark.parametrize("stamp", [None, "staging.example.com"])
def test_a_foreign_intent_naming_our_invoice_changes_nothing(client, mailoutbox, stamp):
    """Another deployment on the same Stripe account, with our invoice's id in its metadata."""
    invoice = open_with_intent()
    metadata = {"invoice_id": str(invoice.pk), "invoice_number": invoice.number}
    if stamp:
        metadata["portal"] = stamp
    foreign = se.intent(invoice, intent_id="pi_someone_elses", metadata=metadata)
    for kind in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        response = se.deliver(client, se.event(kind, foreign))
        assert response.status_code == 200
        assert response.content == b"ignored"
    invoice = refreshed(invoice)
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.amount_paid == 0
    assert invoice.payment_state == ""
    assert list(invoice.payments.values_list("stripe_payment_intent_id", flat=True)) == [
        "pi_test_1"
    ]
    assert not mailoutbox
    events = StripeEvent.objects.all()
    assert {event.status for event in events} == {StripeEvent.Status.IGNORED}
    assert all("pi_someone_elses" in event.error for event in events)
    assert all(event.invoice is None for event in events)


def test_our_stamp_without_the_stored_intent_changes_nothing(client):
    """Same PORTAL_ID (e.g. a database reset, or two developers on one SITE_URL): the
    intent id we never stored is not ours."""
    invoice = open_with_intent()
    stranger = se.intent(invoice, intent_id="pi_not_stored")
    assert se.deliver(client, se.event("payment_intent.succeeded", stranger)).content == (
        b"ignored"
    )
    assert refreshed(invoice).status == Invoice.Status.OPEN
    assert "not created by this database" in StripeEvent.objects.get().error


def test_refund_and_dispute_events_for_a_foreign_charge_change_nothing(client):
    invoice = open_with_intent()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    for kind, obj in [
        ("refund.created", se.refund("pi_someone_elses", amount=500)),
        ("charge.refunded", se.charge("pi_someone_elses", amount=500, refunded=500)),
        ("charge.dispute.created", se.dispute("pi_someone_elses", amount=500)),
    ]:
        assert se.deliver(client, se.event(kind, obj)).content == b"ignored"
    invoice = refreshed(invoice)
    assert invoice.amount_refunded == 0
    assert invoice.dispute_status == ""


def test_an_intent_the_portal_did_not_create_is_ignored(client):
    """What `stripe trigger payment_intent.succeeded` sends: no portal metadata."""
    body = se.event("payment_intent.succeeded", se.intent(None, intent_id="pi_triggered"))
    response = se.deliver(client, body)
    assert response.status_code == 200
    assert response.content == b"ignored"
    assert not Payment.objects.exists()


def test_an_unknown_type_is_logged_and_answered_200(client):
    response = se.deliver(client, se.event("customer.created", {"id": "cus_1"}))
    assert response.status_code == 200
    assert StripeEvent.objects.get().status == StripeEvent.Status.IGNORED


def test_failure_then_processing_and_requires_action_are_recorded(client):
    invoice = open_with_intent()
    failed = se.intent(invoice, status="requires_payment_method", error="Your card was declined.")
    se.deliver(client, se.event("payment_intent.payment_failed", failed))
    invoice = refreshed(invoice)
    assert invoice.payment_state == Invoice.PaymentState.FAILED
    assert invoice.last_payment_error == "Your card was declined."
    assert invoice.status == Invoice.Status.OPEN
    se.deliver(
        client,
        se.event("payment_intent.requires_action", se.intent(invoice, status="requires_action")),
    )
    assert refreshed(invoice).payment_state == Invoice.PaymentState.REQUIRES_ACTION
    se.deliver(
        client, se.event("payment_intent.processing", se.intent(invoice, status="processing"))
    )
    assert refreshed(invoice).payment_state == Invoice.PaymentState.PROCESSING
    se.deliver(client, se.event("payment_intent.canceled", se.intent(invoice, status="canceled")))
    assert invoice.payments.get().status == Payment.Status.CANCELED


def test_a_dispute_flags_and_its_close_resolves(client):
    invoice = open_with_intent()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    se.deliver(
        client, se.event("charge.dispute.created", se.dispute("pi_test_1", amount=invoice.total))
    )
    invoice = refreshed(invoice)
    assert invoice.dispute_status == Invoice.DisputeStatus.OPEN
    assert invoice.flags.get(kind=InvoiceFlag.Kind.DISPUTE).resolved_at is None
    closed = se.dispute("pi_test_1", amount=invoice.total, status="won")
    se.deliver(client, se.event("charge.dispute.closed", closed))
    invoice = refreshed(invoice)
    assert invoice.dispute_status == Invoice.DisputeStatus.WON
    assert invoice.flags.get(kind=InvoiceFlag.Kind.DISPUTE).resolved_at is not None
    assert invoice.status == Invoice.Status.PAID


@pytest.mark.parametrize(
    ("status", "outcome", "label"),
    [
        ("won", Invoice.DisputeStatus.WON, "Dispute won"),
        ("lost", Invoice.DisputeStatus.LOST, "Dispute lost"),
        ("warning_closed", Invoice.DisputeStatus.WARNING_CLOSED, "Inquiry closed"),
        ("prevented", Invoice.DisputeStatus.PREVENTED, "Dispute prevented"),
    ],
)
def test_each_dispute_close_status_is_recorded_as_stripe_says(
    client, staff_client, status, outcome, label
):
    invoice = open_with_intent()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    opened = se.dispute("pi_test_1", amount=invoice.total, status="warning_needs_response")
    se.deliver(client, se.event("charge.dispute.created", opened))
    closed = se.dispute("pi_test_1", amount=invoice.total, status=status)
    assert se.deliver(client, se.event("charge.dispute.closed", closed)).status_code == 200
    invoice = refreshed(invoice)
    assert invoice.dispute_status == outcome
    assert invoice.status == Invoice.Status.PAID
    assert invoice.activities.get(kind=InvoiceActivity.Kind.DISPUTE_CLOSED).message == label
    assert label in staff_client.get(invoice.get_absolute_url()).content.decode()


def test_an_unknown_dispute_close_status_is_ignored_with_the_reason(client):
    invoice = open_with_intent()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    closed = se.dispute("pi_test_1", amount=invoice.total, status="charge_refunded")
    assert se.deliver(client, se.event("charge.dispute.closed", closed)).content == b"ignored"
    assert refreshed(invoice).dispute_status == ""
    assert "charge_refunded" in StripeEvent.objects.get(type="charge.dispute.closed").error


def test_disputed_funds_withdrawn_and_reinstated_show_on_the_invoice(client, staff_client):
    invoice = open_with_intent()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
    disputed = se.dispute("pi_test_1", amount=invoice.total)
    se.deliver(client, se.event("charge.dispute.created", disputed))
    se.deliver(client, se.event("charge.dispute.funds_withdrawn", disputed))
    se.deliver(client, se.event("charge.dispute.funds_withdrawn", disputed))  # resent
    page = staff_client.get(invoice.get_absolute_url()).content.decode()
    money = invoice.money(invoice.total)
    assert f"Disputed {money} withdrawn from your balance" in page
    se.deliver(client, se.event("charge.dispute.funds_reinstated", disputed))
    page = staff_client.get(invoice.get_absolute_url()).content.decode()
    assert f"Disputed {money} returned to your balance" in page
    kinds = list(invoice.activities.values_list("kind", flat=True))
    assert kinds.count(InvoiceActivity.Kind.DISPUTE_FUNDS_WITHDRAWN) == 1
    assert kinds.count(InvoiceActivity.Kind.DISPUTE_FUNDS_REINSTATED) == 1


def test_a_failing_handler_answers_500_and_a_retry_succeeds(client, monkeypatch):
    from invoices.payments import webhooks

    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))

    def broken(obj, event_id):
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", broken)
    response = se.deliver(client, body)
    assert response.status_code == 500
    stored = StripeEvent.objects.get()
    assert stored.status == StripeEvent.Status.FAILED
    assert "database hiccup" in stored.error
    assert refreshed(invoice).status == Invoice.Status.OPEN

    monkeypatch.undo()
    assert se.deliver(client, body).status_code == 200
    stored.refresh_from_db()
    assert stored.status == StripeEvent.Status.PROCESSED
    assert stored.attempts == 2
    assert stored.error == ""
    assert refreshed(invoice).status == Invoice.Status.PAID


def test_the_webhook_query_count_is_constant(client, django_assert_max_num_queries):
    small = open_with_intent("pi_small", lines=1)
    large = open_with_intent("pi_large", lines=40)
    counts = []
    for invoice in (small, large):
        with django_assert_max_num_queries(40) as captured:
            se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice)))
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_make_one_change():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks need PostgreSQL (CI runs this on PostgreSQL)")
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def deliver() -> None:
        try:
            barrier.wait()
            statuses.append(se.deliver(Client(), body).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200, 200, 200]
    invoice = refreshed(invoice)
    assert invoice.amount_paid == invoice.total
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.PAYMENT_SUCCEEDED).count() == 1
    assert StripeEvent.objects.count() == 1
