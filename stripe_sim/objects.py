"""Builders for the API objects, shaped after Stripe's own examples in ``fixtures/``.

Each builder fills every top-level key that Stripe's example object has (unmodelled ones stay
``null``), so clients that index into a key never meet a ``KeyError`` the real API would not
cause.
"""

from __future__ import annotations

import datetime
import functools
import json
import secrets
import string
import time
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "fixtures3.json"
_ALPHABET = string.ascii_letters + string.digits

Obj = dict[str, Any]


@functools.cache
def fixtures() -> dict[str, Obj]:
    return json.loads(FIXTURES.read_text(encoding="utf-8"))["resources"]


def template_keys(name: str) -> tuple[str, ...]:
    return tuple(fixtures()[name])


def shaped(name: str, values: Obj) -> Obj:
    """``values`` completed with every key of the fixture, ordered as Stripe renders them."""
    obj: Obj = dict.fromkeys(template_keys(name))
    obj.update(values)
    head = {key: obj.pop(key) for key in ("id", "object") if key in obj}
    return head | dict(sorted(obj.items()))


# The end of the current account's id, which Stripe embeds in most object ids
# (pi_3MtwBwLkdIwHu7ix28a3tqPa: "LkdIwHu7ix"); set by the Simulator from its config.
_account_tail = ""


def use_account(account_id: str) -> None:
    global _account_tail
    _account_tail = account_id[-10:]


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-shaped id; 24-character ones carry the account, as Stripe's do, so an id from
    another run or account is recognisably foreign (and is ``resource_missing`` here)."""
    if length == 24 and len(_account_tail) == 10:
        return f"{prefix}_3{_random(5)}{_account_tail}{_random(8)}"
    return f"{prefix}_" + _random(length)


# Seconds the simulator's clock runs ahead of the wall clock (POST /_sim/advance, --clock-offset),
# so a debit that settles "in four business days" settles in a test at once.
_clock_offset = 0.0


def set_clock_offset(seconds: float) -> None:
    global _clock_offset
    _clock_offset = seconds


def clock_offset() -> float:
    return _clock_offset


def clock() -> float:
    return time.time() + _clock_offset


def now() -> int:
    return int(clock())


def today() -> datetime.date:
    """The simulator clock's date (UTC): what card expiry is judged by."""
    return datetime.datetime.fromtimestamp(clock(), datetime.UTC).date()


def list_object(data: list[Obj], url: str, *, has_more: bool = False) -> Obj:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def address(values: Obj | None) -> Obj:
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return {key: (values or {}).get(key) for key in keys}


def customer(params: Obj) -> Obj:
    address = params.get("address")
    return shaped(
        "customer",
        {
            "id": new_id("cus", 14),
            "object": "customer",
            "address": address(address) if address else None,
            "balance": 0,
            "created": now(),
            "delinquent": False,
            "description": params.get("description"),
            "email": params.get("email"),
            "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "name": params.get("name"),
            "next_invoice_sequence": 1,
            "phone": params.get("phone"),
            "preferred_locales": params.get("preferred_locales") or [],
            "tax_exempt": "none",
        },
    )


def billing_details(values: Obj | None) -> Obj:
    values = values or {}
    return {
        "address": address(values.get("address")),
        "email": values.get("email"),
        "name": values.get("name"),
        "phone": values.get("phone"),
        "tax_id": None,
    }


def payment_method(type_: str, details: Obj, extra: Obj) -> Obj:
    """A PaymentMethod of ``type_`` whose type hash (``card``, ``us_bank_account``, ...) the
    payment method registry built. Stripe sends only the hash of the PaymentMethod's own type."""
    pm = shaped(
        "payment_method",
        {
            "id": new_id("pm"),
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": billing_details(extra.get("billing_details")),
            "created": now(),
            "customer": None,
            "livemode": False,
            "metadata": extra.get("metadata") or {},
            "type": type_,
            type_: details,
        },
    )
    if type_ != "card":
        del pm["card"]
    return pm


def mandate(pm: Obj, acceptance: Obj, *, reference: str, status: str) -> Obj:
    details: Obj = {"type": pm["type"]}
    if pm["type"] == "sepa_debit":
        details["sepa_debit"] = {"reference": reference, "url": ""}
    else:
        details[pm["type"]] = {}
    return shaped(
        "mandate",
        {
            "id": new_id("mandate"),
            "object": "mandate",
            "customer_acceptance": acceptance,
            "livemode": False,
            "multi_use": {},
            "on_behalf_of": None,
            "payment_method": pm["id"],
            "payment_method_details": details,
            "status": status,
            "type": "multi_use",
        },
    )


def payment_intent(params: Obj, *, automatic: Obj | None, types: list[str], options: Obj) -> Obj:
    pi_id = new_id("pi")
    return shaped(
        "payment_intent",
        {
            "id": pi_id,
            "object": "payment_intent",
            "amount": params["amount"],
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "automatic_payment_methods": automatic,
            "capture_method": "automatic",
            "client_secret": f"{pi_id}_secret_{new_id('x', 25)[2:]}",
            "confirmation_method": "automatic",
            "created": now(),
            "currency": params["currency"],
            "customer": params.get("customer"),
            "description": params.get("description"),
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "payment_method_configuration_details": (
                {"id": "pmc_simulator", "parent": None} if automatic else None
            ),
            "payment_method_options": options,
            "payment_method_types": types,
            "receipt_email": params.get("receipt_email"),
            "setup_future_usage": params.get("setup_future_usage"),
            "statement_descriptor": params.get("statement_descriptor"),
            "statement_descriptor_suffix": params.get("statement_descriptor_suffix"),
            "status": "requires_payment_method",
            "transfer_group": params.get("transfer_group"),
        },
    )


def account(account_id: str) -> Obj:
    """The simulator's own (platform) account, as ``GET /v1/account`` shows it."""
    base = fixtures()["account"]
    return shaped(
        "account",
        {
            "id": account_id,
            "object": "account",
            "business_profile": base["business_profile"],
            "business_type": None,
            "capabilities": {"card_payments": "active", "transfers": "active"},
            "charges_enabled": True,
            "controller": {"type": "account"},
            "country": "US",
            "created": 1_700_000_000,
            "default_currency": "usd",
            "details_submitted": True,
            "email": "simulator@example.com",
            "metadata": {},
            "payouts_enabled": True,
            "settings": base["settings"],
            "type": "standard",
        },
    )


def event(
    event_type: str,
    obj: Obj,
    *,
    api_version: str,
    previous: Obj | None,
    request: Obj,
    pending: int,
) -> Obj:
    data: Obj = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return shaped(
        "event",
        {
            "id": new_id("evt"),
            "object": "event",
            "api_version": api_version,
            "created": now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": pending,
            "request": request,
            "type": event_type,
        },
    )
