"""The only module that talks to Stripe (or the simulator, through the same SDK).

Everything here takes and returns plain values or SDK objects; what to call
and when is decided by the callers (`payments/`: intents, handlers, refunds,
reconcile; `services.py`: voiding).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import stripe
from django.conf import settings

from customers.models import Customer
from invoices.models import Installation, Invoice

StripeError = stripe.StripeError
InvalidRequestError = stripe.InvalidRequestError
CardError = stripe.CardError
SignatureVerificationError = stripe.SignatureVerificationError
PaymentIntent = stripe.PaymentIntent

# A PaymentIntent's statuses, as Stripe spells them.
REQUIRES_PAYMENT_METHOD = "requires_payment_method"
REQUIRES_CONFIRMATION = "requires_confirmation"
REQUIRES_ACTION = "requires_action"
PROCESSING = "processing"
SUCCEEDED = "succeeded"
CANCELED = "canceled"
# A PaymentIntent in one of these states can still be confirmed by the customer.
CONFIRMABLE = frozenset({REQUIRES_PAYMENT_METHOD, REQUIRES_CONFIRMATION, REQUIRES_ACTION})
# Every SDK call is bounded, so Stripe being down or slow holds a request
# thread for seconds, not minutes: 2 s to connect, 4 s to answer, and one
# retry (idempotency keys make it safe) after the SDK's 0.5-1 s back-off. Worst
# case, both attempts time out: about 2 x 4 s + 1 s = 9 s; a refused
# connection or a 500 fails within about a second.
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 4.0
MAX_NETWORK_RETRIES = 1


@functools.cache
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        http_client=stripe.RequestsClient(timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)),
        max_network_retries=MAX_NETWORK_RETRIES,
    )


def client() -> stripe.StripeClient:
    # Read settings on each call so tests (and the simulator's port) can change them.
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def stamp() -> dict[str, str]:
    """`metadata.portal`: marks what this deployment created on a shared Stripe account."""
    return {"portal": settings.PORTAL_ID}


def is_ours(obj: Any) -> bool:
    metadata = (obj.get("metadata") if hasattr(obj, "get") else None) or {}
    return metadata.get("portal") == settings.PORTAL_ID


def idempotency_key(*parts: object) -> str:
    """Unique per deployment and per database: PORTAL_ID, this database's random
    install key, then what makes the request unique inside it."""
    return ":".join([settings.PORTAL_ID, Installation.current_key(), *map(str, parts)])


def is_missing(error: Exception, param: str | None = None) -> bool:
    """Stripe no longer knows the id (another key or account, deleted test data)."""
    if not isinstance(error, InvalidRequestError) or error.code != "resource_missing":
        return False
    return param is None or error.param in (param, None)


def ensure_customer(customer: Customer) -> str:
    """The Stripe customer id, created on first use (idempotent per portal customer)."""
    if customer.stripe_customer_id:
        return customer.stripe_customer_id
    created = client().v1.customers.create(
        params={
            "name": customer.name,
            "email": customer.email,
            "metadata": {**stamp(), "portal_customer_id": str(customer.pk)},
        },
        options={"idempotency_key": idempotency_key("customer", customer.pk)},
    )
    customer.stripe_customer_id = created.id
    customer.save(update_fields=["stripe_customer_id", "updated_at"])
    return created.id


def forget_customer(customer: Customer) -> None:
    """Drop a saved customer id Stripe no longer knows, so the next call makes a new one."""
    customer.stripe_customer_id = ""
    customer.save(update_fields=["stripe_customer_id", "updated_at"])


def create_payment_intent(
    *,
    invoice: Invoice,
    amount: int,
    stripe_customer_id: str,
    payment_method_types: list[str],
    idempotency_key: str,
) -> PaymentIntent:
    return client().v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": invoice.currency.lower(),
            "customer": stripe_customer_id,
            "description": f"Invoice {invoice.number}",
            # No receipt_email: the portal emails its own receipt, and with it set
            # Stripe would send a second one in live mode.
            "metadata": {
                **stamp(),
                "invoice_id": str(invoice.pk),
                "invoice_number": invoice.number,
            },
            # Exactly the methods the business offers in this currency, not whatever
            # the Stripe Dashboard has switched on (`BusinessProfile.payment_method_types`).
            "payment_method_types": payment_method_types,
        },
        options={"idempotency_key": idempotency_key},
    )


def create_group_payment_intent(
    *,
    group_id: int,
    customer: Customer,
    currency: str,
    amount: int,
    invoice_numbers: list[str],
    stripe_customer_id: str,
    idempotency_key: str,
) -> PaymentIntent:
    """One intent for several invoices (`invoices.payments.groups`): no `invoice_id` in its
    metadata, so the single-invoice handlers never mistake it for one invoice's payment."""
    numbers = ", ".join(invoice_numbers)
    return client().v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency.lower(),
            "customer": stripe_customer_id,
            "description": f"Invoices {numbers}"[:1000],
            "metadata": {
                **stamp(),
                "payment_group": str(group_id),
                "portal_customer_id": str(customer.pk),
                # Stripe caps a metadata value at 500 characters.
                "invoice_numbers": numbers[:500],
            },
            # Cards only: a bank debit settles days later, one invoice at a time is clearer.
            "payment_method_types": ["card"],
        },
        options={"idempotency_key": idempotency_key},
    )


