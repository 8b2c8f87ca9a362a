"""Staff view of Stripe webhook events, and re-processing a failed one."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from invoices.models import StripeEvent
from invoices.payments import webhooks
from portal.access import staff_required
from portal.keyset import page_links, paginate, read_position

PAGE_SIZE = 50
NEWEST_FIRST = ("-received_at", "-id")  # StripeEvent.Meta.ordering


@staff_required
def event_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    events = StripeEvent.objects.select_related("invoice").defer("payload")
    if status in StripeEvent.Status.values:
        events = events.filter(status=status)
    else:
        status = ""
    page = paginate(
        events, NEWEST_FIRST, read_position(request.GET, StripeEvent, NEWEST_FIRST), PAGE_SIZE
    )
    context = {
        "events": page.items,
        "links": page_links({"status": status} if status else {}, page),
        "status": status,
        "statuses": StripeEvent.Status.choices,
    }
    return render(request, "webhooks/events.html", context)


@require_POST
@staff_required
def reprocess_event(request: HttpRequest, pk: int) -> HttpResponse:
    stored = get_object_or_404(StripeEvent, pk=pk)
    if stored.status != StripeEvent.Status.FAILED:
        messages.error(request, "Only a failed event can be processed again.")
        return redirect("webhook_events")
    status, outcome = webhooks.reprocess(stored)
    if status == 200:
        messages.success(request, f"Event {stored.event_id} processed ({outcome}).")
    else:
        messages.error(request, f"Event {stored.event_id} failed again; see its error.")
    return redirect("webhook_events")
