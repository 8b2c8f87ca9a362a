"""PaymentMethods of every registered type, created from their details or from Stripe's test
ids (``pm_card_visa``, ``pm_usBankAccount_success``, ...)."""

from __future__ import annotations

from stripe_sim import methods, objects
from stripe_sim.errors import ApiError, missing_param
from stripe_sim.objects import Obj
from stripe_sim.state import Store


def create_payment_method(store: Store, params: Obj, *, prefix: str = "") -> Obj:
    """``prefix`` names the hash the parameters came in (``payment_method_data``)."""
    if not params.get("type"):
        raise missing_param(_param(prefix, "type"))
    method = methods.get(params["type"], param=_param(prefix, "type"))
    for other in methods.REGISTRY:
        if other != method.type and params.get(other) is not None:
            raise ApiError(
                400,
                f"Received {other} data but the type is {method.type}.",
                param=_param(prefix, other),
            )
    details = params.get(method.type)
    if not details:
        raise missing_param(_param(prefix, method.type))
    billing = params.get("billing_details") or {}
    for name in method.required_billing:
        if not billing.get(name):
            raise missing_param(_param(prefix, f"billing_details[{name}]"))
    type_hash, key = method.build(details)
    return _store_pm(store, method, type_hash, key, params)


def _param(prefix: str, name: str) -> str:
    if not prefix:
        return name
    head, bracket, tail = name.partition("[")
    return f"{prefix}[{head}]" + (f"[{tail}" if bracket else "")


def _store_pm(store: Store, method: methods.Method, details: Obj, key: str, extra: Obj) -> Obj:
    pm = store.add(objects.payment_method(method.type, details, extra))
    store.pm_keys[pm["id"]] = key
    return pm


def resolve_payment_method(store: Store, pm_id: str, *, param: str = "payment_method") -> Obj:
    """A stored PaymentMethod, or a fresh one for a Stripe test id such as ``pm_card_visa``."""
    test = methods.for_test_id(pm_id)
    if test is not None:
        method, key = test
        details, key = method.from_key(key)
        billing = {"name": "Jenny Rosen", "email": "jenny@example.com"} if method.delayed else {}
        pm = _store_pm(store, method, details, key, {"billing_details": billing})
        # Stripe's test bank PaymentMethods come instantly verified.
        store.verified.add(pm["id"])
        return pm
    pm = store.find(pm_id)
    if pm is None or pm["object"] != "payment_method":
        raise ApiError(
            400, f"No such PaymentMethod: '{pm_id}'", code="resource_missing", param=param
        )
    return pm


def key_of(store: Store, pm: Obj) -> str:
    return store.pm_keys[pm["id"]]
