"""Named questions about invoices (`Invoice.objects.overdue()`, `.search(...)`)."""

from __future__ import annotations

from datetime import date

from django.db import models

from customers.models import Customer
from invoices.states import InvoiceStatus
from portal.timezones import business_today


class InvoiceQuerySet(models.QuerySet):
    def overdue(self, today: date | None = None) -> InvoiceQuerySet:
        return self.filter(status=InvoiceStatus.OPEN, due_date__lt=today or business_today())

    def search(self, term: str) -> InvoiceQuerySet:
        term = term.strip()
        if not term:
            return self
        # Customers are few: matching them first lets the database use the
        # customer index instead of joining every invoice to test its name.
        customers = Customer.objects.filter(
            models.Q(name__icontains=term) | models.Q(email__icontains=term)
        ).values("pk")
        return self.filter(
            models.Q(number__icontains=term)
            | models.Q(po_number__icontains=term)
            | models.Q(customer__in=customers)
        )
