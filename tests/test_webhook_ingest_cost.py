"""What one webhook delivery costs the database, counted statement by statement
(BEGIN, SAVEPOINT and COMMIT included), with the production task backend: the
email rows and their delivery tasks join the payment's transaction."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from invoices.email_log import EmailLog
from invoices.models import Invoice
from invoices.outbox import email_owed, notice_owed, queue_all
from tests import stripe_events as se
from tests.factories import open_with_intent

pytestmark = pytest.mark.django_db(transaction=True)

# A distinct payment_intent.succeeded that pays an invoice in full: 21 statements
# up to the COMMIT (store and lock the event; find and lock the payment and the
# invoice; update both; move the totals' buckets; the activity; the receipt and
# the staff notice in one insert, their two task rows; mark the event processed),
# and nothing after it: the live push renders where a page listens, not in the
# webhook's request (it read 4 rows here before). It was 34 before the emails were
# queued in one insert and the event's update stopped rewriting its payload.
DISTINCT_EVENT_STATEMENTS = 21
DUPLICATE_EVENT_STATEMENTS = 4  # BEGIN, insert (ignored), select for update, COMMIT


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


def test_it_answers_a_duplicate_in_four_statements_and_queues_nothing_more(
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
