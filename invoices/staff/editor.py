"""The draft editor: header fields and line items, edited with htmx.

The whole editor is one form. Every change posts all of it; only when all of it is
valid are the invoice and its lines written, in one transaction. Structural changes
(add, remove, move a line) are applied to the posted rows first, then validated and
saved the same way. An empty new row is neither saved nor an error until typed into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from customers.models import Customer
from invoices.activity import InvoiceStateError, announce, record_activity
from invoices.catalog import offered_tax_rates
from invoices.forms import DraftCreateForm, InvoiceHeaderForm, LineForm
from invoices.models import BusinessProfile, Invoice, InvoiceActivity, InvoiceLine
from invoices.staff.access import invoice_for_staff
from invoices.staff.editor_urls import invoice_editor_urls
from portal import once
from portal.access import staff_required
from portal.htmx import wants_fragment
from portal.money import MAX_AMOUNT, LineInput, Totals, compute_totals, format_money, to_major
from portal.params import parse_int, query_text

MAX_LINES = 200
HEADER_FIELDS = list(InvoiceHeaderForm.base_fields)
LINE_FIELDS = list(LineForm.base_fields)
LOCKED = "This invoice is finalized: it can no longer be edited."


def plain_number(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# -- the posted state -------------------------------------------------------


TAMPERED = "The editor's rows did not arrive intact. Reload the page: nothing was saved."
LINE_KEY = re.compile(r"line-(\d+)-")


def rows_from_post(data: Any) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The posted header and rows; a 400 unless `line-count` says exactly which rows came.

    The count decides which rows are saved and which lines are deleted, so a
    count that is missing, malformed or disagrees with the posted rows is
    refused outright: it must never read as "no lines" and wipe the invoice.
    """
    header = {name: data.get(name, "") for name in [*HEADER_FIELDS, "due_mode"]}
    count = parse_int(data.get("line-count"), minimum=0, maximum=MAX_LINES)
    posted = {int(m.group(1)) for key in data if (m := LINE_KEY.match(key))}
    if count is None or posted != set(range(count)):
        raise BadRequest(TAMPERED)
    rows = [{name: data.get(f"line-{i}-{name}", "") for name in LINE_FIELDS} for i in range(count)]
    return header, rows


def rows_from_invoice(invoice: Invoice) -> tuple[dict[str, str], list[dict[str, str]]]:
    discount = invoice.discount_value
    if invoice.discount_kind == Invoice.DiscountKind.AMOUNT:
        discount = to_major(int(discount), invoice.currency)
    header = {
        "currency": invoice.currency,
        "issue_date": invoice.issue_date.isoformat(),
        "terms": invoice.terms,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else "",
        "discount_kind": invoice.discount_kind,
        "discount_value": plain_number(discount) if invoice.discount_kind else "",
        "memo": invoice.memo,
        "footer": invoice.footer,
        "po_number": invoice.po_number,
    }
    rows = [
        {
            "id": str(line.pk),
            "description": line.description,
            "quantity": plain_number(line.quantity),
            "unit_price": str(to_major(line.unit_amount, invoice.currency)),
            "tax_rate": plain_number(line.tax_rate),
            "named_tax": str(line.named_tax_id or ""),
        }
        for line in invoice.lines.all()
    ]
    return header, rows


def blank_row() -> dict[str, str]:
    return {
        "id": "",
        "description": "",
        "quantity": "1",
        "unit_price": "",
        "tax_rate": "0",
        "named_tax": "",
    }


@dataclass
class Editor:
    invoice: Invoice
    header: InvoiceHeaderForm
    lines: list[LineForm]
    totals: Totals | None  # None while anything is invalid
    amounts: list[int | None]  # per row, None for a blank or invalid row

    @property
    def is_valid(self) -> bool:
        return self.totals is not None

    @property
    def swap_due(self) -> bool:
        """Refresh the due date field unless someone may be typing a custom date into it."""
        data = self.header.data
        return data.get("terms") != "custom" or data.get("due_mode") != "custom"

    @property
    def line_rows(self) -> list[tuple[int, LineForm, int | None]]:
        return [(i, form, self.amounts[i]) for i, form in enumerate(self.lines)]


