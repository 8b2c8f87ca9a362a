"""Staff pages for recurring templates: the list, a new one (from scratch or an
invoice), pause and resume. Billing itself is `invoices.recurring.run_recurring`."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from invoices import recurring
from invoices.models import RecurringTemplate
from invoices.staff.access import invoice_for_staff
from invoices.staff.recurring_forms import (
    RecurringTemplateForm,
    clean_lines,
    initial_from_invoice,
    line_forms,
)
from portal import once
from portal.access import staff_required
from portal.htmx import done


@require_http_methods(["GET"])
@staff_required
def recurring_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    templates = list(
        RecurringTemplate.objects.select_related("customer").prefetch_related("lines", "runs")
    )
    rows = [(template, recurring.next_period(template, today)) for template in templates]
    return render(request, "invoices/recurring_list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@staff_required
def recurring_new(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    source = invoice_for_staff(pk) if pk is not None else None
    header, lines = (
        initial_from_invoice(source) if source else ({"start_date": timezone.localdate()}, [])
    )
    data = request.POST if request.method == "POST" else None
    form = RecurringTemplateForm(data, initial=header)
    currency = request.POST.get("currency", "USD") if data else header.get("currency", "USD")
    rows = line_forms(data, currency, lines)
    if data is not None and form.is_valid():
        cleaned_lines = clean_lines(rows)
        if cleaned_lines is None:
            messages.error(request, "Add at least one complete line.")
        else:
            try:
                with transaction.atomic():
                    claimed = once.claim(request)
                    template = recurring.create_template(
                        lines=cleaned_lines,
                        actor=request.user,
                        source_invoice=source,
                        **form.cleaned_data,
                    )
                    once.done(claimed, template.get_absolute_url())
            except once.AlreadySubmitted as first:
                return redirect(first.url or reverse("invoices:recurring_list"))
            messages.success(request, f"{template} created: it runs from {template.start_date}.")
            return redirect(template.get_absolute_url())
    context = {"form": form, "lines": rows, "source": source}
    return render(request, "invoices/recurring_form.html", context)


@require_POST
@staff_required
def recurring_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_paused(request, pk, paused=True)


@require_POST
@staff_required
def recurring_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_paused(request, pk, paused=False)


def _set_paused(request: HttpRequest, pk: int, *, paused: bool) -> HttpResponse:
    template = get_object_or_404(RecurringTemplate, pk=pk)
    try:
        with transaction.atomic():
            claimed = once.claim(request)
            recurring.set_paused(template=template, paused=paused)
            once.done(claimed, template.get_absolute_url())
    except once.AlreadySubmitted:
        return done(request, template.get_absolute_url())
    if paused:
        messages.success(request, f"{template} paused: no invoices until it is resumed.")
    else:
        messages.success(request, f"{template} resumed: the paused periods are not billed.")
    return done(request, template.get_absolute_url())
