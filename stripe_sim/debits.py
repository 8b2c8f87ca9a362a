"""Bank debits (``us_bank_account``, ``sepa_debit``): mandates, microdeposit verification and
the days-long ``processing`` that ends in ``succeeded`` or back in ``requires_payment_method``.

As with Stripe: confirming records the customer's acceptance as a Mandate and leaves the
PaymentIntent ``processing`` with a ``pending`` charge (``payment_intent.processing``,
``charge.pending``); settlement, ``settle_delay`` simulator seconds later, emits
``charge.succeeded`` + ``payment_intent.succeeded`` or ``charge.failed`` +
``payment_intent.payment_failed`` (and ``mandate.updated`` when the failure ends the mandate).
An ACH account entered by hand is verified by microdeposits first
(``next_action.verify_with_microdeposits``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from stripe_sim import banks, ledger, methods, objects, saved
from stripe_sim.disputes import create_dispute
from stripe_sim.errors import ApiError, invalid, missing_param, unexpected_state
from stripe_sim.objects import Obj
from stripe_sim.state import Store

MICRODEPOSIT_AMOUNTS = [32, 45]
DESCRIPTOR_CODE = "SM11AA"
# Stripe allows ten tries for a descriptor code (three for amounts) before it gives up.
ATTEMPTS = 10
ARRIVAL = 2 * 86400  # microdeposits land in one to two business days


def acceptance(store: Store, mandate_data: Obj | None, *, publishable: bool) -> Obj:
    """The ``customer_acceptance`` a bank debit needs, checked as Stripe checks it."""
    accepted = (mandate_data or {}).get("customer_acceptance")
    if not accepted:
        raise missing_param("mandate_data[customer_acceptance]")
    kind = accepted.get("type")
    if kind not in ("online", "offline"):
        raise missing_param("mandate_data[customer_acceptance][type]")
    online = accepted.get("online") or {}
    if kind == "online":
        if online.get("infer_from_client") and publishable:
            # Stripe.js asks Stripe to take these from the browser's own request.
            request = store.request
            online = {"ip_address": request.client_ip, "user_agent": request.user_agent}
        for name in ("ip_address", "user_agent"):
            if not online.get(name):
                raise missing_param(f"mandate_data[customer_acceptance][online][{name}]")
    return {
        "accepted_at": accepted.get("accepted_at") or objects.now(),
        "offline": {} if kind == "offline" else None,
        "online": (
            {"ip_address": online["ip_address"], "user_agent": online["user_agent"]}
            if kind == "online"
            else None
        ),
        "type": kind,
    }


def confirm(store: Store, pi: Obj, pm: Obj, accepted: Obj, params: Obj) -> None:
    """Record the mandate ``accepted`` (see ``acceptance``) and start the debit, or wait for
    microdeposits first."""
    needs_verification = pm["type"] == "us_bank_account" and (
        pm["id"] not in store.verified or _verification_method(pi, params) == "microdeposits"
    )
    mandate = store.add(
        objects.mandate(
            pm,
            accepted,
            reference=methods.mandate_reference(),
            status="pending" if needs_verification else "active",
        )
    )
    store.mandates[pi["id"]] = mandate["id"]
    if needs_verification:
        _await_microdeposits(store, pi)
    else:
        start_processing(store, pi, pm)


def saved_mandate(store: Store, pm: Obj, mandate_id: str | None) -> Obj | None:
    """The active multi-use Mandate an off-session debit of a saved account runs under: the one
    named by ``mandate``, or the one the account was saved with."""
    mandate_id = mandate_id or store.pm_mandates.get(pm["id"])
    if not mandate_id:
        return None
    mandate = store.get("mandate", mandate_id, param="mandate")
    if mandate["payment_method"] != pm["id"]:
        raise invalid(
            f"The mandate {mandate_id} does not belong to the PaymentMethod {pm['id']}.",
            param="mandate",
        )
    if mandate["status"] != "active" or mandate["type"] != "multi_use":
        raise invalid(
            f"The mandate {mandate_id} is {mandate['status']} and cannot be used for a payment.",
            param="mandate",
        )
    return mandate


def debit_under(store: Store, pi: Obj, pm: Obj, mandate: Obj) -> None:
    store.mandates[pi["id"]] = mandate["id"]
    start_processing(store, pi, pm)


def _verification_method(pi: Obj, params: Obj) -> str:
    given = ((params.get("payment_method_options") or {}).get("us_bank_account") or {}).get(
        "verification_method"
    )
    stored = (pi["payment_method_options"].get("us_bank_account") or {}).get("verification_method")
    return given or stored or "automatic"


def _await_microdeposits(store: Store, pi: Obj) -> None:
    store.microdeposits[pi["id"]] = ATTEMPTS
    query = urlencode({"client_secret": pi["client_secret"]})
    pi.update(
        status="requires_action",
        next_action={
            "type": "verify_with_microdeposits",
            "verify_with_microdeposits": {
                "arrival_date": objects.now() + ARRIVAL,
                "hosted_verification_url": (
                    f"{store.request.base_url}/_sim/microdeposits/{pi['id']}?{query}"
                ),
                "microdeposit_type": "descriptor_code",
            },
        },
    )
    store.emit("payment_intent.requires_action", pi)


def verify_microdeposits(store: Store, pi: Obj, params: Obj) -> Obj:
    action = pi["next_action"] or {}
    if pi["status"] != "requires_action" or action.get("type") != "verify_with_microdeposits":
        raise unexpected_state(
            "This PaymentIntent is not awaiting microdeposit verification: its status is "
            f"{pi['status']}."
        )
    amounts, code = params.get("amounts"), params.get("descriptor_code")
    if (amounts is None) == (code is None):
        raise invalid(
            "You must pass either amounts or descriptor_code to verify microdeposits.",
            param="amounts" if amounts is None else "descriptor_code",
        )
    if amounts is not None and len(amounts) != 2:
        raise invalid(
            "Two amounts are required to verify microdeposits.",
            code="payment_method_microdeposit_verification_amounts_invalid",
            param="amounts",
        )
    if amounts == MICRODEPOSIT_AMOUNTS or code == DESCRIPTOR_CODE:
        return _verified(store, pi)
    store.microdeposits[pi["id"]] -= 1
    if store.microdeposits[pi["id"]] <= 0:
        _give_up(store, pi)
        raise invalid(
            "You have exceeded the number of allowed verification attempts.",
            code="payment_method_microdeposit_verification_attempts_exceeded",
        )
    if code is not None:
        raise invalid(
            "The verification code provided does not match the code in the microdeposit.",
            code="payment_method_microdeposit_verification_descriptor_code_mismatch",
            param="descriptor_code",
        )
    raise invalid(
        "The amounts provided do not match the amounts that were sent to the bank account.",
        code="payment_method_microdeposit_verification_amounts_mismatch",
        param="amounts",
    )


def _verified(store: Store, pi: Obj) -> Obj:
    pm = store.get("payment_method", pi["payment_method"])
    store.verified.add(pm["id"])
    store.microdeposits.pop(pi["id"], None)
    mandate = store.get("mandate", store.mandates[pi["id"]])
    mandate["status"] = "active"
    store.emit("mandate.updated", mandate, {"status": "pending"})
    pi["next_action"] = None
    start_processing(store, pi, pm)
    return pi


def _give_up(store: Store, pi: Obj) -> None:
    mandate = store.get("mandate", store.mandates[pi["id"]])
    mandate["status"] = "inactive"
    store.emit("mandate.updated", mandate, {"status": "pending"})
    error = ApiError(
        400,
        "You have exceeded the number of allowed verification attempts.",
        code="payment_method_microdeposit_verification_attempts_exceeded",
    ).body()["error"]
    error["payment_method"] = store.get("payment_method", pi["payment_method"])
    pi.update(
        status="requires_payment_method",
        next_action=None,
        payment_method=None,
        last_payment_error=error,
    )
    store.emit("payment_intent.payment_failed", pi)


def start_processing(store: Store, pi: Obj, pm: Obj) -> None:
    method = methods.get(pm["type"])
    mandate_id = store.mandates.get(pi["id"])
    details = method.charge_details(pm, pi, mandate_id, False)
    ch = store.add(ledger.charge(pi, pm, "pending", details, base_url=store.request.base_url))
    pi.update(status="processing", latest_charge=ch["id"], next_action=None, processing=None)
    store.emit("payment_intent.processing", pi)
    store.emit("charge.pending", ch)
    # Stripe saves a bank account as soon as the debit is under way, not days later.
    saved.after_payment(store, pi, pm)
    debit = _debit(store, pm)
    if debit.stays_processing:
        return  # until canceled, or settled with /_sim/payment_intents/PI/succeed|fail
    delay = store.config.settle_delay + debit.extra_delay
    store.later(delay, lambda: settle(store, pi["id"]))


def _debit(store: Store, pm: Obj) -> banks.Debit:
    return banks.debit_for(pm["type"], store.pm_keys[pm["id"]])


def cancelable_while_processing(store: Store, pi: Obj) -> bool:
    """Stripe cancels a ``processing`` PaymentIntent "in rare cases": an ACH debit not yet sent
    to the bank, which is what the account that stays processing is for."""
    if pi["status"] != "processing" or not pi["latest_charge"]:
        return False
    ch = store.get("charge", pi["latest_charge"])
    pm = store.objects["payment_method"].get(ch["payment_method"] or "")
    return pm is not None and pm["type"] == "us_bank_account" and _debit(store, pm).stays_processing


def cancel_processing(store: Store, pi: Obj) -> None:
    """The debit is never sent: its pending charge fails with the PaymentIntent's cancellation."""
    ch = store.get("charge", pi["latest_charge"])
    ch.update(
        status="failed",
        failure_message="The PaymentIntent was canceled before the debit was sent to the bank.",
        outcome=ledger.bank_outcome("The PaymentIntent was canceled."),
    )
    store.emit("charge.failed", ch)