def bind(invoice: Invoice, header: dict[str, str], rows: list[dict[str, str]]) -> Editor:
    data = {**header, "line-count": str(len(rows))}
    for i, row in enumerate(rows):
        data.update({f"line-{i}-{name}": value for name, value in row.items()})
    header_form = InvoiceHeaderForm(data)
    header_ok = header_form.is_valid()
    currency = header_form.cleaned_data.get("currency") or invoice.currency
    rates = offered_tax_rates(invoice)
    forms = [
        LineForm(data, prefix=f"line-{i}", currency=currency, tax_rates=rates)
        for i in range(len(rows))
    ]
    filled = [form for form in forms if not form.is_blank]
    # Validate every row (not stopping at the first bad one) so all errors show at once.
    results = [form.is_valid() for form in filled]
    ids_ok = _ids_known(invoice, header_form, forms)
    lines_ok = all(results) and ids_ok
    editor = Editor(invoice, header_form, forms, None, [None] * len(forms))
    if not (header_ok and lines_ok):
        return editor
    totals = compute_totals(
        [
            LineInput(
                f.cleaned_data["quantity"], f.cleaned_data["unit_price"], f.cleaned_data["tax_rate"]
            )
            for f in filled
        ],
        header_form.cleaned_data["discount_kind"],
        header_form.cleaned_data["discount"],
    )
    if totals.total > MAX_AMOUNT:
        header_form.add_error(
            None, f"The total cannot be more than {format_money(MAX_AMOUNT, currency)}."
        )
        return editor
    for form in filled:
        if (rate := form.cleaned_data["tax_rate_obj"]) is not None:
            # The named rate decided the percentage: the page shows the one that counts.
            data[form.add_prefix("tax_rate")] = plain_number(rate.percent)
    amounts = iter(line.amount for line in totals.lines)
    editor.amounts = [None if form.is_blank else next(amounts) for form in forms]
    editor.totals = totals
    return editor


def _ids_known(invoice: Invoice, header: InvoiceHeaderForm, forms: list[LineForm]) -> bool:
    """Each row's hidden id names one of this draft's lines, or is empty for a new row.

    The id is hidden, so a damaged one (an old tab, a tampered post) would
    otherwise block saving with no message anywhere on the page.
    """
    mine = set(invoice.lines.values_list("pk", flat=True))
    bad = [
        number
        for number, form in enumerate(forms, start=1)
        if not form.is_blank
        and (form.has_error("id") or form.cleaned_data.get("id") not in (None, *mine))
    ]
    for number in bad:
        header.add_error(
            None, f"Line {number} no longer matches a saved line: reload the page to edit it."
        )
    return not bad


def save(editor: Editor, actor: Any) -> Invoice:
    """Write a valid editor's state in one transaction; returns the fresh invoice."""
    cleaned = editor.header.cleaned_data
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=editor.invoice.pk)
        if not invoice.is_draft:
            raise InvoiceStateError(LOCKED)
        for name in (
            "currency",
            "issue_date",
            "terms",
            "due_date",
            "discount_kind",
            "memo",
            "footer",
            "po_number",
        ):
            setattr(invoice, name, cleaned[name])
        invoice.discount_value = cleaned["discount"]
        existing = {line.pk: line for line in invoice.lines.all()}
        kept: list[InvoiceLine] = []
        for form in editor.lines:
            if form.is_blank:
                continue
            line = existing.pop(form.cleaned_data["id"], None) or InvoiceLine(invoice=invoice)
            line.position = len(kept)
            line.description = form.cleaned_data["description"]
            line.quantity = form.cleaned_data["quantity"]
            line.unit_amount = form.cleaned_data["unit_price"]
            line.tax_rate = form.cleaned_data["tax_rate"]
            line.tax_name = form.cleaned_data["tax_name"]
            line.named_tax = form.cleaned_data["tax_rate_obj"]
            kept.append(line)
        invoice.recalculate(kept)
        InvoiceLine.objects.filter(pk__in=existing).delete()
        for line in kept:
            line.save()
        invoice.save()
        announce(invoice)
    # The forms share one data dict: new rows learn their id (so the next save
    # updates them instead of adding them again) and the due date follows the terms.
    data = editor.header.data
    ids = iter(line.pk for line in kept)
    for form in editor.lines:
        if not form.is_blank:
            data[form.add_prefix("id")] = str(next(ids))
    data["due_date"] = invoice.due_date.isoformat() if invoice.due_date else ""
    editor.invoice = invoice
    return invoice


# -- the views --------------------------------------------------------------


