"""SetupIntents: saving a PaymentMethod for later without a payment, with 3-D Secure when the
card asks for it (Stripe's "set up future payments" guide).

Confirming checks the card with its issuer: a declining or expired card fails
(``setup_intent.setup_failed``), a card that authenticates goes ``requires_action`` first, and on
success the PaymentMethod is attached to the SetupIntent's Customer
(``payment_method.attached``, ``setup_intent.succeeded``); with ``usage=off_session`` the card
then counts as set up for off-session charges. A bank account is saved under a multi-use
Mandate built from ``mandate_data``.
"""

from __future__ import annotations

from stripe_sim import cards, debits, methods, objects, saved
from stripe_sim.errors import ApiError, invalid, unexpected_state
from stripe_sim.objects import Obj
from stripe_sim.payment_methods import create_payment_method, resolve_payment_method
from stripe_sim.payments import AUTH_FAILURE_MESSAGE, add_query, three_d_secure_url
from stripe_sim.state import Store

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CODE = "setup_intent_unexpected_state"


def create(store: Store, params: Obj) -> Obj:
    if customer := params.get("customer"):
        store.get("customer", customer, param="customer")
    types = params.get("payment_method_types") or ["card"]
    for i, type_ in enumerate(types):
        methods.get(type_, param=f"payment_method_types[{i}]")
    seti_id = objects.new_id("seti")
    seti = store.add(
        objects.shaped(
            "setup_intent",
            {
                "id": seti_id,
                "object": "setup_intent",
                "automatic_payment_methods": None,
                "client_secret": f"{seti_id}_secret_{objects.new_id('x', 25)[2:]}",
                "created": objects.now(),
                "customer": params.get("customer"),
                "description": params.get("description"),
                "flow_directions": None,
                "livemode": False,
                "metadata": params.get("metadata") or {},
                "payment_method_options": {},
                "payment_method_types": list(dict.fromkeys(types)),
                "status": "requires_payment_method",
                "usage": params.get("usage") or "off_session",
            },
        )
    )
    if pm_id := params.get("payment_method"):
        seti["payment_method"] = _allowed(seti, resolve_payment_method(store, pm_id))["id"]
        seti["status"] = "requires_confirmation"
    store.emit("setup_intent.created", seti)
    if params.get("confirm"):
        fields = ("return_url", "payment_method_data", "mandate_data")
        confirm(store, seti, {k: params[k] for k in fields if k in params})
    return seti


def _allowed(seti: Obj, pm: Obj) -> Obj:
    if pm["type"] not in seti["payment_method_types"]:
        raise invalid(
            f"The PaymentMethod provided ({pm['type']}) is not allowed for this SetupIntent. "
            "Please attach a PaymentMethod of one of the following types: "
            + ", ".join(seti["payment_method_types"])
            + ".",
            code="setup_intent_incompatible_payment_method",
            param="payment_method",
        )
    return pm


