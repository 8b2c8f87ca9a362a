"""Gapless invoice numbers, one sequence per prefix.

The counter row is locked (`SELECT ... FOR UPDATE`) inside the finalize
transaction, so two finalizes wait for each other and a rolled-back finalize
gives its number back. On SQLite the whole write transaction is serialized
(`transaction_mode=IMMEDIATE`), which gives the same guarantee.
"""

from __future__ import annotations

from django.db import models, transaction


class InvoiceSequence(models.Model):
    """The last number handed out for a prefix; locked while a finalize takes one."""

    prefix = models.CharField(max_length=12, primary_key=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}{self.last_value}"


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}{value:04d}"


def take_next_number(prefix: str) -> str:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("take_next_number() must run inside the finalize transaction")
    InvoiceSequence.objects.bulk_create([InvoiceSequence(prefix=prefix)], ignore_conflicts=True)
    sequence = InvoiceSequence.objects.select_for_update().get(prefix=prefix)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return format_number(prefix, sequence.last_value)
