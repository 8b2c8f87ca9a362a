"""The ``/v1`` routes for saving PaymentMethods: attach, detach, the lists and SetupIntents."""

from __future__ import annotations

from stripe_sim import saved, setup_intents
from stripe_sim.api import PUBLISHABLE, Call, route
from stripe_sim.errors import missing_param
from stripe_sim.objects import Obj
from stripe_sim.payment_methods import resolve_payment_method
from stripe_sim.schemas import PAGE, SETI_CONFIRM, SETI_CREATE, STR_LIST

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


# -- setup intents ----------------------------------------------------------------------------

# Stripe.js may only see these SetupIntent fields when it authenticates with a publishable key.
PUBLISHABLE_SETI_FIELDS = (
    "id",
    "object",
    "cancellation_reason",
    "client_secret",
    "created",
    "description",
    "last_setup_error",
    "livemode",
    "next_action",
    "payment_method",
    "payment_method_types",
    "status",
    "usage",
)


def _render(call: Call, seti: Obj) -> Obj:
    if call.key == PUBLISHABLE:
        return {k: seti[k] for k in PUBLISHABLE_SETI_FIELDS}
    return seti


@route("POST", "/v1/setup_intents", SETI_CREATE)
def create_setup_intent(call: Call) -> Obj:
    return setup_intents.create(call.store, call.params)


@route(
    "GET",
    "/v1/setup_intents/{intent}",
    {"client_secret": "str", "expand": STR_LIST},
    "client_secret",
)
def retrieve_setup_intent(call: Call, intent: str) -> Obj:
    return _render(call, call.store.get("setup_intent", intent, param="intent"))


@route("POST", "/v1/setup_intents/{intent}/confirm", SETI_CONFIRM, "client_secret")
def confirm_setup_intent(call: Call, intent: str) -> Obj:
    seti = call.store.get("setup_intent", intent, param="intent")
    publishable = call.key == PUBLISHABLE
    return _render(
        call, setup_intents.confirm(call.store, seti, call.params, publishable=publishable)
    )


@route(
    "POST",
    "/v1/setup_intents/{intent}/cancel",
    {
        "cancellation_reason": ("enum", ("abandoned", "duplicate", "requested_by_customer")),
        "expand": STR_LIST,
    },
)
def cancel_setup_intent(call: Call, intent: str) -> Obj:
    seti = call.store.get("setup_intent", intent, param="intent")
    return setup_intents.cancel(call.store, seti, call.params.get("cancellation_reason"))
