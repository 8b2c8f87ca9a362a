"""Background tasks (Django's tasks framework): emails, so a slow mail server
never slows or fails a webhook or a staff action.

The immediate backend runs them in-process by default; with
`TASKS_BACKEND=database` they wait in the database for `manage.py db_worker`.
Arguments are ids (JSON), and each task re-reads the rows it needs.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.tasks import task

from invoices.models import Invoice, Payment

logger = logging.getLogger(__name__)


@task
def send_customer_email(
    kind: str, invoice_id: int, payment_id: int | None = None, amount: int = 0, offset_days: int = 0
) -> None:
    from invoices import emails

    invoice = Invoice.objects.select_related("customer").get(pk=invoice_id)
    payment = Payment.objects.get(pk=payment_id) if payment_id else None
    if kind == "invoice":
        emails.send_invoice_email(invoice)
    elif kind == "receipt":
        emails.send_receipt_email(invoice, payment)
    elif kind == "refund":
        emails.send_refund_email(invoice, payment, amount)
    elif kind == "void":
        emails.send_void_email(invoice)
    elif kind == "reminder":
        emails.send_reminder_email(invoice, offset_days)
    else:
        raise ValueError(f"unknown email kind {kind!r}")
    logger.info("email sent kind=%s invoice=%s", kind, invoice_id)


@task
def send_staff_notice(invoice_id: int, kind: str, message: str) -> None:
    from invoices import emails

    invoice = Invoice.objects.select_related("customer").get(pk=invoice_id)
    emails.send_staff_notice(invoice, kind, message)


def email_after_commit(kind: str, invoice: Invoice, **kwargs: int | None) -> None:
    transaction.on_commit(
        lambda: send_customer_email.enqueue(kind, invoice.pk, **kwargs)  # type: ignore[arg-type]
    )


def notify_staff_after_commit(invoice: Invoice, kind: str, message: str) -> None:
    transaction.on_commit(lambda: send_staff_notice.enqueue(invoice.pk, kind, message))
