"""A customer's statement of account for a date range: on screen and as a PDF."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from customers.models import Customer
from invoices.document_views import pdf_response
from invoices.statements import Statement, statement, statement_filename, statement_pdf
from portal.access import staff_required
from portal.params import query_date


def _statement(request: HttpRequest, pk: int) -> tuple[Statement, bool]:
    """The statement the URL asks for (this year so far by default), and whether the
    range had to be turned round (start after end)."""
    customer = get_object_or_404(Customer, pk=pk)
    today = timezone.localdate()
    start = query_date(request.GET, "start") or date(today.year, 1, 1)
    end = query_date(request.GET, "end") or today
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
