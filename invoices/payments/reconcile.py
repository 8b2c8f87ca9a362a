"""Catch up with Stripe when webhooks were missed: ask for each active
PaymentIntent and apply what it says through the webhook's own handlers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from invoices import stripe_api
from invoices.models import Invoice, PaymentGroup, Refund
from invoices.payments import group_handlers, handlers, microdeposits, refunds

logger = logging.getLogger(__name__)

BY_STATUS = {
    stripe_api.SUCCEEDED: handlers.apply_intent_succeeded,
    stripe_api.PROCESSING: handlers.apply_intent_processing,
    stripe_api.REQUIRES_ACTION: microdeposits.apply_intent_requires_action,
    stripe_api.CANCELED: handlers.apply_intent_canceled,
}


@dataclass
class Report:
    checked: int = 0
    errors: list[str] = field(default_factory=list)


def invoices_to_check() -> Iterable[Invoice]:
    awaiting_refund = Q(
        payments__refunds__status__in=[Refund.Status.PENDING, Refund.Status.REQUIRES_ACTION]
    )
    return (
        Invoice.objects.exclude(stripe_payment_intent_id="")
        .filter(Q(status=Invoice.Status.OPEN) | ~Q(payment_state="") | awaiting_refund)
        .only("pk", "stripe_payment_intent_id")
        .distinct()
        .order_by("pk")
    )


def reconcile_invoice(invoice: Invoice) -> None:
    intent = stripe_api.retrieve_payment_intent(
        invoice.stripe_payment_intent_id, expand_charge=True
    ).to_dict()
    handler = BY_STATUS.get(intent["status"])
    if intent["status"] == "requires_payment_method" and intent.get("last_payment_error"):
        handler = handlers.apply_intent_failed
    charge = intent.get("latest_charge")
    # Charges no longer embed their refunds: ask for them (before taking any lock).
    found = []
    if isinstance(charge, dict) and charge.get("amount_refunded"):
        found = [refund.to_dict() for refund in stripe_api.list_refunds(charge["id"])]
    with transaction.atomic():
        if handler is not None:
            handler(intent, "")
        for refund in found:
            refunds.apply_refund({**refund, "payment_intent": intent["id"]}, "")


def reconcile_all() -> Report:
    report = Report()
    for invoice in invoices_to_check():
        report.checked += 1
        try:
            reconcile_invoice(invoice)
        except stripe_api.StripeError as error:
            logger.warning("reconcile: invoice %s: %s", invoice.pk, error)
            report.errors.append(f"{invoice.pk}: {error}")
    for group in groups_to_check():
        report.checked += 1
        try:
            reconcile_group(group)
        except stripe_api.StripeError as error:
            logger.warning("reconcile: combined payment %s: %s", group.pk, error)
            report.errors.append(f"group {group.pk}: {error}")
    return report


def groups_to_check() -> Iterable[PaymentGroup]:
    """Combined payments (several invoices, one intent) not yet booked nor canceled."""
    return (
        PaymentGroup.objects.exclude(stripe_payment_intent_id="")
        .exclude(status__in=[PaymentGroup.Status.SUCCEEDED, PaymentGroup.Status.CANCELED])
        .only("pk", "stripe_payment_intent_id")
        .order_by("pk")
    )


def reconcile_group(group: PaymentGroup) -> None:
    """The same handlers route the intent to its group (`handlers.groups_apart`)."""
    intent = stripe_api.retrieve_payment_intent(
        group.stripe_payment_intent_id, expand_charge=True
    ).to_dict()
    handler = BY_STATUS.get(intent["status"])
    if intent["status"] == "requires_payment_method" and intent.get("last_payment_error"):
        handler = handlers.apply_intent_failed
    charge = intent.get("latest_charge")
    with transaction.atomic():
        if isinstance(charge, dict):
            group_handlers.note_charge(charge)
        if handler is not None:
            handler(intent, "")
