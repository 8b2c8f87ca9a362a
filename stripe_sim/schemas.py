"""The parameters each ``/v1`` call accepts (see ``params.validate``), after Stripe's API and
the SDK's ``stripe/params``; anything else is ``parameter_unknown``."""

from __future__ import annotations

from stripe_sim import methods
from stripe_sim.params import Schema

STR_LIST = ("list", "str")
ADDRESS = dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"), "str")
PAGE: Schema = {"limit": "int", "starting_after": "str", "ending_before": "str", "expand": STR_LIST}
BILLING = {"address": ADDRESS, "email": "str", "name": "str", "phone": "str"}
PM_CREATE: Schema = {
    "type": "str",
    **{method.type: method.schema for method in methods.REGISTRY.values()},
    "billing_details": BILLING,
    "metadata": "metadata",
    "expand": STR_LIST,
}
CUSTOMER: Schema = {
    "email": "str",
    "name": "str",
    "description": "str",
    "phone": "str",
    "metadata": "metadata",
    "address": ADDRESS,
    "preferred_locales": STR_LIST,
    "invoice_settings": {"default_payment_method": "str"},
    "expand": STR_LIST,
}
PI_COMMON: Schema = {
    "amount": "int",
    "currency": "currency",
    "customer": "str",
    "metadata": "metadata",
    "description": "str",
    "receipt_email": "str",
    "payment_method": "str",
    "setup_future_usage": ("enum", ("on_session", "off_session"), "nullable"),
    "statement_descriptor": "str",
    "statement_descriptor_suffix": "str",
    "transfer_group": "str",
    "expand": STR_LIST,
}
PM_DATA: Schema = {k: v for k, v in PM_CREATE.items() if k != "expand"}
MANDATE_DATA: Schema = {
    "customer_acceptance": {
        "accepted_at": "int",
        "offline": {},
        "online": {"ip_address": "str", "user_agent": "str", "infer_from_client": "bool"},
        "type": ("enum", ("offline", "online")),
    }
}
PM_OPTIONS: Schema = {
    method.type: method.options for method in methods.REGISTRY.values() if method.options
}
# Off-session: true, or Stripe's finer one_off / recurring.
OFF_SESSION = ("enum", ("true", "false", "one_off", "recurring"))
PI_CREATE: Schema = PI_COMMON | {
    "automatic_payment_methods": {
        "enabled": "bool",
        "allow_redirects": ("enum", ("always", "never")),
    },
    "payment_method_types": STR_LIST,
    "payment_method_data": PM_DATA,
    "payment_method_options": PM_OPTIONS,
    "mandate_data": MANDATE_DATA,
    "mandate": "str",
    "off_session": OFF_SESSION,
    "confirm": "bool",
    "return_url": "str",
    "capture_method": ("enum", ("automatic", "automatic_async", "manual")),
}
PI_CONFIRM: Schema = {
    "payment_method": "str",
    "payment_method_data": PM_DATA,
    "payment_method_options": PM_OPTIONS,
    "mandate_data": MANDATE_DATA,
    "mandate": "str",
    "off_session": OFF_SESSION,
    "setup_future_usage": PI_COMMON["setup_future_usage"],
    "return_url": "str",
    "receipt_email": "str",
    "client_secret": "str",
    "expand": STR_LIST,
}
SETI_CONFIRM: Schema = {
    "payment_method": "str",
    "payment_method_data": PM_DATA,
    "mandate_data": MANDATE_DATA,
    "return_url": "str",
    "client_secret": "str",
    "expand": STR_LIST,
}
SETI_CREATE: Schema = {k: v for k, v in SETI_CONFIRM.items() if k != "client_secret"} | {
    "customer": "str",
    "description": "str",
    "metadata": "metadata",
    "payment_method_types": STR_LIST,
    "usage": ("enum", ("off_session", "on_session")),
    "confirm": "bool",
}
# Stripe.js may only see these PaymentIntent fields when it authenticates with a publishable key.
PUBLISHABLE_PI_FIELDS = (
    "id",
    "object",
    "amount",
    "automatic_payment_methods",
    "canceled_at",
    "cancellation_reason",
    "capture_method",
    "client_secret",
    "confirmation_method",
    "created",
    "currency",
    "description",
    "last_payment_error",
    "livemode",
    "next_action",
    "payment_method",
    "payment_method_configuration_details",
    "payment_method_types",
    "processing",
    "receipt_email",
    "setup_future_usage",
    "shipping",
    "source",
    "status",
)
