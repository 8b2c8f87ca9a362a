"""What a signed Stripe event must hold before a handler may apply it.

A valid signature proves Stripe (or whoever holds the secret) sent the event,
not that its fields are what the handlers expect: a negative or fractional
amount, a refund above the charge, metadata that is a list. Such an event can
never apply, however often Stripe retries it, so it is stored, flagged for
staff and answered 2xx; only a transient failure (the database, Stripe's API)
answers 500 so that Stripe tries again.
"""

from __future__ import annotations

import re
from typing import Any

from invoices.activity import record_activity
from invoices.models import Invoice, InvoiceActivity, InvoiceFlag, Payment
from invoices.outbox import queue_staff_notice
from portal.params import MAX_ID, parse_int

# Above any amount Stripe charges in any currency, inside a 64-bit column.
MAX_STRIPE_AMOUNT = 10**12
CURRENCY = re.compile(r"^[a-zA-Z]{3}$")


class InvalidEvent(Exception):
    """The event's data can never be applied: stored and flagged, not retried."""


def storable(value: Any) -> Any:
    """The payload with every NUL character and lone surrogate ("\\ud800") replaced:
    PostgreSQL's jsonb refuses the first, UTF-8 cannot encode the second."""
    if isinstance(value, str):
        value = value.replace("\x00", "\ufffd")
        return value if value.isascii() else value.encode("utf-8", "replace").decode()
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def _amount(obj: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = obj.get(name)
    if value is None and not required:
        return None
    # bool is an int in Python; 50.0 is a float in JSON: neither is an amount.
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidEvent(f"{name} is {value!r}, not a whole number of minor units")
    if not 0 <= value <= MAX_STRIPE_AMOUNT:
        raise InvalidEvent(f"{name} is {value}, outside 0..{MAX_STRIPE_AMOUNT}")
    return value


def _text(obj: dict[str, Any], name: str, *, required: bool = False) -> None:
    value = obj.get(name)
    if value is None and not required:
        return
    if not isinstance(value, str) or not value or len(value) > 255:
        raise InvalidEvent(f"{name} is {value!r}, not an id")


def _metadata(obj: dict[str, Any]) -> None:
    metadata = obj.get("metadata")
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise InvalidEvent(f"metadata is a {type(metadata).__name__}, not an object")
    raw = metadata.get("invoice_id")
    if raw not in (None, "") and parse_int(str(raw), minimum=1, maximum=MAX_ID) is None:
        raise InvalidEvent(f"metadata.invoice_id is {str(raw)[:40]!r}, not an invoice number")


def _intent(obj: dict[str, Any]) -> None:
    _amount(obj, "amount", required=True)
    _amount(obj, "amount_received")
    currency = obj.get("currency")
    if not isinstance(currency, str) or not CURRENCY.match(currency):
        raise InvalidEvent(f"currency is {str(currency)[:10]!r}, not an ISO code")
    error = obj.get("last_payment_error")
    if error is not None and not isinstance(error, dict):
        raise InvalidEvent("last_payment_error is not an object")


def _charge(obj: dict[str, Any]) -> None:
    _text(obj, "payment_intent")
    amount = _amount(obj, "amount")
    refunded = _amount(obj, "amount_refunded")
    if amount is not None and refunded is not None and refunded > amount:
        raise InvalidEvent(f"amount_refunded {refunded} is more than the charge's {amount}")


def _dispute(obj: dict[str, Any]) -> None:
    _text(obj, "payment_intent")
    _amount(obj, "amount")


def _refund(obj: dict[str, Any]) -> None:
    _text(obj, "payment_intent")
    _text(obj, "charge")
    _amount(obj, "amount", required=True)
    currency = obj.get("currency")
    if currency is not None and (not isinstance(currency, str) or not CURRENCY.match(currency)):
        raise InvalidEvent(f"currency is {str(currency)[:10]!r}, not an ISO code")


CHECKS = {
    "payment_intent": _intent,
    "charge": _charge,
    "charge.dispute": _dispute,
    "refund": _refund,
    "charge.refund": _refund,
}


def data_object(event: dict[str, Any]) -> dict[str, Any]:
    """The event's `data.object`, checked for the fields the handlers read."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise InvalidEvent("the event has no data.object")
    _text(obj, "id", required=True)
    _metadata(obj)
    family = event["type"].rsplit(".", 1)[0]
    check = CHECKS.get(family)
    if check is not None:
        check(obj)
    return obj


def invoice_named_by(event: dict[str, Any]) -> Invoice | None:
    """The invoice an invalid event is about, to flag it there: only through a
    PaymentIntent this portal recorded (metadata alone could name our invoice
    from another deployment's event, which must change nothing here)."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        return None
    intent_ids = [i for i in (obj.get("id"), obj.get("payment_intent")) if isinstance(i, str)]
    payment = (
        Payment.objects.filter(stripe_payment_intent_id__in=intent_ids)
        .select_related("invoice")
        .first()
    )
    return payment.invoice if payment is not None else None


def flag_invalid(invoice: Invoice, event_id: str, reason: str) -> None:
    message = f"A Stripe event ({event_id}) could not be applied: {reason}."[:500]
    flag = InvoiceFlag.objects.create(
        invoice=invoice,
        kind=InvoiceFlag.Kind.INVALID_EVENT,
        message=message,
        stripe_event_id=event_id,
    )
    record_activity(invoice, InvoiceActivity.Kind.FLAGGED, message=message, source="stripe")
    queue_staff_notice(invoice, "flag", message, ref=f"flag-{flag.pk}")
