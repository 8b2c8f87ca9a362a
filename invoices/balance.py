"""Stripe's fee and net for a card payment, from the charge's balance transaction.

The charge in a webhook names its balance transaction by id (expanded only when
asked for), so it is fetched once per payment. Best-effort: without it the
payment still books; the ledger then shows no fee rather than a wrong one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from invoices import stripe_api
from invoices.models import Payment, Refund

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fee:
    fee: int
    net: int
    currency: str


def charge_fee(charge: dict[str, Any]) -> Fee | None:
    """The fee of a charge whose payment is ours and has none yet (call before locking)."""
    txn = charge.get("balance_transaction")
    intent_id = charge.get("payment_intent")
    if not txn or not intent_id:
        return None
    missing = Payment.objects.filter(stripe_payment_intent_id=intent_id, stripe_fee__isnull=True)
    if not missing.exists():
        return None
    if isinstance(txn, str):
        try:
            txn = stripe_api.retrieve_balance_transaction(txn)
        except stripe_api.StripeError as error:
            logger.warning("balance transaction %s not read: %s", txn, error)
            return None
    try:
        return Fee(int(txn["fee"]), int(txn["net"]), str(txn["currency"]).upper())
    except (KeyError, TypeError, ValueError):
        logger.warning("balance transaction of %s has no fee", charge.get("id"))
        return None


def record_fee(payment: Payment, fee: Fee | None) -> bool:
    """Store the fee on the (locked) payment; False when there was nothing new."""
    if fee is None or payment.stripe_fee is not None:
        return False
    payment.stripe_fee, payment.stripe_net = fee.fee, fee.net
    payment.balance_currency = fee.currency[:3]
    payment.save(update_fields=["stripe_fee", "stripe_net", "balance_currency", "updated_at"])
    return True


def refund_fee(refund: dict[str, Any]) -> Fee | None:
    """The fee and net of a refund (its balance transaction: net is negative), read from
    Stripe only when the refund is not yet known with one (call before locking)."""
    txn, intent_id = refund.get("balance_transaction"), refund.get("payment_intent")
    if not txn or not intent_id:
        return None
    if isinstance(txn, str):
        # Asked of Stripe only for a refund of a payment of ours that has no fee yet.
        if not Payment.objects.filter(stripe_payment_intent_id=intent_id).exists():
            return None
        known = Refund.objects.filter(stripe_refund_id=refund.get("id") or "")
        if known.filter(stripe_fee__isnull=False).exists():
            return None
        try:
            txn = stripe_api.retrieve_balance_transaction(txn)
        except stripe_api.StripeError as error:
            logger.warning("balance transaction %s not read: %s", txn, error)
            return None
    return fee_of(txn, refund.get("id"))


def fee_of(txn: Any, source: Any) -> Fee | None:
    try:
        return Fee(int(txn["fee"]), int(txn["net"]), str(txn["currency"]).upper())
    except (KeyError, TypeError, ValueError):
        logger.warning("balance transaction of %s has no fee", source)
        return None


def record_refund_fee(refund: Refund, fee: Fee | None) -> bool:
    """Set (unsaved) on the locked refund row the first time Stripe reports it."""
    if fee is None or refund.stripe_fee is not None:
        return False
    refund.stripe_fee, refund.stripe_net = fee.fee, fee.net
    refund.balance_currency = fee.currency[:3]
    return True
