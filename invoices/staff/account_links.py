"""Staff revoke or re-issue a customer's account link (from the customer's page)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from customers.models import Customer
from invoices import account_links
from portal.access import staff_required


@require_POST
@staff_required
def issue(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    account_links.issue_account_link(customer=customer, actor=request.user)
    messages.success(request, "A new account link was issued; any earlier one no longer works.")
    return redirect(customer)


@require_POST
@staff_required
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    account_links.revoke_account_link(customer=customer, actor=request.user)
    messages.success(request, "The account link no longer works.")
    return redirect(customer)


@require_POST
@staff_required
def require_code(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    required = request.POST.get("required") == "1"
    account_links.require_code(customer=customer, required=required, actor=request.user)
    if required:
        messages.success(request, "The account page now asks for a code emailed to the customer.")
    else:
        messages.success(request, "The account page opens with the link alone.")
    return redirect(customer)
