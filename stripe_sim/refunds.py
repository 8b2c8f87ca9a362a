"""Refunds against succeeded charges, full or partial."""

from __future__ import annotations

from stripe_sim import ledger
from stripe_sim.errors import ApiError, invalid
from stripe_sim.objects import Obj
from stripe_sim.params import format_amount
from stripe_sim.state import Store


def create_refund(store: Store, params: Obj) -> Obj:
    ch = _charge_to_refund(store, params)
    if ch["disputed"]:
        raise ApiError(
            400,
            f"Charge {ch['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    remaining = ch["amount"] - ch["amount_refunded"]
    if remaining <= 0:
        raise ApiError(
            400, f"Charge {ch['id']} has already been refunded.", code="charge_already_refunded"
        )
    amount = params.get("amount")
    amount = remaining if amount is None else amount
    if amount <= 0:
        raise invalid("Invalid positive integer", param="amount")
    if amount > remaining:
        raise ApiError(
            400,
            f"Refund amount ({format_amount(amount, ch['currency'])}) is greater than unrefunded "
            f"amount on charge ({format_amount(remaining, ch['currency'])})",
            code="amount_too_large",
            param="amount",
        )
    refund = store.add(ledger.refund(ch, amount, params))
    txn = store.add(
        ledger.balance_transaction(ch, amount=-amount, kind="refund", source=refund["id"])
    )
    refund["balance_transaction"] = txn["id"]
    refund["customer"] = ch["customer"]
    previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] == ch["amount"]
    store.emit("charge.refunded", ch, previous)
    store.emit("refund.created", refund)
    return refund


def _charge_to_refund(store: Store, params: Obj) -> Obj:
    charge_id, pi_id = params.get("charge"), params.get("payment_intent")
    if not charge_id and not pi_id:
        raise invalid(
            "One of the following params should be provided for this request: payment_intent "
            "or charge."
        )
    if pi_id:
        pi = store.get("payment_intent", pi_id, param="payment_intent")
        if pi["status"] != "succeeded" or not pi["latest_charge"]:
            raise invalid(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        if charge_id and charge_id != pi["latest_charge"]:
            raise invalid(
                f"Charge {charge_id} does not belong to PaymentIntent {pi_id}.", param="charge"
            )
        charge_id = pi["latest_charge"]
    ch = store.get("charge", charge_id, param="charge")
    if ch["status"] != "succeeded":
        raise invalid(
            f"Charge {ch['id']} has a status of {ch['status']} and cannot be refunded.",
            param="charge",
        )
    return ch
