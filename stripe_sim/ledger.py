"""Builders for what a payment leaves behind: charges, balance transactions, refunds, disputes.

Shaped after Stripe's example objects like the rest of ``objects``.
"""

from __future__ import annotations

import secrets

from stripe_sim import cards
from stripe_sim.objects import Obj, fixtures, new_id, now, shaped


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


def charge(pi: Obj, pm: Obj, status: str, details: Obj, *, base_url: str) -> Obj:
    """A charge of ``pi`` with ``pm``; ``details`` is its ``payment_method_details``, built by
    the payment method registry."""
    charge_id = new_id("ch")
    # Failed charges have no receipt; the others point at the simulator's receipt page.
    receipt_url = None if status == "failed" else f"{base_url}/_sim/receipts/{charge_id}"
    obj = shaped(
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
            "payment_method_details": details,
            "receipt_email": pi["receipt_email"],
            "receipt_url": receipt_url,
            "refunded": False,
            "statement_descriptor": pi["statement_descriptor"],
            "statement_descriptor_suffix": pi["statement_descriptor_suffix"],
            "status": status,
            "transfer_group": pi["transfer_group"],
        },
    )
    # Since API version 2022-11-15 a Charge has no `refunds` unless asked for with
    # expand[]=refunds (Store.expand builds it then): absent, not null.
    del obj["refunds"]
    return obj


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


def bank_outcome(failure_message: str | None) -> Obj:
    """A debit's outcome: banks approve or return, card networks do not take part."""
    return {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "declined_by_network" if failure_message else "approved_by_network",
        "reason": None,
        "risk_level": "not_assessed",
        "risk_score": None,
        "seller_message": failure_message or "Payment complete.",
        "type": "failed" if failure_message else "authorized",
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


def refund(ch: Obj, amount: int, params: Obj, *, status: str = "succeeded") -> Obj:
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
            "status": status,
        },
    )


def dispute(ch: Obj, *, amount: int, reason: str) -> Obj:
    evidence: Obj = dict.fromkeys(fixtures()["dispute"]["evidence"])
    evidence["enhanced_evidence"] = {}
    kind = ch["payment_method_details"]["type"]
    if kind == "card":
        card = ch["payment_method_details"]["card"]
        details: Obj = {
            "card": {
                "brand": card["brand"],
                "case_type": "chargeback",
                "network_reason_code": "10.4" if reason == "fraudulent" else "13.1",
                "network": card["network"],
            },
            "type": "card",
        }
    else:
        # A debit's dispute is the customer asking their bank for the money back.
        details = {"type": kind}
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
            "payment_method_details": details,
            "reason": reason,
            "status": "needs_response",
        },
    )
