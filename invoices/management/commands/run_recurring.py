"""Cron entry point: `python manage.py run_recurring` (safe to run as often as you like)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from invoices.recurring import run_recurring
from invoices.saved_method_expiry import notify_expiring


class Command(BaseCommand):
    help = "Create (and finalize and send) the invoices of every recurring period that is due."

    def add_arguments(self, parser: CommandParser) -> None:
        # For a one-off backfill or a rehearsal; cron passes nothing (today).
        parser.add_argument("--today", type=date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_recurring(today=options["today"])
        asked = notify_expiring(today=options["today"])
        if asked:
            self.stdout.write(f"Asked {asked} customer(s) for a new card before it expires.")
        if options["verbosity"] >= 2:
            for invoice in report.created:
                self.stdout.write(f"{invoice} {invoice.issue_date} -> {invoice.customer.email}")
        noun = "invoice" if len(report.created) == 1 else "invoices"
        self.stdout.write(
            f"Created {len(report.created)} recurring {noun}; passed over {len(report.skipped)}."
        )
        if report.failed:
            # Non-zero exit so cron reports it; the periods were given back for the next run.
            failed = ", ".join(f"#{t.pk} {p}: {why}" for t, p, why in report.failed)
            raise CommandError(f"{len(report.failed)} failed (retried next run): {failed}")
