"""Actions on several invoices picked from the list: review what will happen, then do it.

The review page (GET) lists every picked invoice with what the action does to
it, or why it is skipped; its button POSTs the ones that can be acted on. Each
then goes through the same workflow as its own button on the invoice page, in
a transaction of its own, so one refusal never undoes the others. Plain forms
and links: it all works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from invoices import services
from invoices.activity import InvoiceStateError
from invoices.models import Invoice
from portal import once
from portal.access import staff_required
from portal.params import MAX_ID, parse_int

# More than a page of the list (25 rows): a hand-picked batch, not a mass mailing.
MAX_PICKED = 100


def _void_refusal(invoice: Invoice) -> str | None:
    if invoice.status == Invoice.Status.DRAFT:
        return "A draft is deleted, not voided."
    if invoice.status == Invoice.Status.VOID:
        return "It is already void."
    if invoice.status == Invoice.Status.PAID or invoice.amount_paid:
        return "Payments were made on it: issue a credit note instead."
    if invoice.payment_state == Invoice.PaymentState.PROCESSING:
        return "A payment is processing; wait for it before voiding."
    return None


@dataclass(frozen=True)
class BulkAction:
    label: str  # the button: "Void"
    done: str  # the outcome: "voided"
    effect: str  # what happens to each invoice
    refusal: Callable[[Invoice], str | None]
    # The workflow (keyword-only `invoice`, `actor`); None for an export, which changes nothing.
    run: Callable[..., Any] | None
    danger: bool = False


ACTIONS: dict[str, BulkAction] = {
    "send": BulkAction(
        label="Send",
        done="sent",
        effect="The invoice and its pay link are emailed to the customer.",
        refusal=services.send_refusal,
        run=services.send_invoice,
    ),
    "remind": BulkAction(
        label="Send reminder now",
        done="reminded",
        effect="A payment reminder is emailed now; the reminder schedule carries on.",
        refusal=services.reminder_refusal,
        run=services.send_reminder_now,
    ),
    "export": BulkAction(
        label="Export CSV",
        done="exported",
        effect="The invoices are downloaded as CSV; nothing changes.",
        refusal=lambda invoice: None,
        run=None,
    ),
    "void": BulkAction(
        label="Void",
        done="voided",
        effect="Each customer can no longer pay it and is emailed so. This cannot be undone.",
        refusal=_void_refusal,
        run=services.void_invoice,
        danger=True,
    ),
}


def picked_ids(query: QueryDict) -> list[int]:
    """The picked invoices' ids ("All on this page" sends the page's); others are left out."""
    name = "page_ids" if query.get("scope") == "page" else "ids"
    ids = (parse_int(raw, minimum=1, maximum=MAX_ID) for raw in query.getlist(name))
    return list(dict.fromkeys(pk for pk in ids if pk is not None))[:MAX_PICKED]


def list_url(query: QueryDict) -> str:
    """The list the staff member came from (`back` is its query string, re-encoded)."""
    back = QueryDict(query.get("back", "").removeprefix("?")[:2000])
    encoded = back.urlencode()
    return reverse("invoices:dashboard") + (f"?{encoded}" if encoded else "")


def _picked(ids: list[int]) -> list[Invoice]:
    rows = Invoice.objects.select_related("customer").filter(pk__in=ids)
    return list(rows.order_by("-created_at", "-id"))


@require_safe
@staff_required
def bulk_review(request: HttpRequest) -> HttpResponse:
    action = ACTIONS.get(request.GET.get("action", ""))
    ids = picked_ids(request.GET)
    if action is None or not ids:
        messages.error(request, "Pick one or more invoices and an action.")
        return redirect(list_url(request.GET))
    picked = _picked(ids)
    rows = [(invoice, action.refusal(invoice)) for invoice in picked]
    ready = [invoice for invoice, refusal in rows if refusal is None]
    export = QueryDict(mutable=True)
    export.setlist("ids", [str(invoice.pk) for invoice in ready])
    context = {
        "action": action,
        "action_key": request.GET["action"],
        "ready": ready,
        "picked_count": len(picked),
        "skipped": [(invoice, refusal) for invoice, refusal in rows if refusal],
        "missing": len(ids) - len(picked),
        "back": request.GET.get("back", "")[:2000],
        "cancel_url": list_url(request.GET),
        "export_query": export.urlencode(),
    }
    return render(request, "invoices/bulk_confirm.html", context)


def _act(request: HttpRequest, action: BulkAction, invoice: Invoice) -> str | None:
    """Run the action on one invoice in its own transaction; why it was skipped, or None."""
    refusal = action.refusal(invoice)
    if refusal:
        return refusal
    try:
        with transaction.atomic():
            once.claim_part(request, str(invoice.pk))
            action.run(invoice=invoice, actor=request.user)
    except once.AlreadySubmitted:
        return "It was already done by the first press of the button."
    except InvoiceStateError as error:
        return str(error)
    return None


@require_POST
@staff_required
def bulk_run(request: HttpRequest) -> HttpResponse:
    action = ACTIONS.get(request.POST.get("action", ""))
    ids = picked_ids(request.POST)
    if action is None or action.run is None or not ids:
        messages.error(request, "Pick one or more invoices and an action.")
        return redirect(list_url(request.POST))
    acted, skipped = [], []
    for invoice in _picked(ids):
        refusal = _act(request, action, invoice)
        if refusal:
            skipped.append(f"{invoice}: {refusal}")
        else:
            acted.append(str(invoice))
    if acted:
        noun = "invoice" if len(acted) == 1 else "invoices"
        messages.success(request, f"{len(acted)} {noun} {action.done}: {', '.join(acted)}.")
    if skipped:
        messages.warning(request, f"Skipped {len(skipped)}: " + " ".join(skipped))
    return redirect(list_url(request.POST))
