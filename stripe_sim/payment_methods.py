"""Card PaymentMethods: created from card details or from Stripe's ``pm_card_*`` test ids."""

from __future__ import annotations

import datetime

from stripe_sim import cards, objects
from stripe_sim.errors import ApiError, invalid, missing_param
from stripe_sim.objects import Obj
from stripe_sim.params import require
from stripe_sim.state import Store


def create_payment_method(store: Store, params: Obj) -> Obj:
    require(params, "type")
    if params["type"] != "card":
        raise invalid(
            f"Invalid type: the simulator only supports card, not {params['type']}", param="type"
        )
    card = params.get("card")
    if not card:
        raise missing_param("card")
    for field in ("number", "exp_month", "exp_year"):
        if card.get(field) is None:
            raise missing_param(f"card[{field}]")
    number = cards.normalize_number(card["number"])
    year = cards.check_expiry(card["exp_month"], card["exp_year"])
    cards.check_cvc(card.get("cvc"), cards.brand_of(number))
    return _store_pm(store, number, card["exp_month"], year, bool(card.get("cvc")), params)


def _store_pm(store: Store, number: str, month: int, year: int, cvc: bool, extra: Obj) -> Obj:
    pm = store.add(objects.payment_method(number, month, year, cvc=cvc, extra=extra))
    store.card_numbers[pm["id"]] = number
    return pm


def resolve_payment_method(store: Store, pm_id: str, *, param: str = "payment_method") -> Obj:
    """A stored PaymentMethod, or a fresh one for a Stripe test id such as ``pm_card_visa``."""
    number = cards.TEST_PAYMENT_METHODS.get(pm_id)
    if number is not None:
        year = datetime.date.today().year + 2
        return _store_pm(store, number, 12, year, True, {})
    pm = store.find(pm_id)
    if pm is None or pm["object"] != "payment_method":
        raise ApiError(
            400, f"No such PaymentMethod: '{pm_id}'", code="resource_missing", param=param
        )
    return pm
