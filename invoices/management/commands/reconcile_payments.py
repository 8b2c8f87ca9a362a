"""Apply what Stripe knows about every active PaymentIntent (safe from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from invoices.payments.reconcile import reconcile_all


class Command(BaseCommand):
    help = "Ask Stripe for each invoice's active PaymentIntent and apply missed updates."

    def handle(self, *args: Any, **options: Any) -> None:
        report = reconcile_all()
        self.stdout.write(f"Checked {report.checked} payment(s).")
        if report.errors:
            raise CommandError("Stripe errors:\n" + "\n".join(report.errors))
