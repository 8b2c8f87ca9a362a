"""Staff actions on one invoice. Each is a POST (destructive ones confirmed first)
that calls the workflow in `services.py` and reports the outcome with a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from invoices import services
from invoices.activity import InvoiceStateError, record_activity
from invoices.forms import OfflinePaymentForm, RefundForm
from invoices.models import EmailLog, Invoice, InvoiceActivity, InvoiceFlag, Payment
from invoices.payments import refunds
from invoices.staff.access import invoice_for_staff
from portal import once
from portal.access import staff_required
from portal.htmx import done
from portal.money import to_major
from portal.timezones import business_today


def _run(
    request: HttpRequest, invoice: Invoice, action: Callable[[], Any], success: str
) -> HttpResponse:
    try:
        action()
    except InvoiceStateError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return done(request, invoice.get_absolute_url())


def _confirm(request: HttpRequest, invoice: Invoice, **context: Any) -> HttpResponse:
    """The no-JavaScript confirmation step (htmx asks with hx-confirm instead)."""
    context.setdefault("danger", True)
    context.update(action_url=request.path, cancel_url=invoice.get_absolute_url())
    return render(request, "invoices/confirm.html", {"invoice": invoice, **context})


@require_POST
@staff_required
def finalize(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    try:
        invoice = services.finalize_invoice(invoice=invoice, actor=request.user)
    except InvoiceStateError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Invoice {invoice.number} finalized. Send it when ready.")
    return done(request, invoice.get_absolute_url())


@require_POST
@staff_required
def send(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)

    def send_once() -> None:
        with transaction.atomic():
            claimed = once.claim(request)
            services.send_invoice(invoice=invoice, actor=request.user)
            once.done(claimed, invoice.get_absolute_url())

    try:
        return _run(request, invoice, send_once, f"Invoice emailed to {invoice.customer.email}.")
    except once.AlreadySubmitted:
        messages.info(request, "That was pressed twice: the invoice was emailed once.")
        return done(request, invoice.get_absolute_url())


@require_http_methods(["GET", "POST"])
@staff_required
def remind(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a payment reminder now (GET: the no-JavaScript confirmation)."""
    invoice = invoice_for_staff(pk)
    if request.method == "GET":
        return _confirm(
            request,
            invoice,
            danger=False,
            title=f"Remind about {invoice}",
            question=f"Email a payment reminder for {invoice} to {invoice.customer.email} now?",
            detail="The reminder schedule carries on as before.",
            button="Send reminder",
            form_token=True,
        )

    def remind_once() -> None:
        with transaction.atomic():
            claimed = once.claim(request)
            services.send_reminder_now(invoice=invoice, actor=request.user)
            once.done(claimed, invoice.get_absolute_url())

    try:
        return _run(request, invoice, remind_once, f"Reminder emailed to {invoice.customer.email}.")
    except once.AlreadySubmitted:
        messages.info(request, "That was pressed twice: one reminder was sent.")
        return done(request, invoice.get_absolute_url())


