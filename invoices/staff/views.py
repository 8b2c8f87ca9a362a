"""Staff pages for invoices: the dashboard, an invoice's page, the business profile.

The editor is in `editor.py`, the actions (finalize, send, void, ...) in
`actions.py`, the CSV export in `exports.py`.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from customers.models import Customer
from invoices.forms import BusinessProfileForm
from invoices.listing import (
    SORT_LABELS,
    TABS,
    InvoiceFilter,
    dashboard_balances,
    page_of,
)
from invoices.models import BusinessProfile, Invoice, InvoiceFlag
from invoices.quote_records import QUOTE_LINKS, linked_quote
from invoices.staff import rows
from invoices.staff.access import invoice_for_staff
from invoices.staff.bulk import ACTIONS
from invoices.staff.live import since_token
from portal.access import staff_required
from portal.htmx import render_page, wants_fragment

FLAG_ADVICE = {
    InvoiceFlag.Kind.AMOUNT_MISMATCH: (
        "The amount received differs from the amount due. Compare the payment in Stripe "
        "with the invoice; refund the difference or record the rest as an offline payment."
    ),
    InvoiceFlag.Kind.CURRENCY_MISMATCH: (
        "The payment came in another currency. Check it in Stripe and refund it if it "
        "cannot be accepted."
    ),
    InvoiceFlag.Kind.OVERPAID: (
        "The customer paid more than was due. Refund the extra amount in one click, or from "
        "the payment below."
    ),
    InvoiceFlag.Kind.REFUND_FAILED: (
        "Stripe could not return the money to the customer's card. Try the refund again, or "
        "pay the customer another way and record it."
    ),
    InvoiceFlag.Kind.DISPUTE: (
        "The customer disputed the card payment. Respond with evidence in the Stripe "
        "dashboard before the deadline."
    ),
}


# The list's columns that need more than a label: phones hide the dates, money aligns right.
COLUMN_CLASSES = {
    "issue_date": "hide-sm",
    "due_date": "hide-sm",
    "total": "num",
    "amount_due": "num",
}


def _columns(invoice_filter: InvoiceFilter) -> list[dict[str, str]]:
    """Each sortable header: its label, link, `aria-sort` state and class."""
    return [
        {
            "key": key,
            "label": label,
            "query": invoice_filter.sort_query(key),
            "state": invoice_filter.sort_state(key),
            "css": COLUMN_CLASSES.get(key, ""),
        }
        for key, label in SORT_LABELS.items()
    ]


@require_safe
@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    invoice_filter = InvoiceFilter.from_query(request.GET)
    page = page_of(invoice_filter, fields=rows.FIELDS)
    context = {
        "page": page,
        "filter": invoice_filter,
        "tabs": [(key, label, invoice_filter.url_query(status=key, page=1)) for key, label in TABS],
        "columns": _columns(invoice_filter),
        "bulk_actions": [(key, action.label) for key, action in ACTIONS.items()],
        "live_since": since_token(),
        "export_query": invoice_filter.url_query(page=1),
    }
    template = "invoices/dashboard.html"
    if wants_fragment(request):
        return render_page(request, template, context, fragment="results")
    month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    context["balances"] = dashboard_balances(month_start)
    if invoice_filter.customer_id:
        context["customer"] = Customer.objects.filter(pk=invoice_filter.customer_id).first()
    return render_page(request, template, context, fragment="results")


def _detail_context(invoice: Invoice) -> dict:
    credit_notes = list(invoice.credit_notes.prefetch_related("lines"))
    activities = invoice.activities.select_related("actor").order_by("-created_at", "-id")
    quote = linked_quote(invoice)
    deposit = quote.deposit_deducted if quote and quote.invoice_id == invoice.pk else 0
    return {
        "quote": quote,
        "deposit_deducted": deposit,
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "payments": list(invoice.payments.select_related("recorded_by")),
        "credit_notes": credit_notes,
        # What is credited beyond its own credit notes came from the customer's account.
        "credit_applied": invoice.amount_credited - sum(n.amount for n in credit_notes) - deposit,
        "activities": list(activities),
        "flags": [
            (flag, FLAG_ADVICE.get(flag.kind, ""))
            for flag in invoice.flags.filter(resolved_at__isnull=True)
        ],
        "emails": list(invoice.email_logs.order_by("-created_at", "-id")[:20]),
        "profile": BusinessProfile.load(),
        "live_since": since_token(),
    }


@require_safe
@staff_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk, *QUOTE_LINKS)
    # The live sections reload themselves when the staff feed says the status changed.
    return render_page(
        request,
        "invoices/detail.html",
        _detail_context(invoice),
        fragment="live-sections",
        target="invoice-live-sections",
    )


@require_http_methods(["GET", "POST"])
@staff_required
def business_profile(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied("Only an administrator can change the business profile.")
    profile = BusinessProfile.load()
    form = BusinessProfileForm(request.POST or None, request.FILES or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Business profile saved.")
        return redirect("invoices:profile")
    return render(request, "invoices/profile.html", {"form": form, "profile": profile})
