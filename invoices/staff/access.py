"""The one way a staff view gets the invoice it acts on (the customer's is `pay.views`)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from invoices.models import Invoice


def invoice_for_staff(pk: int, *related: str) -> Invoice:
    """The invoice with what every staff page shows of it (and the `related` rows a page
    asks for in the same query); 404 when there is none.

    Access itself is `staff_required` on the view: every staff member sees every invoice.
    """
    invoices = Invoice.objects.select_related("customer", "created_by", *related)
    return get_object_or_404(invoices, pk=pk)
