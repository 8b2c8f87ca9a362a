from __future__ import annotations

import io
import threading
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections

from invoices.models import EmailLog, Invoice, InvoiceActivity, RecurringRun, RecurringTemplate
from invoices.recurring import periods, run_recurring, set_paused
from invoices.recurring_models import RecurringLine
from tests.factories import CustomerFactory

START = date(2026, 1, 1).toordinal()


def make_template(**fields) -> RecurringTemplate:
    fields.setdefault("customer", CustomerFactory())
    fields.setdefault("start_date", date(2026, 1, 31))
    template = RecurringTemplate.objects.create(**fields)
    RecurringLine.objects.create(
        template=template, description="Retainer", unit_amount=50000, quantity=Decimal(1)
    )
    return template


def test_it_schedules_monthly_on_the_day_or_the_month_end(db):
    template = make_template(frequency="monthly", day_of_month=31)
    assert periods(template, date(2026, 4, 30)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_it_schedules_every_n_weeks_quarterly_and_yearly(db):
    weeks = make_template(frequency="weeks", interval=2, start_date=date(2026, 1, 1))
    assert periods(weeks, date(2026, 1, 31)) == [
        date(2026, 1, 1),
        date(2026, 1, 15),
        date(2026, 1, 29),
    ]
    quarterly = make_template(frequency="quarterly", start_date=date(2026, 1, 31))
    assert periods(quarterly, date(2026, 12, 31)) == [
        date(2026, 1, 31),
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2026, 10, 31),
    ]
    yearly = make_template(frequency="yearly", start_date=date(2024, 2, 29))
    assert periods(yearly, date(2026, 3, 1)) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
    ]


def test_it_ends_after_n_invoices_or_on_a_date(db):
    counted = make_template(frequency="days", interval=10, start_date=date(2026, 1, 1), end_after=2)
    assert periods(counted, date(2026, 12, 31)) == [date(2026, 1, 1), date(2026, 1, 11)]
    dated = make_template(frequency="monthly", day_of_month=1, start_date=date(2026, 1, 1))
    dated.end_on = date(2026, 2, 15)
    assert periods(dated, date(2026, 12, 31)) == [date(2026, 1, 1), date(2026, 2, 1)]


def test_it_creates_finalizes_and_sends_each_period_over_a_year(db):
    template = make_template(frequency="monthly", day_of_month=1, start_date=date(2026, 1, 1))
    created = []
    # Cron runs every day for a year, the clock moving with it.
    for day in range(365):
        with time_machine.travel(date.fromordinal(START + day), tick=False):
            created += run_recurring().created
    assert [invoice.issue_date for invoice in created] == [date(2026, m, 1) for m in range(1, 13)]
    assert all(invoice.status == Invoice.Status.OPEN and invoice.number for invoice in created)
    assert all(invoice.total == 50000 for invoice in created)
    assert EmailLog.objects.filter(kind="invoice").count() == 12
    assert template.runs.count() == 12
    assert InvoiceActivity.objects.filter(kind="recurring").count() == 12


def test_running_twice_creates_nothing_twice(db, mailoutbox, django_capture_on_commit_callbacks):
    make_template(frequency="monthly", day_of_month=1, start_date=date(2026, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        first = run_recurring(today=date(2026, 3, 5))
        second = run_recurring(today=date(2026, 3, 5))
    assert len(first.created) == 3
    assert second.created == []
    assert Invoice.objects.count() == 3
    assert EmailLog.objects.filter(kind="invoice").count() == 3
    assert len(mailoutbox) == 3


def test_a_missed_stretch_catches_up_one_invoice_per_period_by_default(db):
    template = make_template(frequency="monthly", day_of_month=15, start_date=date(2026, 1, 15))
    assert template.catch_up == RecurringTemplate.CatchUp.EVERY_PERIOD
    run_recurring(today=date(2026, 1, 20))
    # Cron was down from February to May.
    report = run_recurring(today=date(2026, 5, 20))
    assert [i.issue_date for i in report.created] == [date(2026, m, 15) for m in (2, 3, 4, 5)]


def test_latest_only_passes_over_the_older_missed_periods(db):
    template = make_template(
        frequency="monthly", day_of_month=15, start_date=date(2026, 1, 15), catch_up="latest"
    )
    report = run_recurring(today=date(2026, 4, 20))
    assert [i.issue_date for i in report.created] == [date(2026, 4, 15)]
    assert len(report.skipped) == 3
    assert run_recurring(today=date(2026, 4, 20)).created == []
    assert template.runs.filter(skipped=True).count() == 3


def test_a_draft_template_leaves_drafts_for_review_and_sends_nothing(db):
    make_template(
        frequency="monthly", day_of_month=1, start_date=date(2026, 1, 1), create_as_draft=True
    )
    report = run_recurring(today=date(2026, 1, 1))
    assert [i.status for i in report.created] == [Invoice.Status.DRAFT]
    assert not EmailLog.objects.exists()


def test_a_paused_template_bills_nothing_and_resuming_skips_the_pause(db):
    template = make_template(frequency="monthly", day_of_month=1, start_date=date(2026, 1, 1))
    run_recurring(today=date(2026, 1, 1))
    set_paused(template=template, paused=True)
    assert run_recurring(today=date(2026, 3, 2)).created == []
    set_paused(template=template, paused=False, today=date(2026, 3, 2))
    report = run_recurring(today=date(2026, 4, 1))
    assert [i.issue_date for i in report.created] == [date(2026, 4, 1)]
    assert RecurringRun.objects.filter(skipped=True).count() == 2


def test_a_period_already_taken_is_not_billed_again(db):
    """What a concurrent run sees: the row another run inserted first."""
    template = make_template(frequency="days", interval=1, start_date=date(2026, 1, 1))
    RecurringRun.objects.create(template=template, period=date(2026, 1, 1))
    assert run_recurring(today=date(2026, 1, 1)).created == []
    assert Invoice.objects.count() == 0


def test_the_command_reports_what_it_created(db):
    make_template(frequency="monthly", day_of_month=1, start_date=date(2026, 1, 1))
    out = io.StringIO()
    call_command("run_recurring", "--today", "2026-02-01", stdout=out)
    assert "Created 2 recurring invoices" in out.getvalue()
    call_command("run_recurring", "--today", "2026-02-01", stdout=out)
    assert "Created 0 recurring invoices" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_create_each_period_once():
    if connection.vendor != "postgresql":
        pytest.skip("row locks across threads need PostgreSQL (CI runs this on PostgreSQL)")
    make_template(frequency="monthly", day_of_month=1, start_date=date(2026, 1, 1))
    runners = 4
    barrier = threading.Barrier(runners)
    created: list[Invoice] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            created.extend(run_recurring(today=date(2026, 6, 1)).created)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(created) == 6
    assert sorted(Invoice.objects.values_list("issue_date", flat=True)) == [
        date(2026, m, 1) for m in range(1, 7)
    ]
    assert EmailLog.objects.filter(kind="invoice").count() == 6
