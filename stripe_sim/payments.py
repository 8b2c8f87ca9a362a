"""PaymentIntent life cycle: confirmation outcomes, 3-D Secure, processing and cancellation.

All functions run with ``Store.lock`` held and mutate stored objects in place; events are
emitted in the order Stripe sends them for the same transition.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

from stripe_sim import cards, debits, ledger, methods, objects, saved
from stripe_sim.amounts import check_amount
from stripe_sim.disputes import create_dispute
from stripe_sim.errors import DOC_BASE, ApiError, invalid, unexpected_state
from stripe_sim.objects import Obj
from stripe_sim.params import merge_metadata, require
from stripe_sim.payment_methods import create_payment_method, resolve_payment_method
from stripe_sim.state import Store

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
)
AMOUNT_UPDATABLE = CONFIRMABLE
AUTH_FAILURE_MESSAGE = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
    "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)
REDIRECT_REQUIRED_MESSAGE = (
    "This PaymentIntent is configured to accept payment methods enabled in your Dashboard, some "
    "of which may require a full page redirect to succeed. If you do not want to accept "
    "redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and "
    "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and "
    "Payment Intents. If you do want to accept redirect-based payment methods, set the "
    "`return_url` parameter when confirming the PaymentIntent."
)

Render = Callable[[Obj], Obj]


# -- payment intents --------------------------------------------------------------------------


def create_payment_intent(store: Store, params: Obj, render: Render) -> Obj:
    require(params, "amount", "currency")
    check_amount(params["amount"], params["currency"])
    if params.get("capture_method") not in (None, "automatic", "automatic_async"):
        raise invalid(
            "The simulator only supports capture_method=automatic.", param="capture_method"
        )
    if customer := params.get("customer"):
        store.get("customer", customer, param="customer")
    if params.get("off_session") is not None and not params.get("confirm"):
        raise invalid(
            "The parameter off_session cannot be passed when creating a PaymentIntent unless "
            "confirm is set to true.",
            param="off_session",
        )
    types, automatic = methods.intent_types(params, store.config.payment_methods)
    options = {t: methods.intent_options(t, params) for t in types}
    pm = (
        resolve_payment_method(store, params["payment_method"])
        if params.get("payment_method")
        else None
    )
    if pm is not None and params.get("confirm"):
        # A PaymentMethod Stripe refuses fails the request before any PaymentIntent exists.
        off_session = params.get("off_session") not in (None, "false")
        saved.check_for_intent(store, params, pm, off_session=off_session)
    pi = store.add(
        objects.payment_intent(params, automatic=automatic, types=types, options=options)
    )
    if pm is not None:
        pi["payment_method"] = methods.allowed(pi, pm)["id"]
        pi["status"] = "requires_confirmation"
    store.emit("payment_intent.created", pi)
    if params.get("confirm"):
        fields = (
            "return_url",
            "payment_method_data",
            "mandate_data",
            "mandate",
            "off_session",
            "payment_method_options",
        )
        confirm(store, pi, {k: params[k] for k in fields if k in params}, render)
    return pi


def update_payment_intent(store: Store, pi: Obj, params: Obj) -> Obj:
    for field in ("amount", "currency"):
        if field in params and pi["status"] not in AMOUNT_UPDATABLE:
            raise unexpected_state(
                f"This PaymentIntent's {field} could not be updated because it has a status of "
                f"{pi['status']}. You may only update the {field} of a PaymentIntent with one of "
                "the following statuses: " + ", ".join(AMOUNT_UPDATABLE) + "."
            )
    if params.get("amount") is not None or params.get("currency") is not None:
        check_amount(params.get("amount") or pi["amount"], params.get("currency") or pi["currency"])
    if customer := params.get("customer"):
        store.get("customer", customer, param="customer")
    if "metadata" in params:
        pi["metadata"] = merge_metadata(pi["metadata"], params["metadata"])
    for field in (
        "amount",
        "currency",
        "customer",
        "description",
        "receipt_email",
        "setup_future_usage",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_group",
    ):
        if field in params:
            pi[field] = params[field]
    if pm_id := params.get("payment_method"):
        pi["payment_method"] = methods.allowed(pi, resolve_payment_method(store, pm_id))["id"]
        if pi["status"] in CONFIRMABLE:
            pi["status"] = "requires_confirmation"
            pi["next_action"] = None
    return pi


def confirm(
    store: Store, pi: Obj, params: Obj, render: Render, *, publishable: bool = False
) -> Obj:
    status = pi["status"]
    if status == "succeeded":
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it has already succeeded after "
            "being previously confirmed."
        )
    if status not in CONFIRMABLE:
        raise unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status of {status}. Only "
            "a PaymentIntent with one of the following statuses may be confirmed: "
            + ", ".join(CONFIRMABLE)
            + "."
        )
    return_url = params.get("return_url")
    automatic = pi["automatic_payment_methods"]
    if automatic and automatic.get("allow_redirects") != "never" and not return_url:
        raise invalid(REDIRECT_REQUIRED_MESSAGE)
    if return_url and not urlsplit(return_url).scheme:
        raise invalid("Invalid URL: return_url must be an absolute URL", param="return_url")
    if data := params.get("payment_method_data"):
        pm = create_payment_method(store, data, prefix="payment_method_data")
    elif params.get("payment_method"):
        pm = resolve_payment_method(store, params["payment_method"])
    elif pi["payment_method"]:
        pm = store.get("payment_method", pi["payment_method"])
    else:
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. You "
            "can either update the PaymentIntent with a payment method and then confirm it "
            "again, or confirm it again directly with a payment method."
        )
    method = methods.get(methods.allowed(pi, pm)["type"])
    # "true", or Stripe's finer "one_off" / "recurring": all are off-session.
    off_session = params.get("off_session") not in (None, "false")
    saved.check_for_intent(store, pi, pm, off_session=off_session)
    accepted: Obj | None = None
    mandate: Obj | None = None
    if method.delayed:
        # Checked before anything changes: a refused confirmation leaves the PaymentIntent be.
        methods.check_currency(method, pi["currency"], param="payment_method")
        if off_session and not params.get("mandate_data"):
            mandate = debits.saved_mandate(store, pm, params.get("mandate"))
        if mandate is None:
            accepted = debits.acceptance(store, params.get("mandate_data"), publishable=publishable)
    if "setup_future_usage" in params:
        pi["setup_future_usage"] = params["setup_future_usage"]
    pi.update(payment_method=pm["id"], last_payment_error=None, next_action=None)
    if return_url:
        store.return_urls[pi["id"]] = return_url
    if mandate is not None:
        debits.debit_under(store, pi, pm, mandate)
        return pi
    if accepted is not None:
        debits.confirm(store, pi, pm, accepted, params)
        return pi
    card = cards.card_for(store.pm_keys[pm["id"]])
    if refused := saved.refusal(store, pm, card, off_session=off_session):
        _decline(store, pi, pm, refused, render)
    elif card.outcome == cards.DECLINE:
        _decline(store, pi, pm, cards.decline_for(card), render)
    elif card.outcome == cards.AUTHENTICATE and not off_session:
        _require_action(store, pi, return_url)
    elif card.outcome == cards.PROCESSING:
        _start_processing(store, pi, pm)
    else:
        succeed(store, pi, pm)
        if card.outcome == cards.DISPUTE:
            create_dispute(store, pi, reason="fraudulent")
        elif card.outcome == cards.DISPUTE_INQUIRY:
            create_dispute(store, pi, reason="fraudulent", status="warning_needs_response")
    return pi


def _charge(store: Store, pi: Obj, pm: Obj, status: str, *, three_d_secure: bool = False) -> Obj:
    details = methods.get(pm["type"]).charge_details(pm, pi, None, three_d_secure)
    return store.add(ledger.charge(pi, pm, status, details, base_url=store.request.base_url))


def succeed(store: Store, pi: Obj, pm: Obj, *, three_d_secure: bool = False) -> None:
    ch = _charge(store, pi, pm, "succeeded", three_d_secure=three_d_secure)
    _settle(store, pi, ch)


def _settle(store: Store, pi: Obj, ch: Obj) -> None:
    txn = store.add(
        ledger.balance_transaction(ch, amount=ch["amount"], kind="charge", source=ch["id"])
    )
    ch.update(
        status="succeeded",
        paid=True,
        captured=True,
        amount_captured=ch["amount"],
        balance_transaction=txn["id"],
        outcome=ledger.outcome(None),
    )
    pi.update(
        status="succeeded",
        amount_received=pi["amount"],
        latest_charge=ch["id"],
        next_action=None,
        last_payment_error=None,
        processing=None,
    )
    saved.after_payment(store, pi, store.get("payment_method", ch["payment_method"]))
    store.emit("charge.succeeded", ch)
    store.emit("payment_intent.succeeded", pi)


def _decline(store: Store, pi: Obj, pm: Obj, decline: cards.Decline, render: Render) -> None:
    ch = _charge(store, pi, pm, "failed")
    ch.update(
        failure_code=decline.code,
        failure_message=decline.message,
        outcome=ledger.outcome(decline),
    )
    error = ApiError(
        402,
        decline.message,
        type="card_error",
        code=decline.code,
        decline_code=decline.decline_code,
        param=decline.param,
        extra={"charge": ch["id"], "payment_method": pm},
    )
    pi.update(
        status="requires_payment_method",
        last_payment_error=error.body()["error"],
        latest_charge=ch["id"],
        payment_method=None,
    )
    store.emit("charge.failed", ch)
    store.emit("payment_intent.payment_failed", pi)
    error.extra["payment_intent"] = render(pi)
    raise error


def three_d_secure_url(store: Store, pi: Obj) -> str:
    query = urlencode({"client_secret": pi["client_secret"]})
    return f"{store.request.base_url}/_sim/3ds/{pi['id']}?{query}"


def _require_action(store: Store, pi: Obj, return_url: str | None) -> None:
    url = three_d_secure_url(store, pi)
    if return_url:
        next_action: Obj = {
            "redirect_to_url": {"return_url": return_url, "url": url},
            "type": "redirect_to_url",
        }
    else:
        # Without a return_url Stripe hands the challenge to Stripe.js instead of redirecting.
        next_action = {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": url},
        }
    pi.update(status="requires_action", next_action=next_action)
    store.emit("payment_intent.requires_action", pi)


def authenticate(store: Store, pi: Obj, *, success: bool) -> str:
    """Finish the 3-D Secure challenge; returns the URL to send the browser back to."""
    if pi["status"] != "requires_action":
        raise unexpected_state(
            f"This PaymentIntent has a status of {pi['status']} and is not awaiting authentication."
        )
    pm = store.get("payment_method", pi["payment_method"])
    if success:
        succeed(store, pi, pm, three_d_secure=True)
    else:
        pi.update(
            status="requires_payment_method",
            next_action=None,
            payment_method=None,
            last_payment_error={
                "code": "payment_intent_authentication_failure",
                "doc_url": DOC_BASE + "payment-intent-authentication-failure",
                "message": AUTH_FAILURE_MESSAGE,
                "payment_method": pm,
                "type": "invalid_request_error",
            },
        )
        store.emit("payment_intent.payment_failed", pi)
    return_url = store.return_urls.get(pi["id"])
    if not return_url:
        return ""
    return add_query(
        return_url,
        payment_intent=pi["id"],
        payment_intent_client_secret=pi["client_secret"],
        redirect_status="succeeded" if success else "failed",
    )


def add_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))


def _start_processing(store: Store, pi: Obj, pm: Obj) -> None:
    ch = _charge(store, pi, pm, "pending")
    # Only a card payment carries a `processing` hash (Stripe's PaymentIntent.processing).
    pi.update(status="processing", latest_charge=ch["id"], processing={"type": "card"})
    store.emit("payment_intent.processing", pi)
    store.later(store.config.processing_delay, lambda: finish_processing(store, pi["id"]))


def finish_processing(store: Store, pi_id: str) -> None:
    pi = store.objects["payment_intent"].get(pi_id)
    if pi is None or pi["status"] != "processing":
        return
    _settle(store, pi, store.get("charge", pi["latest_charge"]))


def force_succeed(store: Store, pi: Obj) -> Obj:
    """What ``/_sim/payment_intents/<id>/succeed`` does: finish the payment whatever it waits on."""
    status = pi["status"]
    action = (pi["next_action"] or {}).get("type")
    if status == "processing" and store.mandates.get(pi["id"]):
        debits.settle(store, pi["id"], fail=False)
    elif status == "processing":
        finish_processing(store, pi["id"])
    elif action == "verify_with_microdeposits":
        debits.verify_microdeposits(store, pi, {"descriptor_code": debits.DESCRIPTOR_CODE})
        debits.settle(store, pi["id"], fail=False)
    elif status == "requires_action":
        authenticate(store, pi, success=True)
    elif status in ("requires_payment_method", "requires_confirmation"):
        pm_id = pi["payment_method"]
        pm = (
            store.get("payment_method", pm_id)
            if pm_id
            else resolve_payment_method(store, "pm_card_visa")
        )
        pi["payment_method"] = pm["id"]
        succeed(store, pi, pm)
    else:
        raise unexpected_state(f"This PaymentIntent has a status of {status} and cannot succeed.")
    return pi


def cancel(store: Store, pi: Obj, reason: str | None) -> Obj:
    processing = debits.cancelable_while_processing(store, pi)
    if pi["status"] not in CANCELABLE and not processing:
        raise unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. "
            "Only a PaymentIntent with one of the following statuses may be canceled: "
            + ", ".join(CANCELABLE)
            + "."
        )
    if processing:
        debits.cancel_processing(store, pi)
    pi.update(
        status="canceled",
        canceled_at=objects.now(),
        cancellation_reason=reason,
        next_action=None,
    )
    store.emit("payment_intent.canceled", pi)
    return pi