def confirm(store: Store, seti: Obj, params: Obj, *, publishable: bool = False) -> Obj:
    if seti["status"] not in CONFIRMABLE:
        raise unexpected_state(
            f"You cannot confirm this SetupIntent because it has a status of {seti['status']}.",
            code=CODE,
        )
    if data := params.get("payment_method_data"):
        pm = create_payment_method(store, data, prefix="payment_method_data")
    elif params.get("payment_method"):
        pm = resolve_payment_method(store, params["payment_method"])
    elif seti["payment_method"]:
        pm = store.get("payment_method", seti["payment_method"])
    else:
        raise unexpected_state(
            "You cannot confirm this SetupIntent because it's missing a payment method. Update "
            "the SetupIntent with a payment method and then confirm it again.",
            code=CODE,
        )
    method = methods.get(_allowed(seti, pm)["type"])
    saved.check_for_intent(store, seti, pm, off_session=False)
    accepted = None
    if method.delayed:
        accepted = debits.acceptance(store, params.get("mandate_data"), publishable=publishable)
    seti.update(payment_method=pm["id"], last_setup_error=None, next_action=None)
    if params.get("return_url"):
        store.return_urls[seti["id"]] = params["return_url"]
    if accepted is not None:
        mandate = store.add(
            objects.mandate(pm, accepted, reference=methods.mandate_reference(), status="active")
        )
        seti["mandate"] = mandate["id"]
        store.pm_mandates[pm["id"]] = mandate["id"]
        _succeed(store, seti, pm)
        return seti
    card = cards.card_for(store.pm_keys[pm["id"]])
    if saved.expired(pm):
        _fail(store, seti, pm, cards.DECLINES["expired_card"])
    elif card.outcome == cards.DECLINE and not card.attaches:
        _fail(store, seti, pm, cards.decline_for(card))
    elif card.outcome == cards.AUTHENTICATE:
        url = three_d_secure_url(store, seti)
        return_url = params.get("return_url")
        seti["next_action"] = (
            {"redirect_to_url": {"return_url": return_url, "url": url}, "type": "redirect_to_url"}
            if return_url
            else {
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": url},
            }
        )
        seti["status"] = "requires_action"
        store.emit("setup_intent.requires_action", seti)
    else:
        _succeed(store, seti, pm)
    return seti


def _succeed(store: Store, seti: Obj, pm: Obj) -> None:
    if seti["customer"] and pm["customer"] is None:
        pm["customer"] = seti["customer"]
        store.emit("payment_method.attached", pm)
    if seti["usage"] == "off_session":
        store.off_session_ready.add(pm["id"])
    seti.update(status="succeeded", next_action=None)
    store.emit("setup_intent.succeeded", seti)


def _fail(store: Store, seti: Obj, pm: Obj, decline: cards.Decline) -> None:
    error = ApiError(
        402,
        decline.message,
        type="card_error",
        code=decline.code,
        decline_code=decline.decline_code,
        param=decline.param,
        extra={"payment_method": pm},
    )
    seti.update(
        status="requires_payment_method",
        last_setup_error=error.body()["error"],
        payment_method=None,
    )
    store.emit("setup_intent.setup_failed", seti)
    error.extra["setup_intent"] = seti
    raise error


def authenticate(store: Store, seti: Obj, *, success: bool) -> str:
    """Finish the 3-D Secure challenge; returns the URL to send the browser back to."""
    if seti["status"] != "requires_action":
        raise unexpected_state(
            f"This SetupIntent has a status of {seti['status']} and is not awaiting "
            "authentication.",
            code=CODE,
        )
    pm = store.get("payment_method", seti["payment_method"])
    if success:
        _succeed(store, seti, pm)
    else:
        seti.update(
            status="requires_payment_method",
            next_action=None,
            payment_method=None,
            last_setup_error={
                "code": "setup_intent_authentication_failure",
                "doc_url": "https://stripe.com/docs/error-codes/setup-intent-authentication-failure",
                "message": AUTH_FAILURE_MESSAGE.replace("PaymentIntent", "SetupIntent"),
                "payment_method": pm,
                "type": "invalid_request_error",
            },
        )
        store.emit("setup_intent.setup_failed", seti)
    return_url = store.return_urls.get(seti["id"])
    if not return_url:
        return ""
    return add_query(
        return_url,
        setup_intent=seti["id"],
        setup_intent_client_secret=seti["client_secret"],
        redirect_status="succeeded" if success else "failed",
    )


def cancel(store: Store, seti: Obj, reason: str | None) -> Obj:
    if seti["status"] not in CONFIRMABLE:
        raise unexpected_state(
            f"You cannot cancel this SetupIntent because it has a status of {seti['status']}.",
            code=CODE,
        )
    seti.update(status="canceled", cancellation_reason=reason, next_action=None)
    store.emit("setup_intent.canceled", seti)
    return seti
