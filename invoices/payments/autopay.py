"""Autopay: a finalized invoice is charged to the customer's saved method, off-session.

`queue_autopay` runs inside the transaction that finalizes the invoice: it
writes the invoice's one `AutopayCharge` row and, with the database task
backend, the task that charges it (both commit or roll back with the invoice).
`attempt` is that task: it claims the row, brings the invoice's one
PaymentIntent up (reused while confirmable), and confirms it off-session with
an idempotency key per invoice, intent and method. The webhook books the money
as for any payment. A card that needs the customer (`authentication_required`)
or declines ends the row `failed`: the invoice is flagged for staff and the
customer is emailed the pay link with a plain reason (`autopay_failed`). Stripe
being down leaves the row pending for a later try (`run_autopay`), never lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.tasks import Task
from django.utils import timezone
from django_tasks_db import DatabaseBackend

from invoices import saved_methods, stripe_api
from invoices.activity import InvoiceStateError, announce, lock, record_activity
from invoices.models import (
    AutopayCharge,
    Invoice,
    InvoiceActivity,
    InvoiceFlag,
    SavedPaymentMethod,
)
from invoices.outbox import queue_email
from invoices.payments import intents
from invoices.payments.handlers import raise_flag
from portal.hooks import after_commit

logger = logging.getLogger(__name__)

# Waits after the 1st, 2nd ... attempt Stripe could not answer; then the customer pays by link.
RETRY_DELAYS = [timedelta(minutes=m) for m in (1, 5, 30, 120, 720)]
# Stripe's codes for "the customer must do something", worded for them in the email.
NEEDS_CUSTOMER = "authentication_required"
UNREACHABLE = "stripe_unreachable"

_task: list[Task] = []


def use_task(task: Task) -> None:
    """`invoices.tasks` hands over the task that runs `attempt` (task rows name it there)."""
    _task[:] = [task]


def queue_autopay(invoice: Invoice) -> AutopayCharge | None:
    """Inside the finalizing transaction: owe the invoice one off-session charge, if the
    customer has a saved method with autopay on. At most one per invoice, ever."""
    method = saved_methods.autopay_method(invoice.customer_id)
    if method is None or invoice.amount_due <= 0:
        return None
    charge, created = AutopayCharge.objects.get_or_create(
        invoice=invoice,
        defaults={
            "saved_method": method,
            "stripe_payment_method_id": method.stripe_payment_method_id,
        },
    )
    if created:
        record_activity(
            invoice,
            InvoiceActivity.Kind.PAYMENT_ATTEMPTED,
            message=f"Automatic payment with {method.label} queued",
            source="autopay",
        )
        schedule(charge)
    return charge


def schedule(charge: AutopayCharge, run_after: datetime | None = None) -> None:
    """Ask the task backend to attempt `charge` (as `outbox.schedule` does for emails)."""
    [task] = _task
    if isinstance(task.get_backend(), DatabaseBackend):
        task.using(run_after=run_after).enqueue(charge.pk)
    elif run_after is None:
        after_commit("autopay", lambda: task.enqueue(charge.pk))
    # Else the retry waits for `run_autopay`.


def _claim(charge_id: int) -> AutopayCharge | None:
    now = timezone.now()
    lease = now - timedelta(seconds=settings.TASKS_LEASE_SECONDS)
    with transaction.atomic():
        charge = AutopayCharge.objects.select_for_update().filter(pk=charge_id).first()
        if charge is None:
            return None
        due = charge.status == AutopayCharge.Status.PENDING and charge.next_attempt_at <= now
        stale = charge.status == AutopayCharge.Status.CHARGING and (
            charge.claimed_at is None or charge.claimed_at <= lease
        )
        if not (due or stale):
            return None
        charge.status = AutopayCharge.Status.CHARGING
        charge.attempts += 1
        charge.claimed_at = now
        charge.save(update_fields=["status", "attempts", "claimed_at", "updated_at"])
    return charge


def attempt(charge_id: int) -> str:
    """One try at the charge; returns what happened (the task's result)."""
    charge = _claim(charge_id)
    if charge is None:
        return "skipped"
    invoice = Invoice.objects.select_related("customer").get(pk=charge.invoice_id)
    if reason := _why_not(charge, invoice):
        _finish(charge, AutopayCharge.Status.SKIPPED, message=reason)
        return "skipped"
    try:
        if _went_through(charge.stripe_payment_intent_id):
            # An earlier attempt reached Stripe and its answer was lost (a crash, a timeout).
            _finish(charge, AutopayCharge.Status.SUBMITTED)
            return "submitted"
        intent_id = intents.intent_for_autopay(invoice=invoice)
        charge.stripe_payment_intent_id = intent_id
        charge.save(update_fields=["stripe_payment_intent_id", "updated_at"])
        stripe_api.confirm_off_session(
            intent_id,
            payment_method_id=charge.stripe_payment_method_id,
            # Per attempt: Stripe replays a key's first answer, even a 500. The intent
            # itself is what cannot be paid twice.
            idempotency_key=stripe_api.idempotency_key(
                "autopay", invoice.pk, intent_id, charge.stripe_payment_method_id, charge.attempts
            ),
        )
    except InvoiceStateError as refused:
        _finish(charge, AutopayCharge.Status.SKIPPED, message=str(refused))
        return "skipped"
    except (stripe_api.CardError, stripe_api.InvalidRequestError) as declined:
        if _went_through(charge.stripe_payment_intent_id):
            _finish(charge, AutopayCharge.Status.SUBMITTED)
            return "submitted"
        code = str(getattr(declined, "code", "") or "declined")
        stripe_charge = str(getattr(declined.error, "charge", "") or "")
        _failed(charge, code, declined.user_message or str(declined), stripe_charge)
        return "failed"
    except stripe_api.StripeError as error:
        return _retry_later(charge, error)
    _finish(charge, AutopayCharge.Status.SUBMITTED)
    return "submitted"


def _went_through(intent_id: str) -> bool:
    """The intent already took (or is taking) the money."""
    if not intent_id:
        return False
    status = stripe_api.retrieve_payment_intent(intent_id).status
    return status in (stripe_api.SUCCEEDED, stripe_api.PROCESSING)


def _why_not(charge: AutopayCharge, invoice: Invoice) -> str:
    """Re-checked at charge time: the method may be gone or the invoice paid meanwhile."""
    still = SavedPaymentMethod.objects.filter(
        pk=charge.saved_method_id, customer_id=invoice.customer_id, autopay=True
    )
    if charge.saved_method_id is None or not still.exists():
        return "The saved payment method was removed or autopay switched off."
    return invoice.payment_refusal or ""


def _finish(charge: AutopayCharge, status: str, *, message: str = "") -> None:
    with transaction.atomic():
        AutopayCharge.objects.filter(pk=charge.pk).update(
            status=status, failure_message=message[:500], updated_at=timezone.now()
        )
        if status == AutopayCharge.Status.SKIPPED:
            record_activity(
                Invoice.objects.get(pk=charge.invoice_id),
                InvoiceActivity.Kind.PAYMENT_CANCELED,
                message=f"Automatic payment not made: {message}",
                source="autopay",
            )


def _failed(charge: AutopayCharge, code: str, message: str, stripe_charge: str = "") -> None:
    """The customer must pay themselves: staff see why, the customer gets the link.

    Staff get this one notice: the webhook of the failed charge sends none of its own
    (`handlers._autopay_tells_staff` knows the charge by `stripe_charge_id`)."""
    with transaction.atomic():
        invoice = lock(Invoice.objects.get(pk=charge.invoice_id))
        updated = AutopayCharge.objects.filter(
            pk=charge.pk, status=AutopayCharge.Status.CHARGING
        ).update(
            status=AutopayCharge.Status.FAILED,
            failure_code=code[:64],
            failure_message=message[:500],
            stripe_charge_id=stripe_charge[:255],
            updated_at=timezone.now(),
        )
        if not updated:
            return  # another worker already ended it
        label = charge.saved_method.label if charge.saved_method else "the saved method"
        raise_flag(
            invoice,
            InvoiceFlag.Kind.AUTOPAY_FAILED,
            f"Automatic payment with {label} failed ({code}): {message} "
            "The customer was emailed the pay link.",
            "",
            notice="autopay_failed",
        )
        queue_email("autopay_failed", invoice, ref=f"autopay-{charge.pk}", reason=code)
        announce(invoice)


def _retry_later(charge: AutopayCharge, error: Exception) -> str:
    logger.warning("autopay %s attempt %s: %s", charge.pk, charge.attempts, error)
    if charge.attempts > len(RETRY_DELAYS):
        _failed(charge, UNREACHABLE, "Stripe could not be reached.")
        return "failed"
    with transaction.atomic():
        when = timezone.now() + RETRY_DELAYS[charge.attempts - 1]
        AutopayCharge.objects.filter(pk=charge.pk).update(
            status=AutopayCharge.Status.PENDING,
            next_attempt_at=when,
            failure_message=f"{type(error).__name__}: {error}"[:500],
            updated_at=timezone.now(),
        )
        charge.refresh_from_db()
        schedule(charge, run_after=when)
    return "retry"


def due_charges() -> list[int]:
    now = timezone.now()
    lease = now - timedelta(seconds=settings.TASKS_LEASE_SECONDS)
    due = Q(status=AutopayCharge.Status.PENDING, next_attempt_at__lte=now)
    stale = Q(status=AutopayCharge.Status.CHARGING, claimed_at__lte=lease)
    return list(
        AutopayCharge.objects.filter(due | stale).order_by("pk").values_list("pk", flat=True)
    )


def attempt_due() -> dict[str, int]:
    """Every due or stalled charge, here and now (the `run_autopay` command)."""
    outcomes: dict[str, int] = {}
    for charge_id in due_charges():
        outcome = attempt(charge_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
