"""Cron entry point: `python manage.py expire_quotes` (safe to run as often as you like)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from invoices.quotes import expire_quotes


class Command(BaseCommand):
    help = "Mark sent quotes whose expiry date has passed as expired."

    def handle(self, *args: Any, **options: Any) -> None:
        expired = expire_quotes()
        if options["verbosity"] >= 2:
            for quote in expired:
                self.stdout.write(f"{quote.number} expired {quote.expires_on}")
        noun = "quote" if len(expired) == 1 else "quotes"
        self.stdout.write(f"Expired {len(expired)} {noun}.")
