"""The ``/v1`` routes: parameter schemas, key checks and the handler for each call."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stripe_sim import debits, methods, objects, payment_methods, payments, refunds, saved
from stripe_sim.errors import ApiError, invalid, publishable_key_forbidden
from stripe_sim.objects import Obj
from stripe_sim.params import Schema, merge_metadata, validate
from stripe_sim.schemas import (
    CUSTOMER,
    PAGE,
    PI_COMMON,
    PI_CONFIRM,
    PI_CREATE,
    PM_CREATE,
    PUBLISHABLE_PI_FIELDS,
    STR_LIST,
)
from stripe_sim.state import Store

SECRET = "secret"
PUBLISHABLE = "publishable"

Handler = Callable[..., Any]


@dataclass
class Call:
    store: Store
    key: str  # SECRET or PUBLISHABLE
    params: Obj

    def render_pi(self, pi: Obj) -> Obj:
        if self.key == PUBLISHABLE:
            return {k: pi[k] for k in PUBLISHABLE_PI_FIELDS if k in pi}
        return pi


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    schema: Schema
    access: str  # "secret", "publishable" or "client_secret"


ROUTES: list[Route] = []


def route(
    method: str, path: str, schema: Schema, access: str = "secret"
) -> Callable[[Handler], Handler]:
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, pattern, handler, schema, access))
        return handler

    return register


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for candidate in ROUTES:
        found = candidate.pattern.match(path)
        if found and candidate.method == method:
            return candidate, found.groupdict()
    return None


def dispatch(store: Store, key: str, found: tuple[Route, dict[str, str]], raw: Obj) -> Obj:
    chosen, ids = found
    if key == PUBLISHABLE and chosen.access == "secret":
        raise publishable_key_forbidden()
    params = validate(raw, chosen.schema)
    call = Call(store, key, params)
    if chosen.access == "client_secret":
        _check_client_secret(store, call, ids["intent"])
    result = chosen.handler(call, **ids)
    return store.expand(result, params.get("expand"))


def _check_client_secret(store: Store, call: Call, pi_id: str) -> None:
    kind = "setup_intent" if pi_id.startswith("seti_") else "payment_intent"
    pi = store.get(kind, pi_id, param="intent")
    secret = call.params.get("client_secret")
    if call.key == PUBLISHABLE and secret is None:
        raise publishable_key_forbidden()
    if secret is not None and secret != pi["client_secret"]:
        raise invalid(
            "The client_secret provided does not match the client_secret associated with the "
            + ("SetupIntent." if kind == "setup_intent" else "PaymentIntent."),
            param="client_secret",
        )


# -- customers --------------------------------------------------------------------------------


@route("POST", "/v1/customers", CUSTOMER)
def create_customer(call: Call) -> Obj:
    default = (call.params.get("invoice_settings") or {}).get("default_payment_method")
    if default:
        # A new Customer has no PaymentMethods yet to default to.
        raise saved.not_customers(default, param="invoice_settings[default_payment_method]")
    customer = call.store.add(objects.customer(call.params))
    call.store.emit("customer.created", customer)
    return customer


@route("GET", "/v1/customers/{id}", {"expand": STR_LIST})
def retrieve_customer(call: Call, id: str) -> Obj:
    return call.store.get("customer", id)


@route("POST", "/v1/customers/{id}", CUSTOMER)
def update_customer(call: Call, id: str) -> Obj:
    customer = call.store.get("customer", id)
    params = call.params
    settings = params.get("invoice_settings") or {}
    if "default_payment_method" in settings:
        # Checked before anything changes: a refused update leaves the Customer be.
        saved.check_default(call.store, customer, settings["default_payment_method"])
    previous = {k: customer[k] for k in params if k in customer and k != "expand"}
    if "invoice_settings" in previous:
        previous["invoice_settings"] = dict(customer["invoice_settings"])
    if "metadata" in params:
        customer["metadata"] = merge_metadata(customer["metadata"], params["metadata"])
    for field in ("email", "name", "description", "phone"):
        if field in params:
            customer[field] = params[field]
    if "address" in params:
        customer["address"] = objects.address(params["address"]) if params["address"] else None
    if "preferred_locales" in params:
        customer["preferred_locales"] = params["preferred_locales"]
    if "default_payment_method" in settings:
        customer["invoice_settings"]["default_payment_method"] = settings["default_payment_method"]
    if previous:
        call.store.emit("customer.updated", customer, previous)
    return customer


@route("DELETE", "/v1/customers/{id}", {})
def delete_customer(call: Call, id: str) -> Obj:
    customer = call.store.get("customer", id)
    del call.store.objects["customer"][id]
    call.store.emit("customer.deleted", customer)
    return objects.shaped("deleted_customer", {"id": id, "object": "customer", "deleted": True})


@route("GET", "/v1/customers", PAGE | {"email": "str"})
def list_customers(call: Call) -> Obj:
    items = call.store.all("customer")
    if email := call.params.get("email"):
        items = [c for c in items if c["email"] == email]
    return call.store.page(items, call.params, "/v1/customers")


# -- payment intents --------------------------------------------------------------------------


@route("POST", "/v1/payment_intents", PI_CREATE)
def create_payment_intent(call: Call) -> Obj:
    return payments.create_payment_intent(call.store, call.params, call.render_pi)


@route(
    "GET",
    "/v1/payment_intents/{intent}",
    {"client_secret": "str", "expand": STR_LIST},
    "client_secret",
)
def retrieve_payment_intent(call: Call, intent: str) -> Obj:
    return call.render_pi(call.store.get("payment_intent", intent, param="intent"))


@route("POST", "/v1/payment_intents/{intent}", PI_COMMON)
def update_payment_intent(call: Call, intent: str) -> Obj:
    pi = call.store.get("payment_intent", intent, param="intent")
    return payments.update_payment_intent(call.store, pi, call.params)


@route("POST", "/v1/payment_intents/{intent}/confirm", PI_CONFIRM, "client_secret")
def confirm_payment_intent(call: Call, intent: str) -> Obj:
    pi = call.store.get("payment_intent", intent, param="intent")
    if "receipt_email" in call.params:
        pi["receipt_email"] = call.params["receipt_email"]
    publishable = call.key == PUBLISHABLE
    confirmed = payments.confirm(
        call.store, pi, call.params, call.render_pi, publishable=publishable
    )
    return call.render_pi(confirmed)


@route(
    "POST",
    "/v1/payment_intents/{intent}/verify_microdeposits",
    {
        "amounts": ("list", "int"),
        "descriptor_code": "str",
        "client_secret": "str",
        "expand": STR_LIST,
    },
    "client_secret",
)
def verify_microdeposits(call: Call, intent: str) -> Obj:
    pi = call.store.get("payment_intent", intent, param="intent")
    return call.render_pi(debits.verify_microdeposits(call.store, pi, call.params))


@route("GET", "/v1/mandates/{id}", {"expand": STR_LIST})
def retrieve_mandate(call: Call, id: str) -> Obj:
    return call.store.get("mandate", id, param="mandate")


@route(
    "POST",
    "/v1/payment_intents/{intent}/cancel",
    {
        "cancellation_reason": (
            "enum",
            ("duplicate", "fraudulent", "requested_by_customer", "abandoned"),
        ),
        "expand": STR_LIST,
    },
)
def cancel_payment_intent(call: Call, intent: str) -> Obj:
    pi = call.store.get("payment_intent", intent, param="intent")
    return payments.cancel(call.store, pi, call.params.get("cancellation_reason"))


@route("GET", "/v1/payment_intents", PAGE | {"customer": "str"})
def list_payment_intents(call: Call) -> Obj:
    items = call.store.all("payment_intent")
    if customer := call.params.get("customer"):
        items = [pi for pi in items if pi["customer"] == customer]
    return call.store.page(items, call.params, "/v1/payment_intents")


# -- payment methods, charges, refunds, disputes ----------------------------------------------


@route("POST", "/v1/payment_methods", PM_CREATE, "publishable")
def create_payment_method(call: Call) -> Obj:
    return payment_methods.create_payment_method(call.store, call.params)


@route("GET", "/v1/payment_methods/{id}", {"expand": STR_LIST})
def retrieve_payment_method(call: Call, id: str) -> Obj:
    if methods.for_test_id(id) is not None:
        return payment_methods.resolve_payment_method(call.store, id)
    return call.store.get("payment_method", id)


@route("GET", "/v1/charges/{id}", {"expand": STR_LIST})
def retrieve_charge(call: Call, id: str) -> Obj:
    return call.store.get("charge", id)


@route("GET", "/v1/charges", PAGE | {"payment_intent": "str", "customer": "str"})
def list_charges(call: Call) -> Obj:
    return call.store.page(
        _filtered(call, "charge", "payment_intent", "customer"), call.params, "/v1/charges"
    )


@route(
    "POST",
    "/v1/refunds",
    {
        "payment_intent": "str",
        "charge": "str",
        "amount": "int",
        "reason": ("enum", ("duplicate", "fraudulent", "requested_by_customer")),
        "metadata": "metadata",
        "expand": STR_LIST,
    },
)
def create_refund(call: Call) -> Obj:
    return refunds.create_refund(call.store, call.params)


@route("GET", "/v1/refunds/{id}", {"expand": STR_LIST})
def retrieve_refund(call: Call, id: str) -> Obj:
    return call.store.get("refund", id)


@route("GET", "/v1/refunds", PAGE | {"payment_intent": "str", "charge": "str"})
def list_refunds(call: Call) -> Obj:
    return call.store.page(
        _filtered(call, "refund", "payment_intent", "charge"), call.params, "/v1/refunds"
    )


@route("GET", "/v1/disputes/{id}", {"expand": STR_LIST})
def retrieve_dispute(call: Call, id: str) -> Obj:
    return call.store.get("dispute", id)


@route("GET", "/v1/disputes", PAGE | {"payment_intent": "str", "charge": "str"})
def list_disputes(call: Call) -> Obj:
    return call.store.page(
        _filtered(call, "dispute", "payment_intent", "charge"), call.params, "/v1/disputes"
    )


@route("GET", "/v1/balance_transactions/{id}", {"expand": STR_LIST})
def retrieve_balance_transaction(call: Call, id: str) -> Obj:
    return call.store.get("balance_transaction", id)


@route("GET", "/v1/account", {"expand": STR_LIST})
def retrieve_account(call: Call) -> Obj:
    """The account this run's keys belong to (``--account``)."""
    return objects.account(call.store.config.account)


def _filtered(call: Call, kind: str, *fields: str) -> list[Obj]:
    items = call.store.all(kind)
    for field in fields:
        if wanted := call.params.get(field):
            items = [item for item in items if item.get(field) == wanted]
    return items


# -- events -----------------------------------------------------------------------------------


@route("GET", "/v1/events/{id}", {"expand": STR_LIST})
def retrieve_event(call: Call, id: str) -> Obj:
    return call.store.event_view(call.store.get("event", id))


@route("GET", "/v1/events", PAGE | {"type": "str", "types": STR_LIST})
def list_events(call: Call) -> Obj:
    pattern, types = call.params.get("type"), call.params.get("types")
    if pattern and types:
        raise ApiError(400, "You may only specify one of these parameters: type, types.")
    items = call.store.all("event")
    if pattern:
        items = [e for e in items if fnmatch.fnmatchcase(e["type"], pattern)]
    if types:
        items = [e for e in items if e["type"] in types]
    listing = call.store.page(items, call.params, "/v1/events")
    listing["data"] = [call.store.event_view(e) for e in listing["data"]]
    return listing
