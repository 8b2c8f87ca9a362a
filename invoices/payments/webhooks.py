"""Stripe's webhook: verify, store the event once, dispatch to a handler.

Each event is stored by its unique id in the same transaction as the change
it causes. A delivery of an event already processed (or ignored) is answered
200 and changes nothing; two deliveries at the same moment serialize on the
event row (`INSERT ... ON CONFLICT DO NOTHING`, then `SELECT ... FOR UPDATE`).
A handler that raises leaves its error on the event row and answers 500, so
Stripe retries; the retry processes it again. An event whose data can never
apply (`event_checks`) is stored as invalid, flagged and answered 200.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
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


def process_event(event: dict[str, Any]) -> tuple[int, str]:
    """Store and apply one verified event; returns (HTTP status, short reason)."""
    event = event_checks.storable(event)
    event_id, event_type = event["id"], event["type"]
    with transaction.atomic():
        StripeEvent.objects.bulk_create(
            [
                StripeEvent(
                    event_id=event_id,
                    type=event_type,
                    payload=event,
                    livemode=bool(event.get("livemode")),
                )
            ],
            ignore_conflicts=True,
        )
        stored = StripeEvent.objects.select_for_update().get(event_id=event_id)
        if stored.status in DONE:
            logger.info(
                "webhook", extra={"event": event_id, "type": event_type, "outcome": "duplicate"}
            )
            return 200, "duplicate"
        stored.attempts += 1
        handler = HANDLERS.get(event_type)
        invoice: Invoice | bool | None = None
        error, failed = "", False
        invalid = ""
        if handler is not None:
            try:
                obj = event_checks.data_object(event)
                with transaction.atomic():  # a failing handler rolls back only itself
                    invoice = handler(obj, event_id)
            except event_checks.InvalidEvent as bad:
                invalid = error = str(bad)
            except handlers.Ignored as ignored:
                error = str(ignored)
            except Exception:
                error, failed = traceback.format_exc(limit=5), True
        if failed:
            stored.status = StripeEvent.Status.FAILED
        elif invalid:
            # It can never apply, so Stripe must not retry it: stored, flagged, 200.
            stored.status = StripeEvent.Status.INVALID
            stored.processed_at = timezone.now()
            invoice = event_checks.invoice_named_by(event)
            if isinstance(invoice, Invoice):
                event_checks.flag_invalid(invoice, event_id, invalid)
        else:
            done = invoice is not None
            stored.status = StripeEvent.Status.PROCESSED if done else StripeEvent.Status.IGNORED
            stored.processed_at = timezone.now()
        stored.error = error
        invoice = invoice if isinstance(invoice, Invoice) else None
        stored.invoice = invoice
        # Not the payload: it is unchanged, and large.
        stored.save(update_fields=["attempts", "status", "processed_at", "error", "invoice"])
    outcome = stored.status
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


def reprocess(stored: StripeEvent) -> tuple[int, str]:
    """Staff's "process again" for a failed event: the same path as a delivery."""
    return process_event(stored.payload)
