"""Deliver every email that is due (safe from cron, safe to run twice)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from invoices.outbox import deliver_due


class Command(BaseCommand):
    help = "Send the outbox's due emails: retries, and deliveries whose worker died."

    def handle(self, *args: Any, **options: Any) -> None:
        outcomes = deliver_due()
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(f"Emails: {summary or 'none due'}.")
