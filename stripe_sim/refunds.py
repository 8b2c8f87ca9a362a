"""Refunds against succeeded charges, full or partial, and their lifecycle.

A card refund is ``succeeded`` at once, except for Stripe's refund test cards: 4000 0000 0000
7726 (``pm_card_pendingRefund``) stays ``pending`` and succeeds later, 4000 0000 0000 5126
(``pm_card_refundFail``) is ``succeeded`` and fails later; "later" is ``refund_delay`` seconds,
or at once with ``POST /_sim/refunds/RE/succeed|fail``. A refund of a bank debit
(``us_bank_account``, ``sepa_debit``) is a credit sent back through the bank: ``pending`` for
``settle_delay`` simulator seconds (Stripe: a few business days), then ``succeeded``, or
``failed`` (``declined``) for the simulator-only accounts marked ``refund_fails`` in
``banks``. Money asked back counts against what can still be refunded from the moment the
refund exists (``charge.amount_refunded``); a failed refund gives it back.
"""

from __future__ import annotations

from stripe_sim import banks, cards, ledger
from stripe_sim.errors import ApiError, invalid
from stripe_sim.objects import Obj
from stripe_sim.params import format_amount
from stripe_sim.state import Store


def create_refund(store: Store, params: Obj) -> Obj:
    ch = _charge_to_refund(store, params)
    if ch["disputed"] and not _refundable_while_disputed(store, ch):
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
    behaviour = _refund_behaviour(store, ch)
    bank = ch["payment_method_details"]["type"] != "card"
    status = "pending" if bank or behaviour == cards.REFUND_PENDING else "succeeded"
    refund = store.add(ledger.refund(ch, amount, params, status=status))
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
    if bank:
        success = behaviour != cards.REFUND_FAILS
        store.later(store.config.settle_delay, lambda: _settle_later(store, refund["id"], success))
    elif behaviour == cards.REFUND_PENDING:
        store.later(store.config.refund_delay, lambda: _settle_later(store, refund["id"], True))
    elif behaviour == cards.REFUND_FAILS:
        store.later(store.config.refund_delay, lambda: _settle_later(store, refund["id"], False))
    return refund


def _refundable_while_disputed(store: Store, ch: Obj) -> bool:
    """An inquiry may still be refunded; a chargeback may not."""
    return any(
        dp["charge"] == ch["id"] and dp["is_charge_refundable"] for dp in store.all("dispute")
    )


def _refund_behaviour(store: Store, ch: Obj) -> str:
    kind = ch["payment_method_details"]["type"]
    key = store.pm_keys.get(ch["payment_method"] or "")
    if not key:
        return cards.REFUND_SUCCEEDS
    if kind != "card":
        fails = banks.debit_for(kind, key).refund_fails
        return cards.REFUND_FAILS if fails else cards.REFUND_SUCCEEDS
    return cards.card_for(key).refund


def _settle_later(store: Store, refund_id: str, success: bool) -> None:
    refund = store.objects["refund"].get(refund_id)
    if refund is not None and (refund["status"] == "pending" or not success):
        settle(store, refund, success=success)


def settle(store: Store, refund: Obj, *, success: bool) -> Obj:
    """Finish a refund: a pending one succeeds or fails; a succeeded one may still fail (as
    card refunds do when the card is closed). Emits ``refund.updated`` and
    ``charge.refund.updated``, plus ``refund.failed`` on failure."""
    if refund["status"] == "failed" or (success and refund["status"] == "succeeded"):
        raise invalid(f"Refund {refund['id']} is already {refund['status']}.")
    previous = {"status": refund["status"]}
    if success:
        refund["status"] = "succeeded"
    else:
        ch = store.get("charge", refund["charge"])
        txn = store.add(
            ledger.balance_transaction(
                ch, amount=refund["amount"], kind="refund_failure", source=refund["id"]
            )
        )
        previous |= {"failure_balance_transaction": None, "failure_reason": None}
        card = ch["payment_method_details"]["type"] == "card"
        refund.update(
            status="failed",
            failure_reason="expired_or_canceled_card" if card else "declined",
            failure_balance_transaction=txn["id"],
        )
        # The money was not sent back after all: it can be refunded again.
        ch["amount_refunded"] -= refund["amount"]
        ch["refunded"] = ch["amount_refunded"] == ch["amount"]
    store.emit("refund.updated", refund, previous)
    store.emit("charge.refund.updated", refund, previous)
    if not success:
        store.emit("refund.failed", refund)
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
