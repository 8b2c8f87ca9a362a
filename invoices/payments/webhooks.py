"""Stripe's webhook: verify, store the event once, dispatch to a handler.

Each event is stored by its unique id in the same transaction as the change
it causes. A delivery of an event already processed (or ignored) is answered
200 and changes nothing; two deliveries at the same moment serialize on the
event row, inserted or locked in one statement (`INSERT ... ON CONFLICT DO
UPDATE ... WHERE` not done). A handler that raises rolls back the whole
transaction (no savepoint on the way of every event); its error is then stored
on the event row in a transaction of its own and answered 500, so Stripe
retries; the retry processes it again. An event whose data can never
apply (`event_checks`) is stored as invalid, flagged and answered 200.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from invoices import saved_methods, stripe_api
from invoices.models import Invoice, StripeEvent
from invoices.payments import disputes, event_checks, handlers, microdeposits, refunds

logger = logging.getLogger("invoices.webhooks")

# An invoice (or True, for a change that is not an invoice's) when applied; None: ignored.
Handler = Callable[[dict[str, Any], str], Invoice | bool | None]

HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": handlers.apply_intent_succeeded,
    "payment_intent.processing": handlers.apply_intent_processing,
    "payment_intent.payment_failed": handlers.apply_intent_failed,
    "payment_intent.canceled": handlers.apply_intent_canceled,
    "payment_intent.requires_action": microdeposits.apply_intent_requires_action,
    "charge.succeeded": handlers.apply_charge_succeeded,
    "charge.pending": handlers.apply_charge_pending,
    "charge.failed": handlers.apply_charge_pending,
    "charge.refunded": handlers.apply_charge_refunded,
    "refund.created": refunds.apply_refund,
    "refund.updated": refunds.apply_refund,
    "refund.failed": refunds.apply_refund,
    "charge.refund.updated": refunds.apply_refund,
    "charge.dispute.created": disputes.apply_dispute_created,
    "charge.dispute.closed": disputes.apply_dispute_closed,
    "charge.dispute.funds_withdrawn": disputes.apply_dispute_funds_withdrawn,
    "charge.dispute.funds_reinstated": disputes.apply_dispute_funds_reinstated,
    "payment_method.attached": saved_methods.apply_attached,
    "payment_method.detached": saved_methods.apply_detached,
}

DONE = (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED, StripeEvent.Status.INVALID)
_PAYLOAD = StripeEvent._meta.get_field("payload")


def _text(status: int, body: str) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain")


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("Stripe-Signature")
    if not signature:
        return _text(400, "missing Stripe-Signature header")
    try:
        event = stripe_api.verify_event(request.body, signature)
    except stripe_api.SignatureVerificationError as error:
        stale = "tolerance" in str(error).lower()
        logger.warning("webhook refused: %s", error)
        return _text(400, "timestamp outside the tolerance" if stale else "bad signature")
    except (ValueError, UnicodeDecodeError):
        return _text(400, "malformed payload")
    try:
        status, body = process_event(event)
    except (OperationalError, InterfaceError) as error:
        # The database is unreachable (a restart, a failover): nothing was stored,
        # so Stripe's retry will apply the event. Answer at once, without a 500 page.
        logger.warning("webhook: database unavailable: %s", error)
        return _text(503, "database unavailable; retry")
    return _text(status, body)


class _HandlerRaised(Exception):
    """Carries a handler's exception out of the transaction it rolls back."""


def process_event(event: dict[str, Any]) -> tuple[int, str]:
    """Store and apply one verified event; returns (HTTP status, short reason)."""
    event = event_checks.storable(event)
    event_id, event_type = event["id"], event["type"]
    handler = HANDLERS.get(event_type)
    invoice: Invoice | bool | None = None
    try:
        with transaction.atomic():
            pk = _store(event)
            if pk is None:
                return _duplicate(event_id, event_type)
            if handler is not None:
                try:
                    invoice = handler(event_checks.data_object(event), event_id)
                except Exception as error:
                    raise _HandlerRaised from error
            done = invoice is not None
            outcome = StripeEvent.Status.PROCESSED if done else StripeEvent.Status.IGNORED
            invoice = invoice if isinstance(invoice, Invoice) else None
            _finish(pk, outcome, invoice)
        error = ""
    except _HandlerRaised as raised:
        # Nothing the handler did is kept (no savepoint to roll back to on the
        # happy path): its outcome is recorded in a transaction of its own.
        recorded = _record_refusal(event, raised.__cause__)
        if recorded is None:
            return _duplicate(event_id, event_type)
        outcome, error, invoice = recorded
    logger.info(
        "webhook",
        extra={
            "event": event_id,
            "type": event_type,
            "outcome": outcome,
            "invoice": invoice.pk if invoice else None,
        },
    )
    if outcome == StripeEvent.Status.FAILED:
        logger.error("webhook handler failed event=%s\n%s", event_id, error)
        return 500, "handler failed; retry"
    return 200, outcome


