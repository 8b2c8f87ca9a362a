"""Build Stripe events and sign them with a real HMAC, as Stripe does."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from django.conf import settings
from django.test import Client

from invoices.models import Invoice

SECRET = "whsec_simulator"


def signature(payload: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def intent(
    invoice: Invoice | None,
    *,
    status: str = "succeeded",
    amount: int | None = None,
    currency: str | None = None,
    intent_id: str | None = None,
    metadata: dict[str, str] | None = None,
    error: str = "",
) -> dict[str, Any]:
    amount = invoice.amount_due if amount is None and invoice else (amount or 1000)
    if metadata is None:
        # What the portal sends: its deployment stamp plus the invoice.
        metadata = (
            {
                "portal": settings.PORTAL_ID,
                "invoice_id": str(invoice.pk),
                "invoice_number": invoice.number,
            }
            if invoice
            else {}
        )
    return {
        "id": intent_id or (invoice.stripe_payment_intent_id if invoice else "") or "pi_test_1",
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": (currency or (invoice.currency if invoice else "usd")).lower(),
        "status": status,
        "metadata": metadata,
        "latest_charge": "ch_test_1",
        "last_payment_error": {"message": error, "code": "card_declined"} if error else None,
        "cancellation_reason": "abandoned" if status == "canceled" else None,
    }


def charge(intent_id: str, *, amount: int, refunded: int = 0, charge_id: str = "ch_test_1"):
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_refunded": refunded,
        "refunded": refunded == amount,
        "payment_intent": intent_id,
        "currency": "usd",
        "metadata": {},
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
    }


def refund(
    intent_id: str,
    *,
    amount: int,
    status: str = "succeeded",
    refund_id: str = "re_test_1",
    failure_reason: str | None = None,
) -> dict[str, Any]:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "charge": "ch_test_1",
        "currency": "usd",
        "payment_intent": intent_id,
        "status": status,
        "failure_reason": failure_reason,
        "metadata": {},
    }


def dispute(intent_id: str, *, amount: int, status: str = "needs_response") -> dict[str, Any]:
    return {
        "id": "dp_test_1",
        "object": "dispute",
        "amount": amount,
        "charge": "ch_test_1",
        "payment_intent": intent_id,
        "reason": "fraudulent",
        "status": status,
        "metadata": {},
    }


def deliver(client: Client, body: dict[str, Any] | bytes, *, secret: str = SECRET, **headers: str):
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers.setdefault("HTTP_STRIPE_SIGNATURE", signature(payload, secret))
    return client.post("/invoices/wh/", payload, content_type="application/json", **headers)
