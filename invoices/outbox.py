"""Queue, deliver and retry the portal's emails through the `EmailLog` outbox.

`queue_email` / `queue_staff_notice` are called inside the transaction that
records the money. They write the `EmailLog` row there and, with the database
task backend, the delivery task too: both commit or roll back with the
payment. Backends that run tasks at once (development, tests) get the task
after commit instead, so nothing is sent for a change that rolled back.

`deliver` claims the row (pending -> sending, committed), sends, then marks
it sent. A failed send is retried after 1 min, 5 min, 30 min, 2 h and 12 h,
then marked failed for staff to "Send again" (`EMAIL_RETRY_DELAYS`). A delivery
that died while sending (worker killed, machine lost) is taken up again once
its lease runs out. The one case that can still email twice: the mail server accepted the
message and the process died before the row was marked sent. SMTP has no
idempotency key, so the retry carries the same Message-ID, which most mail
clients use to hide the copy.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Min, Q
from django.tasks import Task
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django.utils.json import normalize_json
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from customers.models import Customer
from invoices.documents import emails
from invoices.email_log import EmailLog
from invoices.models import Invoice, Payment
from portal.hooks import after_commit

logger = logging.getLogger("invoices.outbox")

# The columns `queue_all` writes: all but the id.
_INSERTED = [field for field in EmailLog._meta.concrete_fields if not field.primary_key]


def retry_delays() -> list[timedelta]:
    """Waits after the 1st, 2nd ... failed attempt; after the last one the email fails.

    `EMAIL_RETRY_DELAYS` (seconds): 1 min, 5 min, 30 min, 2 h, 12 h by default.
    """
    return [timedelta(seconds=s) for s in settings.EMAIL_RETRY_DELAYS]


def lease() -> timedelta:
    """How long a claimed delivery may take before it is presumed dead and taken again."""
    return timedelta(seconds=settings.TASKS_LEASE_SECONDS)


# -- queueing (inside the caller's transaction) -------------------------------


def _email_key(kind: str, invoice: Invoice, payment_id: int | None, ref: str) -> str:
    about = {"receipt": f"{payment_id}", "refund": f"{payment_id}:{ref}", "void": ""}.get(kind, ref)
    if kind in ("invoice", "refund") and not ref:
        about = f"{about}:{uuid.uuid4().hex}"  # each send is an email of its own
    return ":".join(str(part) for part in (kind, invoice.pk, about) if part != "")


@dataclass(frozen=True)
class Owed:
    """One email to queue: built by `email_owed` / `notice_owed`, queued by `queue_all`."""

    key: str
    kind: str
    invoice: Invoice
    payment_id: int | None
    params: dict[str, Any]


def email_owed(
    kind: str,
    invoice: Invoice,
    *,
    payment_id: int | None = None,
    amount: int = 0,
    ref: str = "",
    reason: str = "",
) -> Owed:
    """The customer is owed one email; at most one per key (see `_email_key`).

    `reason`: a failed debit's failure code, worded in the customer's language at send time.
    """
    params: dict[str, Any] = {"amount": amount}
    if ref:
        params["ref"] = ref  # what the email is about, e.g. a credit note's number
    if reason:
        params["reason"] = reason  # a failed debit's failure code
    return Owed(_email_key(kind, invoice, payment_id, ref), kind, invoice, payment_id, params)


def notice_owed(invoice: Invoice, kind: str, message: str, *, ref: str = "") -> Owed:
    """Staff are owed one notice; `ref` names what it is about, so a replay adds none."""
    key = f"notice:{kind}:{invoice.pk}:{ref or uuid.uuid4().hex}"
    return Owed(key, "notice", invoice, None, {"notice_kind": kind, "message": message})


def queue_email(kind: str, invoice: Invoice, **about: Any) -> EmailLog:
    """Owe the customer one email (`email_owed`'s arguments); queued at most once per key."""
    return queue_all([email_owed(kind, invoice, **about)])[0]


def queue_staff_notice(invoice: Invoice, kind: str, message: str, *, ref: str = "") -> EmailLog:
    """Owe staff one notice; `ref` names what it is about, so a replay adds none."""
    return queue_all([notice_owed(invoice, kind, message, ref=ref)])[0]


def queue_all(owed: list[Owed]) -> list[EmailLog]:
    """Queue several emails in the caller's transaction: one insert of those not yet
    queued (and their delivery tasks), in `owed`'s order; the rows already queued
    are read only when there are some.

    The callers hold the invoice's row lock, so no one else queues the same key
    meanwhile; a key queued by someone else all the same is skipped by the insert
    and handed back as queued.
    """
    keys = [item.key[:200] for item in owed]
    emails = {
        key: EmailLog(
            key=key,
            kind=item.kind,
            invoice=item.invoice,
            payment_id=item.payment_id,
            params=item.params,
        )
        for key, item in zip(keys, owed, strict=True)
    }
    inserted = _insert_new(list(emails.values()))
    for key, pk in inserted.items():
        emails[key].pk = pk
        emails[key]._state.adding = False
    schedule_all([emails[key] for key in emails if key in inserted])
    if len(inserted) < len(emails):
        missing = [key for key in emails if key not in inserted]
        emails.update((email.key, email) for email in EmailLog.objects.filter(key__in=missing))
    return [emails[key] for key in keys]


@functools.cache
def _insert_sql(rows: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _INSERTED)
    row = "(" + ", ".join(["%s"] * len(_INSERTED)) + ")"
    return (
        f"INSERT INTO {quote(EmailLog._meta.db_table)} ({columns}) "
        f"VALUES {', '.join([row] * rows)} ON CONFLICT ({quote('key')}) DO NOTHING"
        f" RETURNING id, {quote('key')}"
    )


def _insert_new(emails: list[EmailLog]) -> dict[str, int]:
    """Insert the rows whose key is not taken, in one statement: {key: id} of those."""
    if not emails:
        return {}
    params = [
        field.get_db_prep_save(field.pre_save(email, True), connection)
        for email in emails
        for field in _INSERTED
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(len(emails)), params)
        return {key: pk for pk, key in cursor.fetchall()}


def queue_customer_email(
    kind: str, customer: Customer, *, ref: str, params: dict[str, Any]
) -> EmailLog:
    """Owe a customer an email about their account (a statement), not about one invoice."""
    with transaction.atomic():
        email, created = EmailLog.objects.get_or_create(
            key=f"{kind}:customer-{customer.pk}:{ref}"[:200],
            defaults={"kind": kind, "customer": customer, "params": params},
        )
        if created:
            schedule(email)
    return email


# The task that runs `deliver`. It is defined in `invoices.tasks` (queued task
# rows name it by that path), which imports this module and hands it over here.
_delivery_task: list[Task] = []


def use_delivery_task(task: Task) -> None:
    _delivery_task[:] = [task]


def _stores_tasks_in_database(deliver_email: Task) -> bool:
    return isinstance(deliver_email.get_backend(), DatabaseBackend)


def schedule(email: EmailLog, run_after: datetime | None = None) -> None:
    """Ask the task backend to deliver `email` (at `run_after`, or now)."""
    [deliver_email] = _delivery_task
    if _stores_tasks_in_database(deliver_email):
        # The task row joins the caller's transaction: it exists iff the email does.
        deliver_email.using(run_after=run_after).enqueue(email.pk)
    elif run_after is None:
        # Backends that run the task at once must not run it before the commit.
        after_commit("deliver email", lambda: deliver_email.enqueue(email.pk))
    # Else a retry waits for `deliver_due()` (the `send_emails` command).


def schedule_all(emails: list[EmailLog]) -> None:
    """`schedule` each email now; the database backend's task rows in one insert."""
    [deliver_email] = _delivery_task
    if len(emails) < 2 or not _stores_tasks_in_database(deliver_email):
        for email in emails:
            schedule(email)
        return
    backend = deliver_email.get_backend()
    # What the backend's `enqueue` writes and announces, for all the rows at once.
    backend.validate_task(deliver_email)
    rows = DBTaskResult.objects.bulk_create(
        DBTaskResult(
            args_kwargs=normalize_json({"args": [email.pk], "kwargs": {}}),
            priority=deliver_email.priority,
            task_path=deliver_email.module_path,
            queue_name=deliver_email.queue_name,
            run_after=get_date_max(),  # none: as soon as a worker is free
            backend_name=backend.alias,
        )
        for email in emails
    )
    for row in rows:
        task_enqueued.send(type(backend), task_result=row.task_result)


# -- delivery (the task) ------------------------------------------------------


def _claim(email_id: int) -> EmailLog | None:
    now = timezone.now()
    with transaction.atomic():
        email = EmailLog.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return None
        due = email.status == EmailLog.Status.PENDING and email.next_attempt_at <= now
        stale = (
            email.status == EmailLog.Status.SENDING
            and email.claimed_at is not None
            and email.claimed_at <= now - lease()
        )
        if not (due or stale):
            return None  # sent, failed, not due yet, or another worker has it
        email.status = EmailLog.Status.SENDING
        email.attempts += 1
        email.claimed_at = now
        email.save(update_fields=["status", "attempts", "claimed_at"])
    return email


def message_id(email: EmailLog) -> str:
    """The same on every attempt, so a copy sent twice is recognisably one email."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{email.key}".encode()).hexdigest()[:20]
    return f"<{email.pk}.{digest}@{domain}>"


def deliver(email_id: int) -> str:
    """Send one queued email if it is due; returns what happened (for the task result)."""
    email = _claim(email_id)
    if email is None:
        return "skipped"
    try:
        invoice = (
            Invoice.objects.select_related("customer").get(pk=email.invoice_id)
            if email.invoice_id
            else None
        )
        payment = Payment.objects.get(pk=email.payment_id) if email.payment_id else None
        headers = {"Message-ID": message_id(email)}
        send = emails.KINDS[email.kind].send
        if send is None:
            raise ValueError(f"{email.kind} emails are not sent through the outbox")
        params = {**email.params, "customer_id": email.customer_id}
        message = send(invoice, payment, params, headers)
    except Exception as error:
        logger.warning("email %s attempt %s failed: %s", email.key, email.attempts, error)
        return _attempt_failed(email, error)
    _mark_sent(email, to=", ".join(message.to), subject=str(message.subject))
    logger.info("email sent key=%s attempts=%s", email.key, email.attempts)
    return "sent"


def _mark_sent(email: EmailLog, *, to: str, subject: str) -> None:
    # The message is out: try hard to say so, because a row left "sending" is
    # sent again once its lease runs out.
    for attempt in range(3):
        try:
            EmailLog.objects.filter(pk=email.pk).update(
                status=EmailLog.Status.SENT,
                sent_at=timezone.now(),
                recipient=to[:254],
                subject=subject[:300],
                message_id=message_id(email),
                last_error="",
            )
            return
        except DatabaseError:
            if attempt == 2:
                raise
            close_old_connections()
            time.sleep(1 + attempt)


def _attempt_failed(email: EmailLog, error: Exception) -> str:
    with transaction.atomic():
        row = EmailLog.objects.select_for_update().get(pk=email.pk)
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        delays = retry_delays()
        if row.attempts > len(delays):
            row.status = EmailLog.Status.FAILED
            row.save(update_fields=["status", "last_error"])
            logger.error("email %s failed after %s attempts", row.key, row.attempts)
            return "failed"
        row.status = EmailLog.Status.PENDING
        row.next_attempt_at = timezone.now() + delays[row.attempts - 1]
        row.save(update_fields=["status", "last_error", "next_attempt_at"])
        schedule(row, run_after=row.next_attempt_at)
    return "retry"


# -- staff and operators ---------------------------------------------------------


def send_again(email: EmailLog) -> bool:
    """Staff's "Send again" for a failed email: a fresh round of attempts, now."""
    with transaction.atomic():
        updated = EmailLog.objects.filter(pk=email.pk, status=EmailLog.Status.FAILED).update(
            status=EmailLog.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        if updated:
            schedule(EmailLog.objects.get(pk=email.pk))
    return bool(updated)


def due_emails() -> list[int]:
    """Pending rows whose time has come, and deliveries whose lease ran out."""
    now = timezone.now()
    due = Q(status=EmailLog.Status.PENDING, next_attempt_at__lte=now)
    stale = Q(status=EmailLog.Status.SENDING, claimed_at__lte=now - lease())
    return list(EmailLog.objects.filter(due | stale).order_by("id").values_list("id", flat=True))


def deliver_due() -> dict[str, int]:
    """Deliver every due email here and now (the `send_emails` command)."""
    outcomes: dict[str, int] = {}
    for email_id in due_emails():
        outcome = deliver(email_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def oldest_pending_age() -> timedelta | None:
    """How long the oldest email not yet sent has waited (None: the queue is empty)."""
    waiting = (EmailLog.Status.PENDING, EmailLog.Status.SENDING)
    oldest = EmailLog.objects.filter(status__in=waiting).aggregate(oldest=Min("created_at"))
    return timezone.now() - oldest["oldest"] if oldest["oldest"] else None
