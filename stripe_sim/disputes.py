"""Disputes, which only the test controls can open or close (Stripe's test cards aside)."""

from __future__ import annotations

from stripe_sim import ledger
from stripe_sim.errors import invalid
from stripe_sim.objects import Obj
from stripe_sim.state import Store


def create_dispute(
    store: Store, pi: Obj, *, reason: str = "fraudulent", amount: int | None = None
) -> Obj:
    ch = store.objects["charge"].get(pi["latest_charge"] or "")
    if ch is None or ch["status"] != "succeeded":
        raise invalid(f"PaymentIntent {pi['id']} has no succeeded charge to dispute.")
    if ch["disputed"]:
        raise invalid(f"Charge {ch['id']} is already disputed.")
    dp = store.add(ledger.dispute(ch, amount=amount or ch["amount"], reason=reason))
    ch["disputed"] = True
    store.emit("charge.dispute.created", dp)
    return dp


def close_dispute(store: Store, dp: Obj, status: str) -> Obj:
    if status not in ("won", "lost"):
        raise invalid("status must be won or lost", param="status")
    if dp["status"] in ("won", "lost"):
        raise invalid(f"Dispute {dp['id']} is already closed ({dp['status']}).")
    previous = {"status": dp["status"]}
    dp["status"] = status
    store.emit("charge.dispute.closed", dp, previous)
    return dp
