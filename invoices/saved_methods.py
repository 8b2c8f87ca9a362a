"""Saved payment methods: recorded from Stripe's webhook, switched by staff, removed by
the customer from the link in every email (`removal_url`).

Stripe is the source of truth for what is attached: `payment_method.attached` records a
method, `payment_method.detached` forgets it. Every change leaves a
`SavedMethodActivity` row (who, what, when).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from customers.models import Customer
from invoices import stripe_api
from invoices.models import AutopayCharge, Invoice, SavedMethodActivity, SavedPaymentMethod
from portal.params import MAX_ID, parse_int

logger = logging.getLogger(__name__)

REMOVAL_SALT = "invoices.saved-methods.remove"


def _trail(
    method: SavedPaymentMethod,
    kind: str,
    *,
    source: str,
    actor: Any = None,
    message: str = "",
) -> SavedMethodActivity:
    return SavedMethodActivity.objects.create(
        customer_id=method.customer_id,
        kind=kind,
        method_label=method.label[:140],
        stripe_payment_method_id=method.stripe_payment_method_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        source=source,
        message=message[:500],
    )


def _details(pm: dict[str, Any]) -> dict[str, Any]:
    """The fields we keep of a Stripe PaymentMethod object."""
    kind = str(pm.get("type") or "")
    found = pm.get(kind) if isinstance(pm.get(kind), dict) else {}
    details: dict[str, Any] = {"method_type": kind[:32], "last4": str(found.get("last4") or "")[:4]}
    if kind == "card":
        details["brand"] = str(found.get("brand") or "")[:32]
        month, year = found.get("exp_month"), found.get("exp_year")
        if _whole(month, 1, 12) and _whole(year, 1970, 9999):
            details.update(exp_month=month, exp_year=year)
    elif kind == "sepa_debit":
        # As receipts name it: "SEPA DE •••• 3000".
        details["bank_name"] = f"SEPA {found.get('country') or ''}".strip()[:100]
    else:
        details["bank_name"] = str(found.get("bank_name") or "")[:100]
    return details


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def apply_attached(pm: dict[str, Any], event_id: str = "") -> bool | None:
    """`payment_method.attached`: record it for our customer (None: not one of ours)."""
    stripe_customer = pm.get("customer")
    if not isinstance(stripe_customer, str) or not stripe_customer:
        return None
    customer = Customer.objects.filter(stripe_customer_id=stripe_customer).first()
    if customer is None:
        return None
    method, created = SavedPaymentMethod.objects.get_or_create(
        stripe_payment_method_id=pm["id"],
        defaults={"customer": customer, "stripe_customer_id": stripe_customer, **_details(pm)},
    )
    if created:
        _trail(
            method,
            SavedMethodActivity.Kind.SAVED,
            source="stripe",
            message="Saved by the customer while paying; autopay on",
        )
    return True


def apply_detached(pm: dict[str, Any], event_id: str = "") -> bool | None:
    """`payment_method.detached`: forget it (None: we never had it, or already forgot it)."""
    method = (
        SavedPaymentMethod.objects.select_for_update()
        .filter(stripe_payment_method_id=pm.get("id"))
        .first()
    )
    if method is None:
        return None
    asked = method.removal_asked_by
    _forget(
        method,
        source=asked or "stripe",
        message=f"Removed by {asked}" if asked else "Detached in Stripe",
    )
    return True


def _forget(method: SavedPaymentMethod, *, source: str, actor: Any = None, message: str) -> None:
    _trail(method, SavedMethodActivity.Kind.REMOVED, source=source, actor=actor, message=message)
    method.delete()


def set_autopay(*, method: SavedPaymentMethod, on: bool, actor: Any = None) -> None:
    """Staff's switch: whether finalized invoices are charged to this method."""
    with transaction.atomic():
        method = SavedPaymentMethod.objects.select_for_update().get(pk=method.pk)
        if method.autopay == on:
            return
        method.autopay = on
        method.save(update_fields=["autopay", "updated_at"])
        kind = SavedMethodActivity.Kind.AUTOPAY_ON if on else SavedMethodActivity.Kind.AUTOPAY_OFF
        _trail(method, kind, source="staff", actor=actor)


def remove(*, method: SavedPaymentMethod, source: str, actor: Any = None) -> bool:
    """Stop autopay with it at once, detach it at Stripe, then forget it.

    If Stripe cannot be reached it stays listed (autopay off) and False is returned,
    so the customer can try again.
    """
    with transaction.atomic():
        locked = SavedPaymentMethod.objects.select_for_update().filter(pk=method.pk).first()
        if locked is None:
            return True
        locked.autopay = False
        locked.removal_asked_by = source
        locked.save(update_fields=["autopay", "removal_asked_by", "updated_at"])
    try:
        stripe_api.detach_payment_method(method.stripe_payment_method_id)
    except stripe_api.StripeError as error:
        gone = stripe_api.is_missing(error) or getattr(error, "code", "") == (
            "payment_method_unexpected_state"
        )
        if not gone:
            logger.warning("could not detach %s: %s", method.stripe_payment_method_id, error)
            message = "Removal asked; Stripe unreachable, autopay stopped meanwhile"
            kind = SavedMethodActivity.Kind.AUTOPAY_OFF
            _trail(locked, kind, source=source, actor=actor, message=message)
            return False
    with transaction.atomic():
        # Stripe's `payment_method.detached` may have been recorded already.
        locked = SavedPaymentMethod.objects.select_for_update().filter(pk=method.pk).first()
        if locked is not None:
            _forget(locked, source=source, actor=actor, message=f"Removed by {source}")
    return True


def autopay_method(customer_id: int) -> SavedPaymentMethod | None:
    """The method finalized invoices are charged to: the newest one with autopay on."""
    return SavedPaymentMethod.objects.filter(customer_id=customer_id, autopay=True).first()


def autopay_label(invoice: Invoice) -> str:
    """The saved method an automatic payment of this invoice is under way with ("": none)."""
    under_way = (
        AutopayCharge.objects.filter(
            invoice_id=invoice.pk,
            status__in=[
                AutopayCharge.Status.PENDING,
                AutopayCharge.Status.CHARGING,
                AutopayCharge.Status.SUBMITTED,
            ],
        )
        .select_related("saved_method")
        .first()
    )
    if under_way is None or under_way.saved_method is None or invoice.status != "open":
        return ""
    return under_way.saved_method.label


# -- the removal link in every customer email ---------------------------------------


def removal_token(customer: Customer) -> str:
    """Signed, names only the customer, and never expires: the link sits in emails read
    months later, and all it can do is stop future charges (which the customer may always ask)."""
    return signing.Signer(salt=REMOVAL_SALT).sign(str(customer.pk))


def customer_for_removal_token(token: str) -> Customer | None:
    try:
        raw = signing.Signer(salt=REMOVAL_SALT).unsign(token)
    except signing.BadSignature:
        return None
    pk = parse_int(raw, minimum=1, maximum=MAX_ID)
    return Customer.objects.filter(pk=pk).first() if pk else None


def removal_url(customer: Customer) -> str:
    """The link to remove saved methods; "" when the customer has none saved."""
    if not SavedPaymentMethod.objects.filter(customer_id=customer.pk).exists():
        return ""
    path = reverse("pay:saved_methods", args=[removal_token(customer)])
    return settings.SITE_URL + path