def locked_response(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    """Edits to a finalized invoice are refused by the endpoint, not only hidden."""
    response = render(request, "invoices/locked.html", {"invoice": invoice}, status=409)
    if request.htmx:
        # htmx does not swap a 409, but it follows HX-Redirect: back to the invoice.
        messages.error(request, LOCKED)
        response["HX-Redirect"] = invoice.get_absolute_url()
    return response


def _render(
    request: HttpRequest, editor: Editor, *, partial: str = "", extra: dict | None = None
) -> HttpResponse:
    template = "invoices/editor.html" + (f"#{partial}" if partial else "")
    invoice = editor.invoice
    context = {"editor": editor, "invoice": invoice, "customer": invoice.customer}
    context.update(editor_urls=invoice_editor_urls(invoice), **(extra or {}))
    if not partial:
        # The "change customer" pick list starts with the first few; its search finds the rest.
        context["customers"] = list(Customer.objects.active()[:50])
    return render(request, template, context)


def apply_posted(
    request: HttpRequest,
    invoice: Invoice,
    rows_change: Any = None,
    *,
    extra: dict | None = None,
) -> HttpResponse:
    """Bind the posted editor, apply a structural change, validate, save if valid, respond
    (`extra`: more context for the answer, such as the undo `rows_change` filled in)."""
    try:
        header, rows = rows_from_post(request.POST)
    except BadRequest as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    if rows_change is not None:
        rows = rows_change(rows)
    editor = bind(invoice, header, rows)
    if editor.is_valid:
        try:
            save(editor, request.user)
        except InvoiceStateError:
            return locked_response(request, invoice)
    fragment = wants_fragment(request)
    autosave = fragment and rows_change is None and request.POST.get("autosave") == "1"
    if fragment:
        # Errors come back with 200 so htmx swaps them in; an autosave leaves the
        # inputs alone (the person may be typing) and only refreshes what was computed.
        partial = "autosave" if autosave else "form"
        return _render(request, editor, partial=partial, extra=extra)
    if editor.is_valid and rows_change is None:
        messages.success(request, "Draft saved.")
        return redirect("invoices:edit", invoice.pk)
    return _render(request, editor, extra=extra)


@require_http_methods(["GET", "POST"])
@staff_required
def new_invoice(request: HttpRequest) -> HttpResponse:
    profile = BusinessProfile.load()
    initial = {"currency": profile.default_currency, "customer": request.GET.get("customer")}
    form = DraftCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        invoice = Invoice(
            customer=form.cleaned_data["customer"],
            currency=form.cleaned_data["currency"],
            terms=profile.default_terms,
            footer=profile.default_footer,
            created_by=request.user,
        )
        invoice.apply_terms()
        try:
            with transaction.atomic():
                claimed = once.claim(request)
                invoice.save()
                record_activity(invoice, InvoiceActivity.Kind.CREATED, actor=request.user)
                once.done(claimed, reverse("invoices:edit", args=[invoice.pk]))
        except once.AlreadySubmitted as first:
            messages.info(request, "That form was already sent: one draft was created.")
            return redirect(first.url or reverse("invoices:dashboard"))
        return redirect("invoices:edit", invoice.pk)
    q = query_text(request.GET, "customer_q")
    customers = list(Customer.objects.active().search(q)[:200])
    context = {
        "form": form,
        "customers": customers,
        "q": q,
        "selected": str(form["customer"].value() or ""),
    }
    return render(request, "invoices/new.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def edit_invoice(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    if not invoice.is_draft:
        return locked_response(request, invoice)
    if request.method == "POST":
        return apply_posted(request, invoice)
    header, rows = rows_from_invoice(invoice)
    return _render(request, bind(invoice, header, rows or [blank_row()]))


@require_POST
@staff_required
def add_line(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    if not invoice.is_draft:
        return locked_response(request, invoice)
    return apply_posted(request, invoice, lambda rows: [*rows, blank_row()][:MAX_LINES])


@require_POST
@staff_required
def remove_line(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    if not invoice.is_draft:
        return locked_response(request, invoice)
    undo: dict[str, Any] = {}

    def remove(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        if 0 <= index < len(rows):
            # The removed row's values go back to the page: "Undo" posts them again.
            undo.update(undo_index=index, undo_row=rows[index])
        return rows[:index] + rows[index + 1 :]

    return apply_posted(request, invoice, remove, extra=undo)


@require_POST
@staff_required
def move_line(request: HttpRequest, pk: int, index: int, direction: str) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    if direction not in ("up", "down"):
        raise Http404("No such direction")
    if not invoice.is_draft:
        return locked_response(request, invoice)
    other = index - 1 if direction == "up" else index + 1

    def swap(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        if 0 <= index < len(rows) and 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
        return rows

    return apply_posted(request, invoice, swap)
