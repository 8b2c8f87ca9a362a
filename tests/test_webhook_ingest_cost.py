"""What one webhook delivery costs the database, counted statement by statement
(BEGIN, SAVEPOINT and COMMIT included), with the production task backend: the
email rows and their delivery tasks join the payment's transaction."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from invoices import totals
from invoices.email_log import EmailLog
from invoices.models import Invoice, InvoiceActivity, Payment, StripeEvent
from invoices.outbox import email_owed, notice_owed, queue_all
from invoices.payments import handlers, webhooks
from tests import stripe_events as se
from tests.factories import open_with_intent

pytestmark = pytest.mark.django_db(transaction=True)

# A distinct payment_intent.succeeded that pays an invoice in full: 11 statements on
# PostgreSQL, BEGIN to COMMIT (insert the event or lock its row; find and lock the
# invoice and the payment; update both; book the totals; the activity; the receipt
# and the staff notice in one insert, their two task rows in another; mark the event
# processed), and nothing after it: the live push renders where a page listens, not
# in the webhook's request. Elsewhere the totals booking takes 4 statements instead
# of one. It was 34 before the emails were queued in one insert and the event's
# update stopped rewriting its payload, and 21 up to the COMMIT before the event was
# stored in one statement, the handler ran without a savepoint, the payment and its
# invoice were locked in one statement, the outbox stopped reading before its insert
# and wrote its task rows in one, and PostgreSQL booked the totals in one statement.
BOOKING_STATEMENTS = 1 if connection.vendor == "postgresql" else 4
DISTINCT_EVENT_STATEMENTS = 10 + BOOKING_STATEMENTS
DUPLICATE_EVENT_STATEMENTS = 3  # BEGIN, insert-or-lock (finds it done), COMMIT


@pytest.fixture(autouse=True)
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_it_pays_an_invoice_from_a_distinct_event_in_a_fixed_number_of_statements(
    client, django_assert_max_num_queries
):
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))
    with django_assert_max_num_queries(DISTINCT_EVENT_STATEMENTS):
        assert se.deliver(client, body).status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert sorted(EmailLog.objects.values_list("kind", flat=True)) == ["notice", "receipt"]
    assert DBTaskResult.objects.count() == 2


def test_it_queues_the_receipt_and_the_staff_notice_in_one_insert(client):
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))
    with CaptureQueriesContext(connection) as captured:
        assert se.deliver(client, body).status_code == 200
    inserts = [q for q in captured.captured_queries if 'INTO "invoices_emaillog"' in q["sql"]]
    assert len(inserts) == 1
    assert EmailLog.objects.count() == 2


def test_it_queues_both_delivery_tasks_in_one_insert_and_the_worker_sends_them(client, mailoutbox):
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))
    with CaptureQueriesContext(connection) as captured:
        assert se.deliver(client, body).status_code == 200
    table = DBTaskResult._meta.db_table
    inserts = [q for q in captured.captured_queries if f'INTO "{table}"' in q["sql"]]
    assert len(inserts) == 1
    assert DBTaskResult.objects.ready().count() == 2
    call_command("run_worker", "--batch")
    assert set(EmailLog.objects.values_list("status", flat=True)) == {EmailLog.Status.SENT}
    assert len(mailoutbox) == 2


def test_it_answers_a_duplicate_in_three_statements_and_queues_nothing_more(
    client, django_assert_num_queries
):
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))
    assert se.deliver(client, body).status_code == 200
    with django_assert_num_queries(DUPLICATE_EVENT_STATEMENTS):
        assert se.deliver(client, body).status_code == 200
    assert EmailLog.objects.count() == 2
    assert DBTaskResult.objects.count() == 2


def test_it_queues_a_key_once_and_hands_back_the_row_already_queued():
    invoice = open_with_intent()
    owed = [
        email_owed("void", invoice),
        notice_owed(invoice, "payment_received", "Paid.", ref="7"),
    ]
    first = queue_all(owed)
    again = queue_all([owed[1], owed[0], email_owed("credit_note", invoice, ref="CN-1")])
    assert [e.pk for e in again[:2]] == [first[1].pk, first[0].pk]
    assert again[2].kind == "credit_note"
    assert EmailLog.objects.count() == 3
    assert DBTaskResult.objects.count() == 3


def test_a_failing_handler_keeps_nothing_it_did_and_records_its_error(client, monkeypatch):
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))
    booked = totals.stored()

    def fails_after_applying(obj, event_id):
        handlers.apply_intent_succeeded(obj, event_id)
        raise RuntimeError("lost the connection after the payment")

    monkeypatch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", fails_after_applying)
    assert se.deliver(client, body).status_code == 500
    stored = StripeEvent.objects.get()
    assert stored.status == StripeEvent.Status.FAILED
    assert stored.attempts == 1
    assert "lost the connection after the payment" in stored.error
    assert stored.processed_at is None
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == (Invoice.Status.OPEN, 0)
    assert Payment.objects.get().status == Payment.Status.PENDING
    assert not InvoiceActivity.objects.filter(kind=InvoiceActivity.Kind.PAYMENT_SUCCEEDED)
    assert not EmailLog.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert totals.stored() == booked

    monkeypatch.undo()  # Stripe's retry applies it, once
    assert se.deliver(client, body).status_code == 200
    stored.refresh_from_db()
    assert (stored.status, stored.attempts, stored.error) == (StripeEvent.Status.PROCESSED, 2, "")
    assert stored.invoice_id == invoice.pk
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert sorted(EmailLog.objects.values_list("kind", flat=True)) == ["notice", "receipt"]
    assert DBTaskResult.objects.count() == 2
    assert totals.stored() == totals.recompute()
    assert se.deliver(client, body).content == b"duplicate"
    stored.refresh_from_db()
    assert stored.attempts == 2


def test_a_handler_that_ignores_the_event_after_a_write_keeps_nothing(client, monkeypatch):
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))

    def ignores_late(obj, event_id):
        handlers.apply_intent_succeeded(obj, event_id)
        raise handlers.Ignored("not this deployment's after all")

    monkeypatch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", ignores_late)
    response = se.deliver(client, body)
    assert (response.status_code, response.content) == (200, b"ignored")
    stored = StripeEvent.objects.get()
    assert (stored.status, stored.attempts) == (StripeEvent.Status.IGNORED, 1)
    assert stored.error == "not this deployment's after all"
    assert stored.processed_at is not None
    assert refreshed_status(invoice) == Invoice.Status.OPEN
    assert not EmailLog.objects.exists()
    assert se.deliver(client, body).content == b"duplicate"


def refreshed_status(invoice: Invoice) -> str:
    invoice.refresh_from_db()
    return invoice.status
