"""The one way a staff view gets the invoice it acts on (the customer's is `pay.views`)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from invoices.models import Invoice


def invoice_for_staff(pk: int) -> Invoice:
    """The invoice with what every staff page shows of it; 404 when there is none.

    Access itself is `staff_required` on the view: every staff member sees every invoice.
    """
    return get_object_or_404(Invoice.objects.select_related("customer", "created_by"), pk=pk)
