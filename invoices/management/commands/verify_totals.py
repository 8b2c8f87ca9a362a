"""Compare the maintained totals (invoices/totals.py) with a full recompute."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from invoices import totals


class Command(BaseCommand):
    help = "Compare the dashboard's maintained totals with a recompute from every invoice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--repair", action="store_true", help="rebuild the totals when they differ"
        )

    def handle(self, *args: Any, repair: bool = False, **options: Any) -> None:
        expected_buckets, expected_booked = totals.recompute()
        buckets, booked = totals.stored()
        problems = [
            f"bucket {kind} {currency} {day}: stored {buckets.get(key, 0)}, "
            f"recomputed {expected_buckets.get(key, 0)}"
            for key in sorted(set(buckets) | set(expected_buckets))
            if buckets.get(key, 0) != expected_buckets.get(key, 0)
            for kind, currency, day in [key]
        ]
        wrong_invoices = sorted(
            pk
            for pk in set(booked) | set(expected_booked)
            if booked.get(pk) != expected_booked.get(pk)
        )
        if wrong_invoices:
            shown = ", ".join(map(str, wrong_invoices[:20]))
            problems.append(f"{len(wrong_invoices)} invoice(s) booked wrongly: {shown}")
        if not problems:
            self.stdout.write(
                f"Totals match a full recompute ({len(expected_booked)} invoices, "
                f"{len(expected_buckets)} buckets)."
            )
            return
        for problem in problems:
            self.stderr.write(problem)
        if repair:
            totals.rebuild()
            self.stdout.write("Rebuilt the totals from the invoices.")
            return
        raise CommandError(f"{len(problems)} difference(s); run with --repair to rebuild.")