def retrieve_payment_intent(
    payment_intent_id: str, *, expand_charge: bool = False
) -> PaymentIntent:
    params: dict[str, Any] = {"expand": ["latest_charge"]} if expand_charge else {}
    return client().v1.payment_intents.retrieve(payment_intent_id, params=params)


def retrieve_balance_transaction(balance_transaction_id: str) -> Any:
    return client().v1.balance_transactions.retrieve(balance_transaction_id)


def update_payment_intent_amount(payment_intent_id: str, amount: int) -> PaymentIntent:
    return client().v1.payment_intents.update(payment_intent_id, params={"amount": amount})


def set_future_usage(payment_intent_id: str, *, save: bool) -> PaymentIntent:
    """Ask Stripe to save (or not) the payment method this intent is paid with, for
    charges without the customer present (`setup_future_usage`; "" unsets it)."""
    return client().v1.payment_intents.update(
        payment_intent_id, params={"setup_future_usage": "off_session" if save else ""}
    )


def confirm_off_session(
    payment_intent_id: str, *, payment_method_id: str, idempotency_key: str
) -> PaymentIntent:
    """Charge a saved method without the customer (autopay). A card that needs the
    customer to authenticate, or declines, raises stripe.CardError."""
    return client().v1.payment_intents.confirm(
        payment_intent_id,
        params={"payment_method": payment_method_id, "off_session": True},
        options={"idempotency_key": idempotency_key},
    )


def detach_payment_method(payment_method_id: str) -> Any:
    return client().v1.payment_methods.detach(payment_method_id)


def cancel_payment_intent(payment_intent_id: str) -> PaymentIntent:
    return client().v1.payment_intents.cancel(
        payment_intent_id, params={"cancellation_reason": "abandoned"}
    )


def create_refund(*, payment_intent_id: str, amount: int, idempotency_key: str) -> stripe.Refund:
    return client().v1.refunds.create(
        # Expanded: the refund's fee and net come with the answer (the ledger shows them).
        params={
            "payment_intent": payment_intent_id,
            "amount": amount,
            "expand": ["balance_transaction"],
        },
        options={"idempotency_key": idempotency_key},
    )


def list_refunds(charge_id: str) -> list[stripe.Refund]:
    """Every refund of a charge (Charge objects no longer embed them since 2022-11-15)."""
    page = client().v1.refunds.list(params={"charge": charge_id, "limit": 100})
    return list(page.auto_paging_iter())


def verify_event(payload: bytes, signature: str) -> dict[str, Any]:
    """Check `Stripe-Signature` against every configured secret (rotation).

    Raises SignatureVerificationError (bad signature, stale timestamp) or
    ValueError (not JSON). Returns the event as a plain dict.
    """
    errors: list[SignatureVerificationError] = []
    for secret in settings.STRIPE_WEBHOOK_SECRETS:
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature, secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
        except SignatureVerificationError as failure:
            errors.append(failure)
            continue
        return _parse_event(payload)
    # The SDK checks the timestamp only once a secret matched: that secret's
    # "outside the tolerance" is the real reason, not the others' mismatch.
    stale = [e for e in errors if "tolerance" in str(e).lower()]
    raise (stale or errors)[0]


def _parse_event(payload: bytes) -> dict[str, Any]:
    event = json.loads(payload)
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise ValueError("not a Stripe event")
    if not isinstance(event.get("type"), str) or not isinstance(event.get("data"), dict):
        raise ValueError("not a Stripe event")
    return event
