"""Background tasks (Django's tasks framework): email delivery from the outbox, and
autopay's off-session charges (`invoices.payments.autopay`).

The immediate backend runs them in-process by default; with
`TASKS_BACKEND=database` they wait in the database for `manage.py run_worker`.
Arguments are ids (JSON), and each task re-reads the rows it needs. Retries
are the outbox's own (`invoices.outbox`), so a task never raises for a failed
send: it records the attempt and schedules the next one.
"""

from __future__ import annotations

from django.tasks import task

from invoices import outbox
from invoices.payments import autopay


@task
def deliver_email(email_id: int) -> str:
    return outbox.deliver(email_id)


outbox.use_delivery_task(deliver_email)


@task
def charge_autopay(charge_id: int) -> str:
    return autopay.attempt(charge_id)


autopay.use_task(charge_autopay)