@require_http_methods(["GET", "POST"])
@staff_required
def void(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    if request.method == "GET":
        return _confirm(
            request,
            invoice,
            title=f"Void {invoice}",
            question=f"Void invoice {invoice}? The customer can no longer pay it.",
            detail="Voiding cannot be undone; duplicate the invoice to bill again.",
            button="Void invoice",
        )
    return _run(
        request,
        invoice,
        lambda: services.void_invoice(invoice=invoice, actor=request.user),
        f"Invoice {invoice} voided.",
    )


@require_http_methods(["GET", "POST"])
@staff_required
def uncollectible(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    if request.method == "GET":
        return _confirm(
            request,
            invoice,
            title=f"Mark {invoice} uncollectible",
            question=f"Mark invoice {invoice} as uncollectible (bad debt)?",
            detail="It leaves the outstanding totals; a payment recorded later reopens it.",
            button="Mark uncollectible",
        )
    return _run(
        request,
        invoice,
        lambda: services.mark_uncollectible(invoice=invoice, actor=request.user),
        f"Invoice {invoice} marked uncollectible.",
    )


@require_http_methods(["GET", "POST"])
@staff_required
def revoke_link(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    if request.method == "GET":
        return _confirm(
            request,
            invoice,
            title=f"Replace the pay link of {invoice}",
            question="Replace the pay link? The link already sent stops working at once.",
            detail="Send the invoice again so the customer gets the new link.",
            button="Replace link",
        )
    return _run(
        request,
        invoice,
        lambda: services.revoke_pay_link(invoice=invoice, actor=request.user),
        "The old pay link no longer works. Send the invoice again to share the new one.",
    )


@require_POST
@staff_required
def duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    try:
        with transaction.atomic():
            claimed = once.claim(request)
            copy = services.duplicate_invoice(invoice=invoice, actor=request.user)
            once.done(claimed, reverse("invoices:edit", args=[copy.pk]))
    except once.AlreadySubmitted as first:
        messages.info(request, "That was pressed twice: one copy was made.")
        return done(request, first.url or invoice.get_absolute_url())
    messages.success(request, f"Copied {invoice} into a new draft.")
    return done(request, reverse("invoices:edit", args=[copy.pk]))


@require_http_methods(["GET", "POST"])
@staff_required
def delete_draft(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    if not invoice.is_draft:
        messages.error(request, "Only a draft can be deleted; void a finalized invoice instead.")
        return done(request, invoice.get_absolute_url())
    if request.method == "GET":
        return _confirm(
            request,
            invoice,
            title=f"Delete {invoice}",
            question=f"Delete {invoice} for {invoice.customer.name}? This cannot be undone.",
            button="Delete draft",
        )
    with transaction.atomic():
        # Re-checked under lock: a finalize may have won the race.
        locked = Invoice.objects.select_for_update().filter(pk=pk, status=Invoice.Status.DRAFT)
        deleted, _ = locked.delete()
    if not deleted:
        messages.error(request, "Only a draft can be deleted; void a finalized invoice instead.")
        return done(request, invoice.get_absolute_url())
    messages.success(request, "Draft deleted.")
    return done(request, reverse("invoices:dashboard"))


@require_http_methods(["GET", "POST"])
@staff_required
def record_payment(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    initial = {
        "received_on": business_today(),
        "amount": to_major(invoice.amount_due, invoice.currency),
    }
    form = OfflinePaymentForm(request.POST or None, invoice=invoice, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_offline_payment(
                invoice=invoice, actor=request.user, **form.cleaned_data
            )
        except InvoiceStateError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{invoice.money(form.cleaned_data['amount'])} recorded.")
            return done(request, invoice.get_absolute_url())
    return render(request, "invoices/record_payment.html", {"invoice": invoice, "form": form})


@require_http_methods(["GET", "POST"])
@staff_required
def refund(request: HttpRequest, pk: int, payment_pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    payment = get_object_or_404(Payment, pk=payment_pk, invoice=invoice)
    if not payment.refundable:
        messages.error(request, "Only a succeeded card payment with money left can be refunded.")
        return done(request, invoice.get_absolute_url())
    form = RefundForm(
        request.POST or None,
        payment=payment,
        initial={"amount": to_major(payment.refundable, payment.currency)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            refunds.request_refund(
                payment=payment, amount=form.cleaned_data["amount"], actor=request.user
            )
        except InvoiceStateError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Refund of {invoice.money(form.cleaned_data['amount'])} requested; "
                "it appears here once Stripe confirms it.",
            )
            return done(request, invoice.get_absolute_url())
    context = {"invoice": invoice, "payment": payment, "form": form}
    return render(request, "invoices/refund.html", context)


@require_POST
@staff_required
def resolve_flag(request: HttpRequest, pk: int, flag_pk: int) -> HttpResponse:
    invoice = invoice_for_staff(pk)
    with transaction.atomic():
        resolved = InvoiceFlag.objects.filter(
            pk=flag_pk, invoice=invoice, resolved_at__isnull=True
        ).update(resolved_at=timezone.now())
        if resolved:
            flag = InvoiceFlag.objects.get(pk=flag_pk)
            record_activity(
                invoice,
                InvoiceActivity.Kind.UPDATED,
                actor=request.user,
                message=f"Flag resolved: {flag.message}",
                flag_id=flag.pk,
            )
    if resolved:
        messages.success(request, "Flag marked resolved.")
    return done(request, invoice.get_absolute_url())


@require_POST
@staff_required
def send_email_again(request: HttpRequest, pk: int, email_pk: int) -> HttpResponse:
    """A failed email (every retry used up): a fresh round of attempts, starting now."""
    invoice = invoice_for_staff(pk)
    email = get_object_or_404(EmailLog, pk=email_pk, invoice=invoice)
    return _run(
        request,
        invoice,
        lambda: services.send_email_again(email=email, actor=request.user),
        f"{email.label} email queued again.",
    )


@require_POST
@staff_required
def refund_excess(request: HttpRequest, pk: int, flag_pk: int) -> HttpResponse:
    """One click on an overpayment flag: refund what was paid beyond the amount due."""
    invoice = invoice_for_staff(pk)
    flag = get_object_or_404(
        InvoiceFlag.objects.select_related("payment"),
        pk=flag_pk,
        invoice=invoice,
        kind=InvoiceFlag.Kind.OVERPAID,
        resolved_at__isnull=True,
    )
    if flag.payment is None or flag.amount <= 0:
        messages.error(request, "This flag does not say which payment to refund; use Refund.")
        return done(request, invoice.get_absolute_url())
    try:
        refunds.request_refund(payment=flag.payment, amount=flag.amount, actor=request.user)
    except InvoiceStateError as error:
        messages.error(request, str(error))
        return done(request, invoice.get_absolute_url())
    with transaction.atomic():
        InvoiceFlag.objects.filter(pk=flag.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
        record_activity(
            invoice,
            InvoiceActivity.Kind.UPDATED,
            actor=request.user,
            message=f"Flag resolved: excess of {invoice.money(flag.amount)} refunded",
            flag_id=flag.pk,
        )
    messages.success(request, f"Refund of the excess {invoice.money(flag.amount)} requested.")
    return done(request, invoice.get_absolute_url())
