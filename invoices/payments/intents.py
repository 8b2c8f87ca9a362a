"""Card payments from the pay page: the PaymentIntent for an invoice's amount due.

The amount the customer pays is the amount due now, or, where the business allows partial
payments, an amount they chose within `invoices.partial_payments`' limits: the intent is
brought up to date when the form opens, when staff record money another way
(`follow_amount_due`), and once more the moment the customer presses Pay
(`check_before_confirm`). An open intent that offers other payment methods than the
business does now is replaced when the form opens. What Stripe reports afterwards is
applied by `invoices.payments.handlers`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from invoices import partial_payments, stripe_api
from invoices.activity import InvoiceStateError, lock, record_activity
from invoices.language import in_customer_language
from invoices.models import BusinessProfile, Invoice, InvoiceActivity, Payment
from invoices.states import PROCESSING_MESSAGE
from portal.i18n import format_money_in

logger = logging.getLogger(__name__)

# The refusals below are the customer's to read: worded with `_()` in the language active
# where they are raised (the customer's, see `check_before_confirm`). The activity
# entries stay in English, as all of the staff's history does.
STALE_FORM = gettext_noop(
    "This payment form is out of date. Nothing was charged; please try again below."
)


@dataclass(frozen=True)
class PaymentSession:
    payment_intent_id: str
    client_secret: str
    amount: int
    currency: str


class AmountChanged(InvoiceStateError):
    """The amount due moved since the form opened: refused before anything was charged."""


def start_payment(*, invoice: Invoice, amount: int | None = None) -> PaymentSession:
    """The PaymentIntent for the invoice's amount due (or the part of it the customer chose,
    `amount`): reused while confirmable, else new.

    Raises InvoiceStateError (not payable; partial_payments.AmountRefused for an amount the
    customer may not pay now, checked before Stripe is asked anything) or
    stripe_api.StripeError.
    """
    with transaction.atomic():
        # The row lock makes a double click wait and then reuse the first intent.
        invoice = lock(invoice)
        if message := invoice.payment_refusal:
            raise InvoiceStateError(_(message))
        wanted = invoice.amount_due
        if amount is not None:
            wanted = partial_payments.check_amount(invoice, amount)
        intent = _current_intent(invoice, wanted) or _new_intent(invoice, wanted)
    return _session(intent)


def check_before_confirm(
    *,
    invoice: Invoice,
    payment_intent_id: str,
    shown_amount: int,
    save_method: bool | None = None,
) -> None:
    """Called by the pay page as the customer presses Pay, before Stripe.js confirms.

    Refuses (AmountChanged / InvoiceStateError) when the form no longer shows
    the amount due (or a part of it the customer may pay now); otherwise makes sure the
    intent asks for exactly the amount shown, and (`save_method`, the "Save this card"
    tick) that Stripe saves the method or not. A refusal is worded in the customer's
    language: the pay page shows it as it is.
    """
    with transaction.atomic(), in_customer_language(invoice.customer):
        invoice = lock(invoice)
        if message := invoice.payment_refusal:
            raise InvoiceStateError(_(message))
        if not payment_intent_id or payment_intent_id != invoice.stripe_payment_intent_id:
            raise AmountChanged(_(STALE_FORM))
        if not partial_payments.acceptable(invoice, shown_amount):
            raise AmountChanged(
                _(
                    "The amount due is now %(amount)s. "
                    "Nothing was charged; check the new amount and press Pay again."
                )
                % {"amount": format_money_in(invoice.amount_due, invoice.currency)}
            )
        intent = _current_intent(invoice, shown_amount)
        if intent is None or intent.id != payment_intent_id:
            raise AmountChanged(_(STALE_FORM))
        if (
            save_method is not None
            and bool(getattr(intent, "setup_future_usage", None)) != save_method
        ):
            stripe_api.set_future_usage(intent.id, save=save_method)


def intent_for_autopay(*, invoice: Invoice) -> str:
    """The invoice's one PaymentIntent (reused while confirmable, else new) for an
    off-session charge; its id. Raises InvoiceStateError or stripe_api.StripeError."""
    with transaction.atomic():
        invoice = lock(invoice)
        if message := invoice.payment_refusal:
            raise InvoiceStateError(message)
        due = invoice.amount_due
        intent = _current_intent(invoice, due) or _new_intent(invoice, due, source="autopay")
    return str(intent.id)


def follow_amount_due(invoice: Invoice) -> None:
    """After money arrived another way (inside the caller's transaction, invoice locked):
    the open intent asks for the new amount due, or is canceled when the invoice can
    no longer be paid by card (nothing left, below Stripe's minimum, uncollectible).

    Best effort: the check at confirm time is the guarantee, so a Stripe error is
    logged and never stops staff recording the money.
    """
    if not invoice.stripe_payment_intent_id:
        return
    try:
        intent = stripe_api.retrieve_payment_intent(invoice.stripe_payment_intent_id)
        if intent.status not in stripe_api.CONFIRMABLE:
            return
        if not invoice.is_payable:
            stripe_api.cancel_payment_intent(intent.id)
        elif not partial_payments.acceptable(invoice, intent.amount):
            _set_amount(invoice, intent.id, invoice.amount_due)
    except stripe_api.StripeError as error:
        logger.warning("could not bring intent of invoice %s up to date: %s", invoice.pk, error)


def _current_intent(invoice: Invoice, wanted: int) -> Any | None:
    """The invoice's saved intent, at the amount `wanted`, if it can still be confirmed.

    A saved id Stripe no longer knows (another key or account, test data
    deleted) is forgotten, so a new intent is made instead of failing forever;
    so is a succeeded one already on the books (a part payment: the rest needs
    a new intent), and one that offers other payment methods than the business
    does now (replaced unless the customer is already part way through it).
    """
    if not invoice.stripe_payment_intent_id:
        return None
    try:
        intent = stripe_api.retrieve_payment_intent(invoice.stripe_payment_intent_id)
    except stripe_api.StripeError as error:
        if not stripe_api.is_missing(error):
            raise
        _forget_intent(invoice)
        return None
    if intent.status == stripe_api.PROCESSING:
        raise InvoiceStateError(_(PROCESSING_MESSAGE))
    if intent.status == stripe_api.SUCCEEDED:
        if _recorded(intent.id):
            return None
        raise InvoiceStateError(_("We have received your payment and are recording it."))
    if intent.status not in stripe_api.CONFIRMABLE:
        return None
    if _offers_other_methods(invoice, intent):
        _replace_intent(invoice, intent.id)
        return None
    if intent.amount != wanted:
        intent = _set_amount(invoice, intent.id, wanted)
    return intent


def _recorded(intent_id: str) -> bool:
    return Payment.objects.filter(
        stripe_payment_intent_id=intent_id, status=Payment.Status.SUCCEEDED
    ).exists()


def _offers_other_methods(invoice: Invoice, intent: Any) -> bool:
    """The business changed what it offers since the intent was made, and the customer has
    not started paying with it (a 3-D Secure check or microdeposits may be under way)."""
    if intent.status == stripe_api.REQUIRES_ACTION:
        return False
    offered = BusinessProfile.load().payment_method_types(invoice.currency)
    return sorted(intent.payment_method_types or []) != sorted(offered)


def _replace_intent(invoice: Invoice, intent_id: str) -> None:
    stripe_api.cancel_payment_intent(intent_id)
    Payment.objects.filter(
        stripe_payment_intent_id=intent_id, status__in=[Payment.Status.PENDING]
    ).update(status=Payment.Status.CANCELED, failure_message="Payment methods changed")
    invoice.stripe_payment_intent_id = ""
    invoice.payment_state = ""
    invoice.save(update_fields=["stripe_payment_intent_id", "payment_state", "updated_at"])
    record_activity(
        invoice,
        InvoiceActivity.Kind.PAYMENT_CANCELED,
        message="Online payment replaced: the payment methods offered changed",
        payment_intent=intent_id,
    )


def _set_amount(invoice: Invoice, intent_id: str, amount: int) -> Any:
    intent = stripe_api.update_payment_intent_amount(intent_id, amount)
    Payment.objects.filter(stripe_payment_intent_id=intent_id).update(amount=amount)
    record_activity(
        invoice,
        InvoiceActivity.Kind.UPDATED,
        message=f"Online payment amount changed to {invoice.money(amount)}",
        payment_intent=intent_id,
    )
    return intent


def _forget_intent(invoice: Invoice) -> None:
    stale = invoice.stripe_payment_intent_id
    logger.warning("invoice %s: Stripe no longer knows %s; starting afresh", invoice.pk, stale)
    Payment.objects.filter(
        stripe_payment_intent_id=stale, status__in=[Payment.Status.PENDING, Payment.Status.FAILED]
    ).update(status=Payment.Status.CANCELED, failure_message="Unknown to Stripe")
    invoice.stripe_payment_intent_id = ""
    invoice.payment_state = ""
    invoice.save(update_fields=["stripe_payment_intent_id", "payment_state", "updated_at"])


def _new_intent(invoice: Invoice, amount: int, *, source: str = "customer") -> Any:
    intent = _create_intent(invoice, amount)
    Payment.objects.get_or_create(
        stripe_payment_intent_id=intent.id,
        defaults={
            "invoice": invoice,
            "method": Payment.Method.ONLINE,
            "amount": amount,
            "currency": invoice.currency,
        },
    )
    invoice.stripe_payment_intent_id = intent.id
    invoice.save(update_fields=["stripe_payment_intent_id", "updated_at"])
    record_activity(
        invoice,
        InvoiceActivity.Kind.PAYMENT_ATTEMPTED,
        message=f"Online payment of {invoice.money(amount)} started",
        payment_intent=intent.id,
        source=source,
    )
    return intent


def _create_intent(invoice: Invoice, amount: int) -> Any:
    """Create the intent; a saved customer id Stripe no longer knows is replaced once."""
    attempts = invoice.payments.filter(method=Payment.Method.ONLINE).count()
    types = BusinessProfile.load().payment_method_types(invoice.currency)
    for retry in (False, True):
        customer_id = stripe_api.ensure_customer(invoice.customer)
        try:
            return stripe_api.create_payment_intent(
                invoice=invoice,
                amount=amount,
                stripe_customer_id=customer_id,
                payment_method_types=types,
                idempotency_key=stripe_api.idempotency_key(
                    "pi", invoice.pk, customer_id, amount, attempts, *types
                ),
            )
        except stripe_api.StripeError as error:
            if getattr(error, "code", None) == "amount_too_small":
                # Our table said the amount was enough, so its figure would be wrong here.
                raise InvoiceStateError(
                    _(
                        "This amount is below the smallest card payment Stripe accepts in "
                        "%(currency)s. Please contact us to pay it another way."
                    )
                    % {"currency": invoice.currency.upper()}
                ) from error
            if retry or not stripe_api.is_missing(error, "customer"):
                raise
            logger.warning("customer %s: Stripe forgot %s", invoice.customer_id, customer_id)
            stripe_api.forget_customer(invoice.customer)
    raise AssertionError("unreachable")


def _session(intent: Any) -> PaymentSession:
    return PaymentSession(
        payment_intent_id=intent.id,
        client_secret=intent.client_secret,
        amount=intent.amount,
        currency=intent.currency,
    )
