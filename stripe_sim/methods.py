"""The payment method registry: for each PaymentMethod type the simulator knows, its accepted
parameters, the PaymentMethod's type hash, its test numbers and the charge's
``payment_method_details``.

Everything that differs between a card, a US bank account and a SEPA account is here; the
PaymentIntent life cycle (``payments``, ``debits``) asks the registry instead of naming a type.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from stripe_sim import banks, cards, objects
from stripe_sim.errors import ApiError, invalid, missing_param
from stripe_sim.ledger import charge_card_details
from stripe_sim.objects import Obj
from stripe_sim.params import Schema

# (type hash, the key its outcome is looked up by: card number, account number or IBAN)
Built = tuple[Obj, str]


@dataclass(frozen=True)
class Method:
    type: str
    label: str
    schema: Schema
    build: Callable[[Obj], Built]
    from_key: Callable[[str], Built]
    charge_details: Callable[[Obj, Obj, str | None, bool], Obj]
    test_payment_methods: dict[str, str]
    currencies: frozenset[str] | None = None
    # Bank debits: confirmed with a mandate, `processing` for days, then settled or failed.
    delayed: bool = False
    required_billing: tuple[str, ...] = ()
    options: Schema = field(default_factory=dict)


# -- card --------------------------------------------------------------------------------------


def _card_build(card: Obj) -> Built:
    for name in ("number", "exp_month", "exp_year"):
        if card.get(name) is None:
            raise missing_param(f"card[{name}]")
    number = cards.normalize_number(card["number"])
    year = cards.check_expiry(card["exp_month"], card["exp_year"], today=objects.today())
    cards.check_cvc(card.get("cvc"), cards.brand_of(number))
    return cards.details(number, card["exp_month"], year, cvc=bool(card.get("cvc"))), number


def _card_from_key(number: str) -> Built:
    year = objects.today().year + 2
    return cards.details(number, 12, year, cvc=True), number


def _card_charge(pm: Obj, pi: Obj, mandate: str | None, three_d_secure: bool) -> Obj:
    return charge_card_details(pm, pi["amount"], three_d_secure=three_d_secure)


# -- us_bank_account ---------------------------------------------------------------------------


def _ach_build(params: Obj) -> Built:
    if params.get("financial_connections_account"):
        raise invalid(
            "Financial Connections accounts are not simulated; pass routing_number and "
            "account_number, or use a pm_usBankAccount_* test PaymentMethod.",
            param="us_bank_account[financial_connections_account]",
        )
    for name in ("routing_number", "account_number"):
        if not params.get(name):
            raise missing_param(f"us_bank_account[{name}]")
    routing = banks.check_routing_number(params["routing_number"])
    number = banks.check_account_number(params["account_number"])
    return _ach_details(routing, number, params), number


def _ach_details(routing: str, number: str, params: Obj) -> Obj:
    return {
        "account_holder_type": params.get("account_holder_type") or "individual",
        "account_type": params.get("account_type") or "checking",
        "bank_name": "STRIPE TEST BANK",
        "financial_connections_account": None,
        "fingerprint": banks.fingerprint(routing + number),
        "last4": number[-4:],
        "networks": {"preferred": "ach", "supported": ["ach"]},
        "routing_number": routing,
        "status_details": None,
    }


def _ach_from_key(number: str) -> Built:
    return _ach_details(banks.TEST_ROUTING_NUMBER, number, {}), number


def _ach_charge(pm: Obj, pi: Obj, mandate: str | None, three_d_secure: bool) -> Obj:
    account = pm["us_bank_account"]
    return {
        "type": "us_bank_account",
        "us_bank_account": {
            "account_holder_type": account["account_holder_type"],
            "account_type": account["account_type"],
            "bank_name": account["bank_name"],
            "expected_debit_date": None,
            "fingerprint": account["fingerprint"],
            "last4": account["last4"],
            "mandate": mandate,
            "payment_reference": None,
            "routing_number": account["routing_number"],
        },
    }


# -- sepa_debit --------------------------------------------------------------------------------


def _sepa_build(params: Obj) -> Built:
    if not params.get("iban"):
        raise missing_param("sepa_debit[iban]")
    iban = banks.normalize_iban(params["iban"])
    return _sepa_details(iban), iban


def _sepa_details(iban: str) -> Obj:
    bank_code, branch_code = banks.iban_parts(iban)
    return {
        "bank_code": bank_code,
        "branch_code": branch_code,
        "country": iban[:2],
        "fingerprint": banks.fingerprint(iban),
        "generated_from": {"charge": None, "setup_attempt": None},
        "last4": iban[-4:],
    }


def _sepa_from_key(iban: str) -> Built:
    return _sepa_details(iban), iban


def _sepa_charge(pm: Obj, pi: Obj, mandate: str | None, three_d_secure: bool) -> Obj:
    account = pm["sepa_debit"]
    return {
        "sepa_debit": {
            "bank_code": account["bank_code"],
            "branch_code": account["branch_code"],
            "country": account["country"],
            "expected_debit_date": None,
            "fingerprint": account["fingerprint"],
            "last4": account["last4"],
            "mandate": mandate,
        },
        "type": "sepa_debit",
    }


REGISTRY: dict[str, Method] = {
    method.type: method
    for method in (
        Method(
            type="card",
            label="Card",
            schema={"number": "str", "exp_month": "int", "exp_year": "int", "cvc": "str"},
            build=_card_build,
            from_key=_card_from_key,
            charge_details=_card_charge,
            test_payment_methods=cards.TEST_PAYMENT_METHODS,
        ),
        Method(
            type="us_bank_account",
            label="US bank account",
            schema={
                "account_holder_type": ("enum", ("company", "individual")),
                "account_number": "str",
                "account_type": ("enum", ("checking", "savings")),
                "financial_connections_account": "str",
                "routing_number": "str",
            },
            build=_ach_build,
            from_key=_ach_from_key,
            charge_details=_ach_charge,
            test_payment_methods=banks.ACH_TEST_PAYMENT_METHODS,
            currencies=frozenset({"usd"}),
            delayed=True,
            required_billing=("name",),
            options={
                "verification_method": ("enum", ("automatic", "instant", "microdeposits")),
            },
        ),
        Method(
            type="sepa_debit",
            label="SEPA Direct Debit",
            schema={"iban": "str"},
            build=_sepa_build,
            from_key=_sepa_from_key,
            charge_details=_sepa_charge,
            test_payment_methods=banks.SEPA_TEST_PAYMENT_METHODS,
            currencies=frozenset({"eur"}),
            delayed=True,
            required_billing=("name", "email"),
        ),
    )
}


def get(type_: str, *, param: str = "type") -> Method:
    method = REGISTRY.get(type_)
    if method is None:
        raise invalid(
            f"Invalid {param}: the simulator supports " + ", ".join(REGISTRY) + f", not {type_}",
            param=param,
        )
    return method


def for_test_id(pm_id: str) -> tuple[Method, str] | None:
    """The method and test key behind a Stripe test PaymentMethod id such as ``pm_card_visa``."""
    for method in REGISTRY.values():
        if pm_id in method.test_payment_methods:
            return method, method.test_payment_methods[pm_id]
    return None


def check_currency(method: Method, currency: str, *, param: str) -> None:
    if method.currencies is not None and currency not in method.currencies:
        raise ApiError(
            400,
            f"The currency provided ({currency}) is invalid. Payments with {method.type} "
            "support the following currencies: " + ", ".join(sorted(method.currencies)) + ".",
            code="payment_intent_invalid_parameter",
            param=param,
        )


def intent_types(params: Obj, enabled_types: list[str]) -> tuple[list[str], Obj | None]:
    """The PaymentIntent's types: the ones asked for, each checked against the currency; or,
    with automatic payment methods, those of ``enabled_types`` (the simulator's stand-in for
    the Dashboard's settings) that can take the currency, as Stripe picks them."""
    apm = params.get("automatic_payment_methods")
    types = params.get("payment_method_types")
    if apm is not None and types is not None:
        raise invalid(
            "You may only specify one of these parameters: automatic_payment_methods, "
            "payment_method_types."
        )
    currency = params["currency"]
    if types is not None:
        for i, type_ in enumerate(types):
            method = get(type_, param=f"payment_method_types[{i}]")
            check_currency(method, currency, param="payment_method_types")
        return list(dict.fromkeys(types)), None
    if apm is not None and apm.get("enabled") is None:
        raise missing_param("automatic_payment_methods[enabled]")
    enabled = [
        t
        for t in enabled_types
        if REGISTRY[t].currencies is None or currency in REGISTRY[t].currencies
    ]
    if apm is not None and not apm.get("enabled"):
        return enabled, None
    automatic: Obj = {"enabled": True}
    if apm and apm.get("allow_redirects"):
        automatic["allow_redirects"] = apm["allow_redirects"]
    return enabled, automatic


def intent_options(type_: str, params: Obj) -> Obj:
    given = (params.get("payment_method_options") or {}).get(type_) or {}
    if type_ == "card":
        return {
            "installments": None,
            "mandate_options": None,
            "network": None,
            "request_three_d_secure": "automatic",
        }
    if type_ == "us_bank_account":
        return {
            "mandate_options": {},
            "verification_method": given.get("verification_method") or "automatic",
        }
    return {}


def allowed(pi: Obj, pm: Obj) -> Obj:
    if pm["type"] not in pi["payment_method_types"]:
        types = ", ".join(pi["payment_method_types"])
        raise invalid(
            f"The PaymentMethod provided ({pm['type']}) is not allowed for this PaymentIntent. "
            f"Please attach a PaymentMethod of one of the following types: {types}. "
            "Alternatively, update the allowed payment_method_types for this PaymentIntent to "
            f'include "{pm["type"]}".',
            code="payment_intent_incompatible_payment_method",
            param="payment_method",
        )
    return pm


def mandate_reference() -> str:
    return secrets.token_hex(8).upper()
