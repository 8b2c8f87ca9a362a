"""Staff pages for customers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from customers.models import Customer
from portal.access import staff_required


@staff_required
def customer_list(request: HttpRequest) -> HttpResponse:
    customers = Customer.objects.active().search(request.GET.get("q", ""))[:100]
    return render(request, "customers/list.html", {"customers": customers})


@staff_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    return render(request, "customers/detail.html", {"customer": customer})
