"""Cron entry point: `python manage.py run_autopay` (safe to run as often as you like).

Retries the automatic payments Stripe could not take (down, slow) and takes up
any whose worker died. Only needed without `TASKS_BACKEND=database`, whose
worker runs the retries itself.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from invoices.payments.autopay import attempt_due


class Command(BaseCommand):
    help = "Charge the automatic payments that are due for another try."

    def handle(self, *args: Any, **options: Any) -> None:
        outcomes = attempt_due()
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(f"Automatic payments: {summary or 'none due'}.")
