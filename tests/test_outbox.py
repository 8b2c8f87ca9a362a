"""The outbox: emails are queued in the transaction that records the money, and
what may fail after the commit (cache, live push) never costs the customer
their receipt nor changes the webhook's answer."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from invoices.models import EmailLog, Invoice, Payment, StripeEvent
from invoices.services import record_offline_payment
from portal.hooks import after_commit
from tests import stripe_events as se
from tests.factories import make_open, open_with_intent

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)
def test_it_books_a_payment_and_sends_the_receipt_with_redis_down(client, mailoutbox, redis_down):
    invoice = open_with_intent("pi_outbox_1")
    mailoutbox.clear()
    body = se.event("payment_intent.succeeded", se.intent(invoice))

    response = se.deliver(client, body)

    assert response.status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    receipts = [m for m in mailoutbox if m.to == [invoice.customer.email]]
    assert len(receipts) == 1
    assert "receipt" in receipts[0].subject.lower()
    assert EmailLog.objects.get(kind="receipt").status == EmailLog.Status.SENT
    notice = EmailLog.objects.get(kind="notice")
    assert notice.status == EmailLog.Status.SENT
    sent = len(mailoutbox)

    again = se.deliver(client, body)

    assert again.status_code == 200
    assert again.content == b"duplicate"
    assert len(mailoutbox) == sent
    assert EmailLog.objects.count() == 2
    assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED


@pytest.mark.django_db(transaction=True)
def test_it_serves_the_dashboard_with_redis_down(staff_client, redis_down):
    make_open()
    assert staff_client.get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_it_creates_demo_data_with_redis_down(redis_down):
    out = StringIO()
    call_command("demo_data", stdout=out)
    assert Invoice.objects.filter(status=Invoice.Status.PAID).exists()
    assert "Staff login" in out.getvalue()


@pytest.mark.django_db
def test_it_queues_the_receipt_task_inside_the_payment_transaction(settings, mailoutbox):
    settings.TASKS = DATABASE_TASKS
    invoice = make_open()

    with transaction.atomic():
        payment = record_offline_payment(
            invoice=invoice,
            amount=invoice.amount_due,
            method="bank_transfer",
            received_on=date.today(),
        )
        # Before any commit: the email and its task are already rows of this transaction.
        email = EmailLog.objects.get(kind="receipt")
        task = DBTaskResult.objects.get()

    assert email.payment_id == payment.pk
    assert email.key == f"receipt:{invoice.pk}:{payment.pk}"
    assert task.args_kwargs["args"] == [email.pk]
    assert task.task_path == "invoices.tasks.deliver_email"
    assert mailoutbox == []  # sent by the worker, not by the request


class Boom(Exception):
    pass


def pay_then_fail(invoice: Invoice) -> None:
    """Record a payment, then fail later in the same transaction."""
    with transaction.atomic():
        record_offline_payment(
            invoice=invoice, amount=invoice.amount_due, method="cash", received_on=date.today()
        )
        raise Boom


@pytest.mark.django_db
def test_it_queues_nothing_when_the_payment_rolls_back(settings, mailoutbox):
    settings.TASKS = DATABASE_TASKS
    invoice = make_open()

    with pytest.raises(Boom):
        pay_then_fail(invoice)

    assert not Payment.objects.exists()
    assert not EmailLog.objects.exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_sends_nothing_when_the_payment_rolls_back_with_the_immediate_backend(mailoutbox):
    invoice = make_open()
    mailoutbox.clear()

    with pytest.raises(Boom):
        pay_then_fail(invoice)

    assert mailoutbox == []
    assert not EmailLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_queues_one_receipt_per_payment_however_often_it_is_applied(client, mailoutbox):
    invoice = open_with_intent("pi_outbox_1")
    intent = se.intent(invoice)
    se.deliver(client, se.event("payment_intent.succeeded", intent))
    # The same payment under another event id (Stripe may send both).
    se.deliver(client, se.event("payment_intent.succeeded", intent))
    assert EmailLog.objects.filter(kind="receipt").count() == 1
    assert len([m for m in mailoutbox if "receipt" in m.subject.lower()]) == 1


@pytest.mark.django_db(transaction=True)
def test_it_runs_every_after_commit_hook_even_when_one_fails(caplog):
    ran = []
    with transaction.atomic():
        after_commit("broken", lambda: 1 / 0)
        after_commit("next", lambda: ran.append("next"))
    assert ran == ["next"]
    assert "after-commit hook broken failed" in caplog.text
