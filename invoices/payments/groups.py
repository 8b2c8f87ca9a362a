"""Paying several invoices at once: one PaymentIntent, its amount allocated to the invoices.

The browser sends only invoice ids. The server re-reads each (same customer, open,
payable, one currency), stores the allocation (each invoice's amount due, oldest
first) and only then creates the intent for their sum, so what the webhook books is
decided before the customer can confirm.

If an amount due changes between the choice and the payment (staff record an offline
payment, a credit note), the payment is refused before Stripe.js confirms
(`check_before_confirm`, as for one invoice): the intent is canceled and the customer
chooses again. If money still arrives for less than is allocated or after an invoice
was settled another way (a race after the check), the webhook allocates what was
received exactly, oldest first, each invoice at most its amount due at that moment,
and keeps the rest as the customer's account credit (`CustomerCredit`), with a staff
notice. A failed or canceled group payment changes no invoice: the group records it
and the customer may try again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from customers.models import Customer
from invoices import stripe_api
from invoices.activity import InvoiceStateError
from invoices.models import GroupAllocation, Invoice, PaymentGroup
from invoices.payments.intents import STALE_FORM, AmountChanged
from invoices.states import below_minimum_message
from portal.money import format_money

logger = logging.getLogger(__name__)

METADATA_KEY = "payment_group"
MAX_INVOICES = 50
# Stripe's largest charge, in minor units (the same bound every amount form uses).
MAX_AMOUNT = 99_999_999


@dataclass(frozen=True)
class GroupSession:
    group_id: int
    payment_intent_id: str
    client_secret: str
    amount: int
    currency: str
    invoices: tuple[Invoice, ...]


def allocate(amount: int, dues: Sequence[int]) -> tuple[list[int], int]:
    """Split `amount` over `dues` in order (oldest first): each share is at most its due.

    Returns the shares and what is left over (never negative): shares + left == amount.
    """
    shares, left = [], max(amount, 0)
    for due in dues:
        share = min(max(due, 0), left)
        shares.append(share)
        left -= share
    return shares, left


def oldest_first(invoices: Iterable[Invoice]) -> list[Invoice]:
    """Due soonest (so most overdue) first; then issued first, then by number."""
    return sorted(
        invoices, key=lambda i: (i.due_date or i.issue_date, i.issue_date, i.number, i.pk)
    )


def refusal(invoice: Invoice) -> str | None:
    """Why one invoice cannot be part of a combined card payment now (None: it can)."""
    if invoice.status != Invoice.Status.OPEN or invoice.amount_due <= 0:
        return _("Invoice %(number)s has nothing left to pay.") % {"number": invoice.number}
    if invoice.payment_state == Invoice.PaymentState.PROCESSING:
        return _("A payment of invoice %(number)s is already processing.") % {
            "number": invoice.number
        }
    return None


def _chosen(customer: Customer, invoice_ids: Sequence[int]) -> list[Invoice]:
    """The chosen invoices, locked (in id order, as every locker does), checked."""
    ids = sorted(set(invoice_ids))
    if not ids:
        raise InvoiceStateError(_("Choose at least one invoice to pay."))
    if len(ids) > MAX_INVOICES:
        raise InvoiceStateError(
            _("Choose at most %(count)s invoices at once.") % {"count": MAX_INVOICES}
        )
    invoices = list(
        Invoice.objects.select_for_update()
        .select_related("customer")
        .filter(customer=customer, pk__in=ids)
        .exclude(status=Invoice.Status.DRAFT)
        .order_by("pk")
    )
    if len(invoices) != len(ids):
        # Another customer's id, a draft or a made-up number: the same answer for each.
        raise InvoiceStateError(_("One of the chosen invoices cannot be paid here."))
    for invoice in invoices:
        if message := refusal(invoice):
            raise InvoiceStateError(message)
    if len({invoice.currency for invoice in invoices}) > 1:
        raise InvoiceStateError(_("Invoices in different currencies are paid separately."))
    return oldest_first(invoices)


def start_group_payment(*, customer: Customer, invoice_ids: Sequence[int]) -> GroupSession:
    """The allocation stored, then one intent for its sum (reused on a double click).

    Raises InvoiceStateError (not payable together) or stripe_api.StripeError.
    """
    with transaction.atomic():
        # The customer's row serializes their choices: a double click reuses the first.
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        invoices = _chosen(customer, invoice_ids)
        currency = invoices[0].currency
        total = sum(invoice.amount_due for invoice in invoices)
        if total > MAX_AMOUNT:
            raise InvoiceStateError(
                _(
                    "Together these invoices are more than one card payment can take; "
                    "please pay them in smaller groups."
                )
            )
        if message := below_minimum_message(total, currency):
            raise InvoiceStateError(message)
        group = _reusable(customer, invoices) or _new_group(customer, invoices, total)
        group, intent = _intent(group, invoices)
    return GroupSession(
        group_id=group.pk,
        payment_intent_id=intent.id,
        client_secret=intent.client_secret,
        amount=intent.amount,
        currency=currency,
        invoices=tuple(invoices),
    )


def _shape(invoices: Iterable[Invoice]) -> list[tuple[int, int]]:
    return [(invoice.pk, invoice.amount_due) for invoice in invoices]


def _reusable(customer: Customer, invoices: list[Invoice]) -> PaymentGroup | None:
    """A pending group with exactly this allocation (the same choice again)."""
    wanted = _shape(invoices)
    candidates = PaymentGroup.objects.filter(
        customer=customer,
        status__in=[PaymentGroup.Status.PENDING, PaymentGroup.Status.FAILED],
        currency=invoices[0].currency,
        amount=sum(amount for _, amount in wanted),
    ).exclude(stripe_payment_intent_id="")
    for group in candidates.prefetch_related("allocations")[:5]:
        shape = [(a.invoice_id, a.amount) for a in group.allocations.all()]
        if shape == wanted:
            return group
    return None


def _new_group(customer: Customer, invoices: list[Invoice], total: int) -> PaymentGroup:
    group = PaymentGroup.objects.create(
        customer=customer, currency=invoices[0].currency, amount=total
    )
    GroupAllocation.objects.bulk_create(
        GroupAllocation(group=group, invoice=invoice, position=index, amount=invoice.amount_due)
        for index, invoice in enumerate(invoices)
    )
    return group


def _intent(group: PaymentGroup, invoices: list[Invoice]) -> tuple[PaymentGroup, Any]:
    """The group's intent: its saved one while still confirmable, else a new one."""
    if group.stripe_payment_intent_id:
        intent = stripe_api.retrieve_payment_intent(group.stripe_payment_intent_id)
        if intent.status in stripe_api.CONFIRMABLE and intent.amount == group.amount:
            return group, intent
        if intent.status == stripe_api.SUCCEEDED:
            raise InvoiceStateError(_("We have received your payment and are recording it."))
        if intent.status == stripe_api.PROCESSING:
            raise InvoiceStateError(_("Your payment is processing."))
        group.status = PaymentGroup.Status.CANCELED
        group.save(update_fields=["status"])
        group = _new_group(group.customer, invoices, group.amount)
    customer_id = stripe_api.ensure_customer(group.customer)
    intent = stripe_api.create_group_payment_intent(
        group_id=group.pk,
        customer=group.customer,
        currency=group.currency,
        amount=group.amount,
        invoice_numbers=[invoice.number for invoice in invoices],
        stripe_customer_id=customer_id,
        idempotency_key=stripe_api.idempotency_key("group", group.pk, customer_id, group.amount),
    )
    group.stripe_payment_intent_id = intent.id
    group.save(update_fields=["stripe_payment_intent_id"])
    return group, intent


