"""Saved payment methods: attaching a PaymentMethod to a Customer (by ``attach`` or by a
PaymentIntent's ``setup_future_usage``), detaching it, and the checks Stripe makes before a
PaymentMethod is charged again, on- or off-session.

As with Stripe, a PaymentMethod used once without being attached to a Customer, or detached
from one, may not be used again; a card saved with ``setup_future_usage=off_session`` has done
the authentication its issuer asks for, which is what lets
``pm_card_authenticationRequiredSetupForOffSession`` be charged off-session later.
"""

from __future__ import annotations

from stripe_sim import cards, objects
from stripe_sim.errors import ApiError, invalid
from stripe_sim.objects import Obj
from stripe_sim.state import Store

CONSUMED_MESSAGE = (
    "The provided PaymentMethod was previously used with a PaymentIntent without Customer "
    "attachment, shared with a connected account without Customer attachment, or was detached "
    "from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must "
    "attach it to a Customer first."
)


def not_customers(pm_id: str, *, param: str) -> ApiError:
    return invalid(
        f"The customer does not have a payment method with the ID {pm_id}. The payment method "
        "must be attached to the customer.",
        param=param,
    )


def check_reusable(store: Store, pm: Obj, *, param: str = "payment_method") -> None:
    if pm["id"] in store.consumed:
        raise invalid(CONSUMED_MESSAGE, param=param)


def attach(store: Store, pm: Obj, customer_id: str) -> Obj:
    """``POST /v1/payment_methods/:id/attach``."""
    customer = store.get("customer", customer_id, param="customer")
    check_reusable(store, pm)
    if pm["customer"] == customer["id"]:
        return pm
    if pm["customer"] is not None:
        raise invalid(
            "The payment method you provided has already been attached to a customer.",
            code="payment_method_unexpected_state",
        )
    if pm["type"] == "card":
        _check_card(store, pm)
    _attach(store, pm, customer["id"])
    return pm


def _check_card(store: Store, pm: Obj) -> None:
    """Stripe checks a card with its issuer when it is attached: a card the issuer declines,
    or an expired one, is refused (except 4000 0000 0000 0341, which declines only charges)."""
    card = cards.card_for(store.pm_keys[pm["id"]])
    decline = None
    if expired(pm):
        decline = cards.DECLINES["expired_card"]
    elif card.outcome == cards.DECLINE and not card.attaches:
        decline = cards.decline_for(card)
    if decline is not None:
        raise ApiError(
            402,
            decline.message,
            type="card_error",
            code=decline.code,
            decline_code=decline.decline_code,
            param=decline.param,
        )


def _attach(store: Store, pm: Obj, customer_id: str) -> None:
    pm["customer"] = customer_id
    store.emit("payment_method.attached", pm)


def detach(store: Store, pm: Obj) -> Obj:
    """``POST /v1/payment_methods/:id/detach``: the PaymentMethod may not be used again."""
    customer_id = pm["customer"]
    if customer_id is None:
        raise invalid(
            f"The payment method {pm['id']} is not attached to a customer so detachment is "
            "impossible.",
            code="payment_method_unexpected_state",
        )
    pm["customer"] = None
    store.consumed.add(pm["id"])
    store.off_session_ready.discard(pm["id"])
    store.emit("payment_method.detached", pm, {"customer": customer_id})
    customer = store.objects["customer"].get(customer_id)
    settings = customer["invoice_settings"] if customer else {}
    if customer and settings.get("default_payment_method") == pm["id"]:
        # Stripe stops defaulting to a PaymentMethod once it leaves the Customer.
        settings["default_payment_method"] = None
        previous = {"invoice_settings": {"default_payment_method": pm["id"]}}
        store.emit("customer.updated", customer, previous)
    return pm


def check_default(store: Store, customer: Obj, pm_id: str | None) -> None:
    """``invoice_settings[default_payment_method]`` must be one of the Customer's own."""
    if pm_id:
        pm = store.find(pm_id)
        if pm is None or pm["object"] != "payment_method" or pm["customer"] != customer["id"]:
            raise not_customers(pm_id, param="invoice_settings[default_payment_method]")


def customer_methods(store: Store, customer_id: str | None, type_: str | None) -> list[Obj]:
    items = store.all("payment_method")
    if customer_id is not None:
        items = [pm for pm in items if pm["customer"] == customer_id]
    return [pm for pm in items if type_ is None or pm["type"] == type_]


def check_for_intent(store: Store, pi: Obj, pm: Obj, *, off_session: bool) -> None:
    """What Stripe checks of a PaymentMethod before a PaymentIntent charges it; ``pi`` may be
    the parameters of a PaymentIntent still to be created."""
    check_reusable(store, pm)
    owner, customer = pm["customer"], pi.get("customer")
    if owner is not None and customer is None:
        raise invalid(
            "The provided PaymentMethod belongs to a Customer, but you did not provide the "
            "Customer. Please provide the Customer ID when using this PaymentMethod.",
            param="customer",
        )
    if owner is not None and owner != customer:
        raise not_customers(pm["id"], param="payment_method")
    if off_session and (customer is None or owner != customer):
        # An off-session charge needs a PaymentMethod the customer saved for it.
        raise not_customers(pm["id"], param="payment_method")


def expired(pm: Obj) -> bool:
    card = pm.get("card") or {}
    if pm["type"] != "card":
        return False
    return cards.has_expired(card["exp_month"], card["exp_year"], objects.today())


def needs_authentication_off_session(store: Store, pm: Obj) -> bool:
    card = cards.card_for(store.pm_keys[pm["id"]])
    if card.off_session == cards.OFF_SESSION_ALWAYS:
        return True
    return (
        card.off_session == cards.OFF_SESSION_IF_SET_UP and pm["id"] not in store.off_session_ready
    )


def after_payment(store: Store, pi: Obj, pm: Obj) -> None:
    """Once a PaymentIntent's payment went through (or, for a bank debit, started): save the
    PaymentMethod as ``setup_future_usage`` asks, or mark it used up."""
    usage = pi["setup_future_usage"]
    if not usage:
        if pm["customer"] is None:
            store.consumed.add(pm["id"])
        return
    # Set up for later: attached to the Customer, or (without one) attachable afterwards.
    if usage == "off_session":
        store.off_session_ready.add(pm["id"])
    if mandate_id := store.mandates.get(pi["id"]):
        store.pm_mandates[pm["id"]] = mandate_id
    if pi["customer"] and pm["customer"] is None:
        _attach(store, pm, pi["customer"])


def refusal(
    store: Store, pm: Obj, card: cards.TestCard, *, off_session: bool
) -> cards.Decline | None:
    """Why the issuer refuses this charge before the test card's own outcome applies."""
    if expired(pm):
        return cards.DECLINES["expired_card"]
    authenticates = off_session and card.outcome == cards.AUTHENTICATE
    if authenticates and needs_authentication_off_session(store, pm):
        return cards.AUTHENTICATION_DECLINE
    return None
