"""The ``/v1`` routes for a Customer's saved PaymentMethods: attach, detach and the lists."""

from __future__ import annotations

from stripe_sim import saved
from stripe_sim.api import Call, route
from stripe_sim.errors import missing_param
from stripe_sim.objects import Obj
from stripe_sim.payment_methods import resolve_payment_method
from stripe_sim.schemas import PAGE, STR_LIST

LIST_FILTERS = PAGE | {
    "type": "str",
    "allow_redisplay": ("enum", ("always", "limited", "unspecified")),
}


@route("POST", "/v1/payment_methods/{id}/attach", {"customer": "str", "expand": STR_LIST})
def attach_payment_method(call: Call, id: str) -> Obj:
    customer = call.params.get("customer")
    if not customer:
        raise missing_param("customer")
    # Stripe's test ids work here too: attaching pm_card_visa attaches a fresh visa.
    pm = resolve_payment_method(call.store, id, param="id")
    return saved.attach(call.store, pm, customer)


@route("POST", "/v1/payment_methods/{id}/detach", {"expand": STR_LIST})
def detach_payment_method(call: Call, id: str) -> Obj:
    return saved.detach(call.store, call.store.get("payment_method", id))


@route("GET", "/v1/customers/{id}/payment_methods", LIST_FILTERS)
def list_customer_payment_methods(call: Call, id: str) -> Obj:
    call.store.get("customer", id)
    return _listing(call, id, f"/v1/customers/{id}/payment_methods")


@route("GET", "/v1/customers/{id}/payment_methods/{pm}", {"expand": STR_LIST})
def retrieve_customer_payment_method(call: Call, id: str, pm: str) -> Obj:
    call.store.get("customer", id)
    found = call.store.get("payment_method", pm)
    if found["customer"] != id:
        raise saved.not_customers(pm, param="payment_method")
    return found


@route("GET", "/v1/payment_methods", LIST_FILTERS | {"customer": "str"})
def list_payment_methods(call: Call) -> Obj:
    customer = call.params.get("customer")
    if customer:
        call.store.get("customer", customer, param="customer")
    return _listing(call, customer, "/v1/payment_methods")


def _listing(call: Call, customer: str | None, url: str) -> Obj:
    items = saved.customer_methods(call.store, customer, call.params.get("type"))
    if redisplay := call.params.get("allow_redisplay"):
        items = [pm for pm in items if pm["allow_redisplay"] == redisplay]
    return call.store.page(items, call.params, url)