def group_for_intent(customer: Customer, payment_intent_id: str) -> PaymentGroup | None:
    if not payment_intent_id:
        return None
    return PaymentGroup.objects.filter(
        customer=customer, stripe_payment_intent_id=payment_intent_id
    ).first()


def check_before_confirm(*, customer: Customer, payment_intent_id: str, shown_amount: int) -> None:
    """As the customer presses Pay: refuse (AmountChanged) unless every chosen invoice is
    still payable at exactly its allocated amount and the form shows their sum. A refused
    group's intent is canceled, so an old form can never be confirmed later."""
    group = group_for_intent(customer, payment_intent_id)
    if group is None or group.status not in (
        PaymentGroup.Status.PENDING,
        PaymentGroup.Status.FAILED,
    ):
        raise AmountChanged(STALE_FORM)
    with transaction.atomic():
        group = PaymentGroup.objects.select_for_update().get(pk=group.pk)
        allocations = list(group.allocations.order_by("invoice_id"))
        invoices = {
            invoice.pk: invoice
            for invoice in Invoice.objects.select_for_update().filter(
                pk__in=[a.invoice_id for a in allocations]
            )
        }
        problem = ""
        for allocation in allocations:
            invoice = invoices[allocation.invoice_id]
            problem = refusal(invoice) or ""
            if not problem and invoice.amount_due != allocation.amount:
                problem = _("The amount due on invoice %(number)s is now %(amount)s.") % {
                    "number": invoice.number,
                    "amount": invoice.money(invoice.amount_due),
                }
            if problem:
                break
        if not problem and shown_amount != group.amount:
            problem = STALE_FORM
        if not problem:
            return
        group.status = PaymentGroup.Status.CANCELED
        group.save(update_fields=["status"])
    _cancel_quietly(group.stripe_payment_intent_id)
    if problem == STALE_FORM:
        raise AmountChanged(_(STALE_FORM))
    raise AmountChanged(
        _("%(problem)s Nothing was charged; please choose the invoices to pay again.")
        % {"problem": problem}
    )


def _cancel_quietly(intent_id: str) -> None:
    """Best effort: a stale intent is also refused by our check, so a Stripe error waits."""
    try:
        stripe_api.cancel_payment_intent(intent_id)
    except stripe_api.StripeError as error:
        logger.warning("could not cancel combined payment %s: %s", intent_id, error)


def total_label(invoices: Sequence[Invoice]) -> str:
    return format_money(sum(i.amount_due for i in invoices), invoices[0].currency)