def settle(store: Store, pi_id: str, *, fail: bool | None = None) -> None:
    """Finish a processing debit as its test account says (or as ``fail`` forces)."""
    pi = store.objects["payment_intent"].get(pi_id)
    if pi is None or pi["status"] != "processing":
        return
    ch = store.get("charge", pi["latest_charge"])
    pm = store.get("payment_method", ch["payment_method"])
    debit = _debit(store, pm)
    failure = debit.failure
    if fail is not None:
        failure = (failure or banks.GENERIC) if fail else None
    if failure is None:
        _succeed(store, pi, ch)
        if debit.dispute and fail is None:
            create_dispute(store, pi, reason="general")
        return
    ch.update(failure_code=failure.code, failure_message=failure.message)
    ch.update(status="failed", outcome=ledger.bank_outcome(failure.message))
    error = {
        "code": failure.code,
        "doc_url": "https://stripe.com/docs/error-codes/" + failure.code.replace("_", "-"),
        "message": failure.message,
        "payment_method": pm,
        "type": "invalid_request_error",
    }
    pi.update(status="requires_payment_method", last_payment_error=error, payment_method=None)
    store.emit("charge.failed", ch)
    store.emit("payment_intent.payment_failed", pi)
    if failure.ends_mandate and (mandate_id := store.mandates.get(pi_id)):
        mandate = store.get("mandate", mandate_id)
        mandate["status"] = "inactive"
        store.emit("mandate.updated", mandate, {"status": "active"})


def _succeed(store: Store, pi: Obj, ch: Obj) -> None:
    txn = store.add(
        ledger.balance_transaction(ch, amount=ch["amount"], kind="charge", source=ch["id"])
    )
    ch.update(
        status="succeeded",
        paid=True,
        captured=True,
        amount_captured=ch["amount"],
        balance_transaction=txn["id"],
        outcome=ledger.bank_outcome(None),
    )
    pi.update(status="succeeded", amount_received=pi["amount"], last_payment_error=None)
    store.emit("charge.succeeded", ch)
    store.emit("payment_intent.succeeded", pi)
