"""What the catalog offers a draft (the models are `invoices.catalog_records`)."""

from __future__ import annotations

from django.db.models import Q

from invoices.models import Invoice, TaxRate


def offered_tax_rates(invoice: Invoice) -> list[TaxRate]:
    """The named rates a draft's lines may pick: the active ones and any it already uses
    (an archived rate stays on the lines that chose it until someone picks another)."""
    used = invoice.lines.exclude(named_tax=None).values("named_tax")
    return list(TaxRate.objects.filter(Q(archived_at__isnull=True) | Q(pk__in=used)))
