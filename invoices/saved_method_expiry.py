"""A saved card that expires before the customer's next recurring invoice: one email
asking for a new one (per card and expiry date, however often this runs)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from invoices.models import RecurringTemplate, SavedMethodActivity, SavedPaymentMethod
from invoices.outbox import queue_customer_email
from invoices.recurring import next_period


def notify_expiring(*, today: date | None = None) -> int:
    """Ask for a new card where autopay would meet an expired one; returns how many asked."""
    today = today or timezone.localdate()
    asked = 0
    templates = RecurringTemplate.objects.filter(paused=False).order_by("customer_id", "pk")
    next_runs: dict[int, date] = {}
    for template in templates.prefetch_related("runs"):
        when = next_period(template, today)
        if when is not None:
            known = next_runs.get(template.customer_id)
            next_runs[template.customer_id] = min(when, known) if known else when
    cards = SavedPaymentMethod.objects.filter(
        customer_id__in=next_runs, autopay=True, method_type="card"
    )
    for card in cards:
        if card.expires_before(next_runs[card.customer_id]) and _ask_once(card.pk):
            asked += 1
    return asked


def _ask_once(method_id: int) -> bool:
    with transaction.atomic():
        card = (
            SavedPaymentMethod.objects.select_for_update()
            .select_related("customer")
            .filter(pk=method_id)
            .first()
        )
        if card is None or card.expiry_notice_for == card.expiry_label:
            return False
        card.expiry_notice_for = card.expiry_label
        card.save(update_fields=["expiry_notice_for", "updated_at"])
        SavedMethodActivity.objects.create(
            customer=card.customer,
            kind=SavedMethodActivity.Kind.EXPIRY_NOTICE,
            method_label=card.label,
            stripe_payment_method_id=card.stripe_payment_method_id,
            message=f"Expires {card.expiry_label}, before the next recurring invoice",
        )
        queue_customer_email(
            "card_expiring",
            card.customer,
            ref=f"{card.stripe_payment_method_id}:{card.expiry_label}",
            params={"method": card.label, "expiry": card.expiry_label},
        )
    return True
