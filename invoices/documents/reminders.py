"""Payment reminders on the business's schedule (days relative to the due date).

Run from cron through `manage.py send_reminders`; running it twice, or two
copies at once, sends nothing twice: the `InvoiceReminder` (invoice, offset)
unique constraint is the claim on a reminder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet

from invoices.activity import record_activity
from invoices.documents.emails import send_reminder_email
from invoices.models import BusinessProfile, Invoice, InvoiceActivity, InvoiceReminder
from portal.timezones import business_today

logger = logging.getLogger(__name__)


@dataclass
class ReminderRun:
    sent: list[tuple[Invoice, int]] = field(default_factory=list)
    failed: list[tuple[Invoice, int]] = field(default_factory=list)


PAYING = (Invoice.PaymentState.PROCESSING, Invoice.PaymentState.VERIFYING)


def reminder_due(
    offsets: Sequence[int], due_date: date, today: date, done: Iterable[int]
) -> tuple[int | None, list[int]]:
    """(the offset to send now, the earlier ones to mark as skipped).

    Only the latest offset whose day has come is sent: after a missed cron day
    the customer gets one email, not a burst. The earlier unsent offsets are
    recorded as skipped so a later run never sends them out of order.
    """
    done = set(done)
    reached = [offset for offset in offsets if due_date + timedelta(days=offset) <= today]
    pending = [offset for offset in reached if offset not in done]
    if not pending:
        return None, []
    latest = max(pending)
    if any(offset > latest for offset in done):
        # A later reminder already went out (the schedule was edited since): never go back.
        return None, pending
    return latest, [offset for offset in pending if offset != latest]


def candidates(offsets: Sequence[int], today: date) -> QuerySet[Invoice]:
    """Every invoice that may owe a reminder today, with its sent reminders, in one query
    (plus one for the prefetch)."""
    # An invoice is only a candidate once its earliest offset's day has come.
    latest_due_date = today - timedelta(days=min(offsets))
    return (
        Invoice.objects.filter(
            status=Invoice.Status.OPEN,
            amount_due__gt=0,
            reminders_paused=False,
            due_date__isnull=False,
            due_date__lte=latest_due_date,
        )
        # A bank debit on its way (or its account being verified by microdeposits) pays the
        # invoice in a few days: no nagging meanwhile.
        .exclude(payment_state__in=PAYING)
        .select_related("customer")
        .prefetch_related(
            Prefetch(
                "reminders", queryset=InvoiceReminder.objects.only("invoice_id", "offset_days")
            )
        )
        .order_by("due_date", "id")
    )


def claim(invoice: Invoice, offset: int, skipped: Sequence[int]) -> Invoice | None:
    """Write the reminder rows, re-checking the invoice under its row lock.

    Rows first, email after commit (not the other way round): a second copy of
    the command that races us fails on the unique constraint instead of sending
    a duplicate. The price is that a crash between commit and send loses that
    one reminder; `send_due_reminders` gives the row back when the send raises.
    """
    try:
        with transaction.atomic():
            fresh = (
                Invoice.objects.select_for_update()
                .select_related("customer")
                .filter(
                    pk=invoice.pk,
                    status=Invoice.Status.OPEN,
                    amount_due__gt=0,
                    reminders_paused=False,
                )
                .exclude(payment_state__in=PAYING)
                .first()
            )
            if fresh is None:  # Paid, voided, paused or processing since they were read.
                return None
            InvoiceReminder.objects.bulk_create(
                [InvoiceReminder(invoice=fresh, offset_days=o) for o in (*skipped, offset)]
            )
    except IntegrityError:
        return None
    return fresh


def describe(offset: int) -> str:
    if offset < 0:
        return f"{-offset} day{'s' if offset != -1 else ''} before the due date"
    if offset == 0:
        return "on the due date"
    return f"{offset} day{'s' if offset != 1 else ''} after the due date"


def send_due_reminders(today: date | None = None) -> ReminderRun:
    profile = BusinessProfile.load()
    # The due date is a day of the business's calendar: "due today" is judged there.
    today = today or business_today(profile)
    run = ReminderRun()
    offsets = profile.reminder_offsets
    if not offsets:
        return run
    for invoice in candidates(offsets, today):
        done = [reminder.offset_days for reminder in invoice.reminders.all()]
        offset, skipped = reminder_due(offsets, invoice.due_date, today, done)
        if offset is None:
            if skipped:
                InvoiceReminder.objects.bulk_create(
                    [InvoiceReminder(invoice=invoice, offset_days=o) for o in skipped],
                    ignore_conflicts=True,
                )
            continue
        fresh = claim(invoice, offset, skipped)
        if fresh is None:
            continue
        # Sent outside the claim's transaction, so the rows are committed first
        # (when called at autocommit, as the command does).
        try:
            send_reminder_email(fresh, offset)
        except Exception:
            logger.exception("Reminder for %s (%+d days) failed; will retry", fresh, offset)
            # Give the claim back so the next run retries this offset.
            InvoiceReminder.objects.filter(invoice=fresh, offset_days=offset).delete()
            run.failed.append((fresh, offset))
            continue
        record_activity(
            fresh,
            InvoiceActivity.Kind.REMINDER_SENT,
            message=f"Reminder sent to {fresh.customer.email} ({describe(offset)})",
            offset_days=offset,
            skipped_offsets=list(skipped),
        )
        run.sent.append((fresh, offset))
    return run
