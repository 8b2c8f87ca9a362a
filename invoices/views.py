"""Staff pages for invoices."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from invoices.models import Invoice
from portal.access import staff_required


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    invoices = Invoice.objects.select_related("customer")[:50]
    return render(request, "invoices/dashboard.html", {"invoices": invoices})


@staff_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=pk)
    return render(request, "invoices/detail.html", {"invoice": invoice})
