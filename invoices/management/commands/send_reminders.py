"""Cron entry point: `python manage.py send_reminders` (safe to run as often as you like)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from invoices.documents.reminders import send_due_reminders


class Command(BaseCommand):
    help = "Email the payment reminders that are due today (at most one per invoice per run)."

    def handle(self, *args: Any, **options: Any) -> None:
        run = send_due_reminders()
        if options["verbosity"] >= 2:
            for invoice, offset in run.sent:
                self.stdout.write(f"{invoice.number} {offset:+d}d -> {invoice.customer.email}")
        noun = "reminder" if len(run.sent) == 1 else "reminders"
        self.stdout.write(f"Sent {len(run.sent)} {noun}.")
        if run.failed:
            # A non-zero exit makes cron / the scheduler report it; the rows were
            # given back, so the next run retries them.
            failed = ", ".join(f"{invoice.number} {offset:+d}d" for invoice, offset in run.failed)
            raise CommandError(f"{len(run.failed)} failed (retried next run): {failed}")
