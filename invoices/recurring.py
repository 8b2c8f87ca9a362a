"""Recurring invoices: when a template's periods fall, and the run that bills them.

`run_recurring` is what cron calls (through `manage.py run_recurring`). It is
safe to run as often as you like, and concurrently: each period is billed in
its own transaction that first locks the template and inserts the period's
`RecurringRun`, whose (template, period) is unique, so a second run finds the
period taken and creates nothing. A run that missed days catches up: one
invoice per missed period (the bookkeeper's default: every period is owed and
dated on its own), or only the latest, per template.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from invoices import services
from invoices.activity import InvoiceStateError, record_activity
from invoices.models import (
    Invoice,
    InvoiceActivity,
    InvoiceLine,
    RecurringLine,
    RecurringRun,
    RecurringTemplate,
)

logger = logging.getLogger(__name__)

MONTH_STEPS = {
    RecurringTemplate.Frequency.MONTHLY: 1,
    RecurringTemplate.Frequency.QUARTERLY: 3,
    RecurringTemplate.Frequency.YEARLY: 12,
}


def month_day(year: int, month: int, day: int) -> date:
    """That day of the month, or the month's last day when it is shorter (31 -> 30 April)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _candidates(template: RecurringTemplate) -> Iterator[date]:
    start = template.start_date
    if template.frequency in MONTH_STEPS:
        step = MONTH_STEPS[template.frequency]
        day = (
            template.day_of_month
            if template.frequency == RecurringTemplate.Frequency.MONTHLY
            else start.day
        )
        index = 0
        while True:
            months = start.month - 1 + index * step
            when = month_day(start.year + months // 12, months % 12 + 1, day)
            index += 1
            if when >= start:
                yield when
    else:
        days = template.interval * (7 if template.frequency == "weeks" else 1)
        when = start
        while True:
            yield when
            when += timedelta(days=days)


def periods(template: RecurringTemplate, through: date) -> list[date]:
    """Every period date from the start through `through`, within the template's end."""
    found: list[date] = []
    for when in _candidates(template):
        if when > through or (template.end_on and when > template.end_on):
            break
        if template.end_after is not None and len(found) >= template.end_after:
            break
        found.append(when)
    return found


def next_period(template: RecurringTemplate, today: date) -> date | None:
    """The next period not yet run (shown to staff); None when the template has ended."""
    taken = {run.period for run in template.runs.all()}
    for count, when in enumerate(_candidates(template)):
        if (template.end_on and when > template.end_on) or (
            template.end_after is not None and count >= template.end_after
        ):
            return None
        if when >= today and when not in taken:
            return when
    return None  # pragma: no cover - the candidates never end


@dataclass
class RecurringReport:
    created: list[Invoice] = field(default_factory=list)
    skipped: list[tuple[RecurringTemplate, date]] = field(default_factory=list)
    failed: list[tuple[RecurringTemplate, date, str]] = field(default_factory=list)


def run_recurring(*, today: date | None = None) -> RecurringReport:
    """Bill every active template's due periods (see the module's docstring)."""
    today = today or timezone.localdate()
    report = RecurringReport()
    for template in RecurringTemplate.objects.filter(paused=False).order_by("pk"):
        taken = set(template.runs.values_list("period", flat=True))
        due = [p for p in periods(template, today) if p not in taken]
        if template.catch_up == RecurringTemplate.CatchUp.LATEST_ONLY and len(due) > 1:
            for period in due[:-1]:
                if _take_period(template, period, skipped=True):
                    report.skipped.append((template, period))
            due = due[-1:]
        for period in due:
            try:
                invoice = _bill_period(template, period)
            except InvoiceStateError as error:
                # Rolled back with its run row: the next run tries this period again.
                logger.warning("recurring #%s %s: %s", template.pk, period, error)
                report.failed.append((template, period, str(error)))
                continue
            if invoice is not None:
                report.created.append(invoice)
    return report


def _take_period(template: RecurringTemplate, period: date, *, skipped: bool = False) -> bool:
    """Insert the period's run row; False when another run already took it."""
    with transaction.atomic():
        locked = RecurringTemplate.objects.select_for_update().get(pk=template.pk)
        if locked.paused or locked.runs.filter(period=period).exists():
            return False
        try:
            with transaction.atomic():
                RecurringRun.objects.create(template=locked, period=period, skipped=skipped)
        except IntegrityError:
            return False
    return True


def _bill_period(template: RecurringTemplate, period: date) -> Invoice | None:
    """Create, then (unless drafts are reviewed) finalize and send, the period's invoice."""
    with transaction.atomic():
        locked = RecurringTemplate.objects.select_for_update().get(pk=template.pk)
        if locked.paused or locked.runs.filter(period=period).exists():
            return None
        try:
            with transaction.atomic():
                run = RecurringRun.objects.create(template=locked, period=period)
        except IntegrityError:
            return None
        invoice = _create_invoice(locked, period)
        run.invoice = invoice
        run.save(update_fields=["invoice"])
        if not locked.create_as_draft:
            invoice = services.finalize_and_send(invoice=invoice)
    return invoice


def _create_invoice(template: RecurringTemplate, period: date) -> Invoice:
    invoice = Invoice(
        customer_id=template.customer_id,
        currency=template.currency,
        terms=template.terms,
        memo=template.memo,
        issue_date=period,
    )
    invoice.apply_terms()
    lines = [
        InvoiceLine(
            invoice=invoice,
            position=line.position,
            description=line.description,
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            **_tax_at_run(line),
        )
        for line in template.lines.select_related("named_tax")
    ]
    invoice.recalculate(lines)
    invoice.save()
    InvoiceLine.objects.bulk_create(lines)
    record_activity(
        invoice,
        InvoiceActivity.Kind.RECURRING,
        message=f"Period {period.isoformat()} of recurring template #{template.pk}",
        template=template.pk,
        period=period.isoformat(),
    )
    return invoice


def _tax_at_run(line: RecurringLine) -> dict[str, Any]:
    """A named rate is billed as it is on the day of the run: its current name and
    percentage (staff edited it: the next invoice follows; archived: it still applies
    to the templates that chose it). A typed percentage is billed as typed."""
    rate = line.named_tax
    if rate is None:
        return {"tax_rate": line.tax_rate, "tax_name": line.tax_name, "named_tax": None}
    return {"tax_rate": rate.percent, "tax_name": rate.name, "named_tax": rate}


def set_paused(*, template: RecurringTemplate, paused: bool, today: date | None = None) -> None:
    """Pause or resume. Resuming passes over the periods that fell while paused:
    a paused retainer is not owed for the pause, so no catch-up bills them."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = RecurringTemplate.objects.select_for_update().get(pk=template.pk)
        if not paused and locked.paused:
            taken = set(locked.runs.values_list("period", flat=True))
            missed = [p for p in periods(locked, today - timedelta(days=1)) if p not in taken]
            RecurringRun.objects.bulk_create(
                [RecurringRun(template=locked, period=p, skipped=True) for p in missed],
                ignore_conflicts=True,
            )
        locked.paused = paused
        locked.save(update_fields=["paused"])


def create_template(
    *, lines: list[dict[str, Any]], actor: Any = None, **fields: Any
) -> RecurringTemplate:
    """A template and its lines, in one transaction."""
    with transaction.atomic():
        template = RecurringTemplate.objects.create(
            created_by=actor if getattr(actor, "is_authenticated", False) else None, **fields
        )
        template.lines.bulk_create(
            [
                template.lines.model(template=template, position=i, **line)
                for i, line in enumerate(lines)
            ]
        )
    return template
