"""Disputes and their lifecycle, opened by Stripe's dispute test cards or the test controls.

A chargeback (``needs_response``) takes the disputed amount and Stripe's dispute fee from the
balance at once (``charge.dispute.funds_withdrawn``); closing it ``won`` gives the amount back
(``charge.dispute.funds_reinstated``), ``lost`` keeps it. An inquiry
(``warning_needs_response``, the ``pm_card_createDisputeInquiry`` card) moves no money and
closes as ``warning_closed``, or ``prevented`` when the chargeback was stopped before it was
filed (Visa RDR and the like). Every close emits ``charge.dispute.closed``.
"""

from __future__ import annotations

from stripe_sim import ledger
from stripe_sim.errors import invalid
from stripe_sim.objects import Obj
from stripe_sim.state import Store

CHARGEBACK_OPEN = ("needs_response", "under_review")
INQUIRY_OPEN = ("warning_needs_response", "warning_under_review")
OPENING = CHARGEBACK_OPEN + INQUIRY_OPEN
CLOSES = {"won": CHARGEBACK_OPEN, "lost": CHARGEBACK_OPEN}
CLOSES |= {"warning_closed": INQUIRY_OPEN, "prevented": INQUIRY_OPEN}
DISPUTE_FEE = 1500  # Stripe's US dispute fee, in cents


def create_dispute(
    store: Store,
    pi: Obj,
    *,
    reason: str = "fraudulent",
    amount: int | None = None,
    status: str = "needs_response",
) -> Obj:
    if status not in OPENING:
        raise invalid(f"status must be one of {', '.join(OPENING)}", param="status")
    ch = store.objects["charge"].get(pi["latest_charge"] or "")
    if ch is None or ch["status"] != "succeeded":
        raise invalid(f"PaymentIntent {pi['id']} has no succeeded charge to dispute.")
    if ch["disputed"]:
        raise invalid(f"Charge {ch['id']} is already disputed.")
    dp = store.add(ledger.dispute(ch, amount=amount or ch["amount"], reason=reason))
    dp["status"] = status
    dp["is_charge_refundable"] = status in INQUIRY_OPEN
    ch["disputed"] = True
    store.emit("charge.dispute.created", dp)
    if status in CHARGEBACK_OPEN:
        _move_funds(store, dp, ch, -dp["amount"], fee=DISPUTE_FEE)
        store.emit("charge.dispute.funds_withdrawn", dp, {"balance_transactions": []})
    return dp


def close_dispute(store: Store, dp: Obj, status: str) -> Obj:
    if status not in CLOSES:
        raise invalid(f"status must be one of {', '.join(CLOSES)}", param="status")
    if dp["status"] not in CLOSES[status]:
        raise invalid(
            f"Dispute {dp['id']} is {dp['status']}; only a dispute that is "
            f"{' or '.join(CLOSES[status])} can close as {status}.",
            param="status",
        )
    previous = {"status": dp["status"]}
    dp["status"] = status
    dp["is_charge_refundable"] = False
    store.emit("charge.dispute.closed", dp, previous)
    if status == "won":
        before = list(dp["balance_transactions"])
        _move_funds(store, dp, store.get("charge", dp["charge"]), dp["amount"], fee=0)
        store.emit("charge.dispute.funds_reinstated", dp, {"balance_transactions": before})
    return dp


def _move_funds(store: Store, dp: Obj, ch: Obj, amount: int, *, fee: int) -> None:
    txn = ledger.balance_transaction(ch, amount=amount, kind="adjustment", source=dp["id"])
    txn.update(
        fee=fee,
        net=amount - fee,
        reporting_category="dispute" if amount < 0 else "dispute_reversal",
        fee_details=(
            [
                {
                    "amount": fee,
                    "application": None,
                    "currency": ch["currency"],
                    "description": "Dispute fee",
                    "type": "stripe_fee",
                }
            ]
            if fee
            else []
        ),
    )
    store.add(txn)
    # Dispute.balance_transactions holds the full objects, as Stripe's does.
    dp["balance_transactions"] = [*dp["balance_transactions"], txn]
