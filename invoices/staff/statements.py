"""A customer's statement of account for a date range: on screen and as a PDF."""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from customers.models import Customer
from invoices.documents.statements import queue_statement
from invoices.documents.views import pdf_response
from invoices.statements import Statement, statement, statement_filename, statement_pdf
from portal import once
from portal.access import staff_required
from portal.params import query_date


def _statement(
    request: HttpRequest, pk: int, data: QueryDict | None = None
) -> tuple[Statement, bool]:
    """The statement the URL asks for (this year so far by default), and whether the
    range had to be turned round (start after end)."""
    customer = get_object_or_404(Customer, pk=pk)
    today = timezone.localdate()
    data = request.GET if data is None else data
    start = query_date(data, "start") or date(today.year, 1, 1)
    end = query_date(data, "end") or today
    swapped = start > end
    if swapped:
        start, end = end, start
    return statement(customer, start, end), swapped


@require_safe
@staff_required
def statement_page(request: HttpRequest, pk: int) -> HttpResponse:
    found, swapped = _statement(request, pk)
    query = f"?start={found.start.isoformat()}&end={found.end.isoformat()}"
    context = {"statement": found, "customer": found.customer, "swapped": swapped, "query": query}
    return render(request, "invoices/statement.html", context)


@require_safe
@staff_required
@never_cache
def statement_download(request: HttpRequest, pk: int) -> HttpResponse:
    found, _ = _statement(request, pk)
    return pdf_response(statement_pdf(found), statement_filename(found))


@require_POST
@staff_required
def statement_email(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the statement shown (its range comes back in the form) for the customer."""
    found, _ = _statement(request, pk, request.POST)
    query = f"?start={found.start.isoformat()}&end={found.end.isoformat()}"
    url = reverse("customers:statement", args=[pk]) + query
    token = request.POST.get(once.FIELD, "")[:64] or uuid.uuid4().hex
    try:
        with transaction.atomic():
            claimed = once.claim(request)
            queue_statement(customer=found.customer, start=found.start, end=found.end, ref=token)
            once.done(claimed, url)
    except once.AlreadySubmitted:
        messages.info(request, "That was pressed twice: the statement was emailed once.")
    else:
        messages.success(request, f"Statement emailed to {found.customer.email}.")
    return redirect(url)