def _duplicate(event_id: str, event_type: str) -> tuple[int, str]:
    logger.info("webhook", extra={"event": event_id, "type": event_type, "outcome": "duplicate"})
    return 200, "duplicate"


def _record_refusal(
    event: dict[str, Any], raised: BaseException | None
) -> tuple[str, str, Invoice | None] | None:
    """Store why the handler refused (or failed on) the event; None: a concurrent
    delivery has processed it meanwhile."""
    invoice = None
    processed_at = timezone.now()
    if isinstance(raised, event_checks.InvalidEvent):
        # It can never apply, so Stripe must not retry it: stored, flagged, 200.
        outcome, error = StripeEvent.Status.INVALID, str(raised)
    elif isinstance(raised, handlers.Ignored):
        outcome, error = StripeEvent.Status.IGNORED, str(raised)
    else:
        outcome, processed_at = StripeEvent.Status.FAILED, None
        error = "".join(traceback.format_exception(raised, limit=5))
    with transaction.atomic():
        if outcome == StripeEvent.Status.INVALID:
            named = event_checks.invoice_named_by(event)
            invoice = named if isinstance(named, Invoice) else None
        pk = _store(event, outcome=outcome, error=error, invoice=invoice, processed_at=processed_at)
        if pk is None:
            return None
        if invoice is not None:
            event_checks.flag_invalid(invoice, event["id"], error)
    return outcome, error, invoice


# Its columns but the id, in the order `_store` passes them.
_COLUMNS = (
    "event_id, type, payload, livemode, status, error, attempts, invoice_id, received_at,"
    " processed_at"
)


@functools.cache
def _store_sql(final: bool) -> str:
    table = connection.ops.quote_name(StripeEvent._meta.db_table)
    done = ", ".join(f"'{status}'" for status in DONE)
    moved = f"attempts = {table}.attempts + 1"
    if final:
        moved += (
            ", status = excluded.status, error = excluded.error,"
            " invoice_id = excluded.invoice_id, processed_at = excluded.processed_at"
        )
    # The WHERE leaves an event already done untouched (yet locked, on PostgreSQL)
    # and returns no row for it.
    return (
        f"INSERT INTO {table} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, 1, %s, %s, %s) "
        f"ON CONFLICT (event_id) DO UPDATE SET {moved} WHERE {table}.status NOT IN ({done}) "
        "RETURNING id"
    )


def _store(
    event: dict[str, Any],
    *,
    outcome: str = "",
    error: str = "",
    invoice: Invoice | None = None,
    processed_at: datetime | None = None,
) -> int | None:
    """Insert the event, or lock its row and count one more attempt, in one statement.

    Without `outcome`: the row's id to apply it under, None if it is already
    done (a duplicate). Two deliveries at once serialize here: the second waits
    for the first's row and finds it done. With `outcome`: the event stored
    with its final status (a refusal recorded on its own), unless already done.
    """
    ops = connection.ops
    params = [
        event["id"],
        event["type"],
        _PAYLOAD.get_db_prep_save(event, connection),
        bool(event.get("livemode")),
        outcome or StripeEvent.Status.RECEIVED,
        error,
        invoice.pk if invoice else None,
        ops.adapt_datetimefield_value(timezone.now()),
        ops.adapt_datetimefield_value(processed_at),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_store_sql(bool(outcome)), params)
        row = cursor.fetchone()
    return row[0] if row else None


@functools.cache
def _finish_sql() -> str:
    table = connection.ops.quote_name(StripeEvent._meta.db_table)
    return (
        f"UPDATE {table} SET status = %s, error = '', invoice_id = %s, processed_at = %s "
        "WHERE id = %s"
    )


def _finish(pk: int, outcome: str, invoice: Invoice | None) -> None:
    """The event applied (or ignored): not the payload, which is unchanged and large."""
    processed_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_finish_sql(), [outcome, invoice.pk if invoice else None, processed_at, pk])


def reprocess(stored: StripeEvent) -> tuple[int, str]:
    """Staff's "process again" for a failed event: the same path as a delivery."""
    return process_event(stored.payload)
