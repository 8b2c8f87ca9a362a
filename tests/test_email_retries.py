"""Email delivery through the outbox and the database task queue: retries with
back-off against a mail server that refuses, "Send again" for staff, and
deliveries whose worker died."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from invoices import outbox, worker
from invoices.models import EmailLog
from invoices.services import record_offline_payment
from tests.factories import make_open
from tests.servers import free_port

# The real worker loop manages its own connections and transactions, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


@pytest.fixture
def smtp_refusing(settings):
    """SMTP at a port where nothing listens: every send fails at once."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }


def paid_receipt() -> EmailLog:
    invoice = make_open()
    record_offline_payment(
        invoice=invoice, amount=invoice.amount_due, method="cash", received_on=date.today()
    )
    return EmailLog.objects.get(kind="receipt")


def refreshed(email: EmailLog) -> EmailLog:
    email.refresh_from_db()
    return email


def test_it_retries_after_1_5_30_120_720_minutes_then_fails(
    database_tasks, smtp_refusing, mailoutbox
):
    email = paid_receipt()
    waits = []
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(6):
            worker.run_batch()
            email = refreshed(email)
            if email.status == EmailLog.Status.FAILED:
                break
            assert email.status == EmailLog.Status.PENDING
            wait = email.next_attempt_at - timezone.now()
            waits.append(round(wait.total_seconds() / 60))
            # Not a moment early: the deferred task waits for its time.
            worker.run_batch()
            assert refreshed(email).attempts == len(waits)
            clock.shift(wait)
    assert waits == [1, 5, 30, 120, 720]
    assert email.status == EmailLog.Status.FAILED
    assert email.attempts == 6
    assert "ConnectionRefused" in email.last_error
    assert mailoutbox == []


def test_it_shows_a_failed_email_to_staff_and_sends_it_again(
    database_tasks, settings, staff_client, mailoutbox
):
    email = paid_receipt()
    EmailLog.objects.filter(pk=email.pk).update(
        status=EmailLog.Status.FAILED, attempts=6, last_error="SMTPServerDisconnected: gone"
    )
    page = staff_client.get(email.invoice.get_absolute_url())
    assert b"Send again" in page.content
    assert b"not delivered after 6 attempts" in page.content

    url = f"/invoices/{email.invoice_id}/sent-emails/{email.pk}/again/"
    response = staff_client.post(url)
    assert response.status_code == 302
    worker.run_batch()

    assert refreshed(email).status == EmailLog.Status.SENT
    assert [m.to for m in mailoutbox] == [[email.invoice.customer.email]]
    # A second click finds nothing failed, and sends nothing.
    staff_client.post(url)
    worker.run_batch()
    assert len(mailoutbox) == 1


def test_it_refuses_send_again_to_a_stranger(database_tasks, stranger_client, mailoutbox):
    email = paid_receipt()
    EmailLog.objects.filter(pk=email.pk).update(status=EmailLog.Status.FAILED)
    response = stranger_client.post(f"/invoices/{email.invoice_id}/sent-emails/{email.pk}/again/")
    assert response.status_code in (302, 403)
    assert refreshed(email).status == EmailLog.Status.FAILED


def test_it_does_not_resend_while_another_delivery_holds_the_email(database_tasks, mailoutbox):
    email = paid_receipt()
    EmailLog.objects.filter(pk=email.pk).update(
        status=EmailLog.Status.SENDING, claimed_at=timezone.now()
    )
    assert outbox.deliver(email.pk) == "skipped"
    assert mailoutbox == []


def test_it_takes_up_a_delivery_whose_worker_died(database_tasks, settings, mailoutbox):
    """The worker was killed after claiming the email and its task: both wait out the
    lease, then the email goes out once, with the Message-ID every attempt carries."""
    email = paid_receipt()
    task = DBTaskResult.objects.get()
    claimed = timezone.now() - timedelta(seconds=settings.TASKS_LEASE_SECONDS + 1)
    DBTaskResult.objects.filter(pk=task.pk).update(status="RUNNING", started_at=claimed)
    EmailLog.objects.filter(pk=email.pk).update(
        status=EmailLog.Status.SENDING, attempts=1, claimed_at=claimed
    )

    assert worker.recover_stale_tasks() == 1
    worker.run_batch()

    email = refreshed(email)
    assert email.status == EmailLog.Status.SENT
    assert email.attempts == 2
    assert len(mailoutbox) == 1
    assert mailoutbox[0].extra_headers["Message-ID"] == outbox.message_id(email)
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() >= 1
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()


def test_it_leaves_a_running_task_alone_within_its_lease(database_tasks):
    paid_receipt()
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now())
    assert worker.recover_stale_tasks() == 0
    assert DBTaskResult.objects.get().status == "RUNNING"


def test_it_delivers_due_retries_under_the_immediate_backend(smtp_refusing, settings, mailoutbox):
    """Without a queue that can wait, `send_emails` (cron) delivers what is due."""
    email = paid_receipt()
    outbox.deliver(email.pk)
    email = refreshed(email)
    assert email.status == EmailLog.Status.PENDING
    assert email.attempts == 1

    settings.MAILERS = LOCMEM
    assert outbox.deliver_due() == {}  # not due for a minute
    with time_machine.travel(email.next_attempt_at + timedelta(seconds=1)):
        assert outbox.deliver_due() == {"sent": 1}
    assert refreshed(email).status == EmailLog.Status.SENT


def test_it_oldest_pending_age_measures_the_queue(database_tasks):
    assert outbox.oldest_pending_age() is None
    email = paid_receipt()
    with time_machine.travel(email.created_at + timedelta(minutes=7)):
        assert outbox.oldest_pending_age() == timedelta(minutes=7)


def test_the_send_emails_command_delivers_what_is_due(smtp_refusing, settings, mailoutbox):
    from io import StringIO

    from django.core.management import call_command

    email = paid_receipt()  # the first attempt (after commit) was refused
    assert refreshed(email).attempts == 1
    settings.MAILERS = LOCMEM
    out = StringIO()
    with time_machine.travel(refreshed(email).next_attempt_at + timedelta(seconds=1)):
        call_command("send_emails", stdout=out)
    assert out.getvalue().strip() == "Emails: 1 sent."
    assert refreshed(email).status == EmailLog.Status.SENT
    assert len(mailoutbox) == 1
