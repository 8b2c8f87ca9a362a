"""Stripe's test bank accounts for ACH Direct Debit (``us_bank_account``) and SEPA Direct Debit
(``sepa_debit``), how their numbers are checked, and what a debit from each one does.

The numbers mirror Stripe's "Test your integration" tables for both methods (see the README).
A debit is ``processing`` after confirmation and settles ``settle_delay`` simulator seconds
later; the "after at least three minutes" IBANs wait three more simulated minutes; ACH account
000000000009 stays ``processing`` until it is canceled or settled by hand. A refund of a debit
is ``pending`` for ``settle_delay`` simulator seconds, then ``succeeded``; the simulator-only
accounts marked ``refund_fails`` make it ``failed`` instead (Stripe documents no such account).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from stripe_sim.errors import ApiError, invalid

TEST_ROUTING_NUMBER = "110000000"
ACH_SUCCESS = "000123456789"
SEPA_SUCCESS = "AT321904300235473204"
SEPA_FAILURE = "AT861904300235473202"
ACH_PROCESSING = "000000000009"
ACH_REFUND_FAILS = "000999999999"  # simulator only
SEPA_REFUND_FAILS = "DE35370400440532013099"  # simulator only
LATE = 180  # "after at least three minutes"


@dataclass(frozen=True)
class Failure:
    """Why a debit failed: the charge's ``failure_code`` and ``failure_message``; a failure
    that ends the mandate (a closed or unknown account, a revoked authorisation) makes it
    ``inactive``."""

    code: str
    message: str
    ends_mandate: bool = False


@dataclass(frozen=True)
class Debit:
    failure: Failure | None = None
    extra_delay: float = 0
    dispute: bool = False
    stays_processing: bool = False
    refund_fails: bool = False


ACCOUNT_CLOSED = Failure("account_closed", "The customer's bank account has been closed.", True)
NO_ACCOUNT = Failure("no_account", "The customer's bank account could not be located.", True)
INSUFFICIENT_FUNDS = Failure(
    "insufficient_funds", "The customer's account has insufficient funds to cover this payment."
)
DEBIT_NOT_AUTHORIZED = Failure(
    "debit_not_authorized",
    "The customer has notified their bank that this payment was unauthorized.",
    True,
)
GENERIC = Failure("generic_could_not_process", "This payment could not be processed.")

ACH_ACCOUNTS: dict[str, Debit] = {
    ACH_SUCCESS: Debit(),
    "000111111113": Debit(ACCOUNT_CLOSED),
    "000111111116": Debit(NO_ACCOUNT),
    "000222222227": Debit(INSUFFICIENT_FUNDS),
    "000333333335": Debit(DEBIT_NOT_AUTHORIZED),
    "000555555559": Debit(dispute=True),
    ACH_PROCESSING: Debit(stays_processing=True),
    ACH_REFUND_FAILS: Debit(refund_fails=True),
}
ACH_TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_usBankAccount_success": ACH_SUCCESS,
    "pm_usBankAccount_accountClosed": "000111111113",
    "pm_usBankAccount_noAccount": "000111111116",
    "pm_usBankAccount_insufficientFunds": "000222222227",
    "pm_usBankAccount_debitNotAuthorized": "000333333335",
    "pm_usBankAccount_dispute": "000555555559",
    "pm_usBankAccount_processing": ACH_PROCESSING,
}

SEPA_IBANS: dict[str, Debit] = {
    "AT611904300234573201": Debit(),
    SEPA_SUCCESS: Debit(extra_delay=LATE),
    SEPA_FAILURE: Debit(GENERIC),
    "AT051904300235473205": Debit(GENERIC, extra_delay=LATE),
    "AT591904300235473203": Debit(dispute=True),
    "DE89370400440532013000": Debit(),
    "DE62370400440532013001": Debit(GENERIC),
    SEPA_REFUND_FAILS: Debit(refund_fails=True),
}
SEPA_TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_sepaDebit_success": "AT611904300234573201",
}


def ach_debit(account_number: str) -> Debit:
    return ACH_ACCOUNTS.get(account_number, Debit())


def sepa_debit(iban: str) -> Debit:
    return SEPA_IBANS.get(iban, Debit())


def debit_for(kind: str, key: str) -> Debit:
    """What a debit from the ``us_bank_account`` or ``sepa_debit`` test account ``key`` does."""
    return ach_debit(key) if kind == "us_bank_account" else sepa_debit(key)


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


# -- ACH ---------------------------------------------------------------------------------------


def check_routing_number(routing: str) -> str:
    """Nine digits with the ABA checksum, as Stripe checks them before any debit."""
    weights = (3, 7, 1) * 3
    if (
        len(routing) != 9
        or not routing.isdigit()
        or sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10
    ):
        raise invalid(
            f"Routing number must have 9 digits and be valid: {routing!r} is not.",
            param="us_bank_account[routing_number]",
            code="routing_number_invalid",
        )
    return routing


def check_account_number(number: str) -> str:
    if not number.isdigit() or not 4 <= len(number) <= 17:
        raise invalid(
            "Account number must be between 4 and 17 digits.",
            param="us_bank_account[account_number]",
            code="account_number_invalid",
        )
    return number


# -- SEPA --------------------------------------------------------------------------------------

# IBAN lengths of the SEPA countries Stripe debits (ISO 13616 registry).
IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
    "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
    "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15,
    "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
}  # fmt: skip


def normalize_iban(raw: str) -> str:
    iban = raw.replace(" ", "").upper()
    country = iban[:2]
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4]) if iban.isalnum() else ""
    if IBAN_LENGTHS.get(country) != len(iban) or not digits or int(digits) % 97 != 1:
        raise ApiError(
            400,
            "The IBAN you provided appears to be invalid. Please check the IBAN and try again.",
            code="invalid_bank_account_iban",
            param="sepa_debit[iban]",
        )
    return iban


def iban_parts(iban: str) -> tuple[str, str]:
    """Bank and branch code, for the countries whose IBAN carries them at fixed places."""
    if iban[:2] == "AT":
        return iban[4:9], ""
    if iban[:2] == "DE":
        return iban[4:12], ""
    return iban[4:8], ""
