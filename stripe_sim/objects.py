"""Builders for the API objects, shaped after Stripe's own examples in ``fixtures/``.

Each builder fills every top-level key that Stripe's example object has (unmodelled ones stay
``null``), so clients that index into a key never meet a ``KeyError`` the real API would not
cause.
"""

from __future__ import annotations

import functools
import json
import secrets
import string
import time
from pathlib import Path
from typing import Any

from stripe_sim import cards

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


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def now() -> int:
    return int(time.time())


def list_object(data: list[Obj], url: str, *, has_more: bool = False) -> Obj:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _address(values: Obj | None) -> Obj:
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return {key: (values or {}).get(key) for key in keys}


def customer(params: Obj) -> Obj:
    address = params.get("address")
    return shaped(
        "customer",
        {
            "id": new_id("cus", 14),
            "object": "customer",
            "address": _address(address) if address else None,
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
        "address": _address(values.get("address")),
        "email": values.get("email"),
        "name": values.get("name"),
        "phone": values.get("phone"),
        "tax_id": None,
    }


def payment_method(number: str, exp_month: int, exp_year: int, *, cvc: bool, extra: Obj) -> Obj:
    brand = cards.brand_of(number)
    card = cards.card_for(number)
    return shaped(
        "payment_method",
        {
            "id": new_id("pm"),
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": billing_details(extra.get("billing_details")),
            "card": {
                "brand": brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "unchecked" if cvc else None,
                },
                "country": card.country,
                "display_brand": brand,
                "exp_month": exp_month,
                "exp_year": exp_year,
                "fingerprint": cards.fingerprint(number),
                "funding": card.funding,
                "generated_from": None,
                "last4": number[-4:],
                "networks": {"available": [brand], "preferred": None},
                "regulated_status": "unregulated",
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
            "created": now(),
            "customer": None,
            "livemode": False,
            "metadata": extra.get("metadata") or {},
            "type": "card",
        },
    )


def payment_intent(params: Obj, *, automatic: Obj | None) -> Obj:
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
            "payment_method_options": {
                "card": {
                    "installments": None,
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                }
            },
            "payment_method_types": ["card"],
            "receipt_email": params.get("receipt_email"),
            "setup_future_usage": params.get("setup_future_usage"),
            "statement_descriptor": params.get("statement_descriptor"),
            "statement_descriptor_suffix": params.get("statement_descriptor_suffix"),
            "status": "requires_payment_method",
            "transfer_group": params.get("transfer_group"),
        },
    )


def charge_card_details(pm: Obj, amount: int, *, three_d_secure: bool) -> Obj:
    card = pm["card"]
    return {
        "card": {
            "amount_authorized": amount,
            "authorization_code": secrets.token_hex(3),
            "brand": card["brand"],
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass" if card["checks"]["cvc_check"] else None,
            },
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "extended_authorization": {"status": "disabled"},
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "last4": card["last4"],
            "mandate": None,
            "multicapture": {"status": "unavailable"},
            "network": card["brand"],
            "network_token": {"used": False},
            "network_transaction_id": secrets.token_hex(8),
            "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
            "regulated_status": "unregulated",
            "three_d_secure": (
                {
                    "authentication_flow": "challenge",
                    "electronic_commerce_indicator": "05",
                    "exemption_indicator": None,
                    "result": "authenticated",
                    "result_reason": None,
                    "transaction_id": new_id("3ds", 16),
                    "version": "2.2.0",
                }
                if three_d_secure
                else None
            ),
            "transaction_link_id": None,
            "wallet": None,
        },
        "type": "card",
    }


def charge(pi: Obj, pm: Obj, *, status: str, three_d_secure: bool, receipt_url: str) -> Obj:
    charge_id = new_id("ch")
    return shaped(
        "charge",
        {
            "id": charge_id,
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": 0,
            "amount_refunded": 0,
            "billing_details": pm["billing_details"],
            "calculated_statement_descriptor": "STRIPE SIMULATOR",
            "captured": False,
            "created": now(),
            "currency": pi["currency"],
            "customer": pi["customer"],
            "description": pi["description"],
            "disputed": False,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(pi["metadata"]),
            "outcome": None,
            "paid": False,
            "payment_intent": pi["id"],
            "payment_method": pm["id"],
            "payment_method_details": charge_card_details(
                pm, pi["amount"], three_d_secure=three_d_secure
            ),
            "receipt_email": pi["receipt_email"],
            "receipt_url": receipt_url,
            "refunded": False,
            "refunds": list_object([], f"/v1/charges/{charge_id}/refunds"),
            "statement_descriptor": pi["statement_descriptor"],
            "statement_descriptor_suffix": pi["statement_descriptor_suffix"],
            "status": status,
            "transfer_group": pi["transfer_group"],
        },
    )


def outcome(decline: cards.Decline | None) -> Obj:
    if decline is None:
        return {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    return {
        "advice_code": "try_again_later" if decline.code == "processing_error" else None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "declined_by_network",
        "reason": decline.decline_code,
        "risk_level": "normal",
        "risk_score": 20,
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }


def balance_transaction(ch: Obj, *, amount: int, kind: str, source: str) -> Obj:
    # Stripe's US card pricing, so fees and net amounts look plausible on a dashboard.
    fee = round(abs(amount) * 0.029) + 30 if kind == "charge" else 0
    return shaped(
        "balance_transaction",
        {
            "id": new_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": now() + 2 * 86400,
            "balance_type": "payments",
            "created": now(),
            "currency": ch["currency"],
            "description": ch["description"],
            "fee": fee,
            "fee_details": (
                [
                    {
                        "amount": fee,
                        "application": None,
                        "currency": ch["currency"],
                        "description": "Stripe processing fees",
                        "type": "stripe_fee",
                    }
                ]
                if fee
                else []
            ),
            "net": amount - fee,
            "reporting_category": kind,
            "source": source,
            "status": "pending",
            "type": kind,
        },
    )


def refund(ch: Obj, amount: int, params: Obj) -> Obj:
    return shaped(
        "refund",
        {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": ch["id"],
            "created": now(),
            "currency": ch["currency"],
            "destination_details": {
                "card": {
                    "reference": None,
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": params.get("metadata") or {},
            "payment_intent": ch["payment_intent"],
            "payment_method": ch["payment_method"],
            "reason": params.get("reason"),
            "status": "succeeded",
        },
    )


def dispute(ch: Obj, *, amount: int, reason: str) -> Obj:
    evidence: Obj = dict.fromkeys(fixtures()["dispute"]["evidence"])
    evidence["enhanced_evidence"] = {}
    card = ch["payment_method_details"]["card"]
    return shaped(
        "dispute",
        {
            "id": new_id("dp"),
            "object": "dispute",
            "amount": amount,
            "balance_transactions": [],
            "charge": ch["id"],
            "created": now(),
            "currency": ch["currency"],
            "enhanced_eligibility_types": [],
            "evidence": evidence,
            "evidence_details": {
                "due_by": now() + 7 * 86400,
                "enhanced_eligibility": {},
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": ch["payment_intent"],
            "payment_method_details": {
                "card": {
                    "brand": card["brand"],
                    "case_type": "chargeback",
                    "network_reason_code": "10.4" if reason == "fraudulent" else "13.1",
                    "network": card["network"],
                },
                "type": "card",
            },
            "reason": reason,
            "status": "needs_response",
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
