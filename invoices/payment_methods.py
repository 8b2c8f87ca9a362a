"""How a payment was made: the type Stripe reports (or offline) and what to call it.

Stripe describes the money behind a charge in `payment_method_details`: a
`type` (`card`, `us_bank_account`, `sepa_debit`, ...) and an object of that
name. The portal keeps the type and the few details a person recognises
(brand or bank, last 4, expiry, country) on the `Payment`, and every receipt,
email, PDF, staff page and activity line names the payment through `label()`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext, pgettext_lazy

# What is kept of each type's details (Stripe's own field names).
KEPT_DETAILS = ("brand", "last4", "exp_month", "exp_year", "bank_name", "country", "bank_code")


class MethodType(models.TextChoices):
    UNKNOWN = "", "Not yet known"
    CARD = "card", pgettext_lazy("payment method", "Card")
    US_BANK_ACCOUNT = "us_bank_account", "US bank account"
    SEPA_DEBIT = "sepa_debit", "SEPA Direct Debit"
    OFFLINE = "offline", "Recorded by staff"


# Bank debits and the one currency each takes; a card is offered in every currency.
DEBIT_CURRENCIES = {"us_bank_account": "USD", "sepa_debit": "EUR"}
# Business days until a debit usually settles (Stripe: ACH up to 4, SEPA up to 5).
SETTLEMENT_DAYS = {"us_bank_account": 4, "sepa_debit": 5}


def offered(currency: str, **debits: bool) -> list[str]:
    """`card`, then each debit switched on whose currency this is."""
    currency = currency.upper()
    return ["card"] + [
        kind for kind, on in debits.items() if on and DEBIT_CURRENCIES.get(kind) == currency
    ]


def is_debit(kind: str) -> bool:
    return kind in DEBIT_CURRENCIES


def expected_settlement(kind: str, since: date) -> date:
    """`since` plus the method's business days (weekends skipped; bank holidays are not)."""
    day, left = since, SETTLEMENT_DAYS.get(kind, 4)
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


# Why a debit failed, in plain words for the customer (Stripe's failure codes).
DEBIT_FAILURES = {
    "insufficient_funds": gettext_noop("There was not enough money in the account."),
    "account_closed": gettext_noop("The bank account has been closed."),
    "no_account": gettext_noop("Your bank could not find the account."),
    "debit_not_authorized": gettext_noop("Your bank says the debit was not authorised."),
}
DEBIT_FAILED_OTHERWISE = gettext_noop("Your bank could not process the debit.")


def debit_failure_reason(code: str) -> str:
    """The reason in English; templates translate it with `{% translate reason %}`."""
    return DEBIT_FAILURES.get(code, DEBIT_FAILED_OTHERWISE)


def from_charge(charge: Any) -> tuple[str, dict[str, Any]]:
    """(type, details) from a Charge object or dict; ("", {}) when it says nothing."""
    if not charge or isinstance(charge, str):
        return "", {}
    method = charge.get("payment_method_details") or {}
    kind = method.get("type") or ""
    if not isinstance(kind, str) or kind not in MethodType.values:
        return "", {}
    details = method.get(kind) or {}
    kept = {key: details.get(key) for key in KEPT_DETAILS if details.get(key) not in (None, "")}
    return kind, {key: value for key, value in kept.items() if isinstance(value, str | int)}


def _masked(name: str, last4: Any) -> str:
    return f"{name} •••• {last4}" if last4 else name


def stored(payment: Any) -> tuple[str, dict[str, Any]]:
    """(type, details) of a payment, also for rows written before the type was kept:
    offline ones say so, card ones carry their brand and last 4 in the card columns."""
    if payment.method_type:
        return payment.method_type, payment.method_details or {}
    if payment.method != "card":
        return MethodType.OFFLINE, {}
    if payment.card_last4:
        return MethodType.CARD, {"brand": payment.card_brand, "last4": payment.card_last4}
    return MethodType.UNKNOWN, {}


def label(payment: Any) -> str:
    """`Visa •••• 4242`, `Chase •••• 6789`, `SEPA DE •••• 3000`, `Bank transfer (ref 12)`.

    Rendered in the active language (receipts are in the customer's).
    """
    kind, details = stored(payment)
    if kind == MethodType.CARD:
        brand = str(details.get("brand") or "").replace("_", " ").title()
        return _masked(brand or pgettext("payment method", "Card"), details.get("last4"))
    if kind == MethodType.US_BANK_ACCOUNT:
        bank = str(details.get("bank_name") or "") or pgettext("payment method", "Bank account")
        return _masked(bank, details.get("last4"))
    if kind == MethodType.SEPA_DEBIT:
        return _masked(f"SEPA {details.get('country') or ''}".strip(), details.get("last4"))
    name = payment.get_method_display()
    if not payment.reference:
        return name
    return _("%(method)s (ref %(reference)s)") % {"method": name, "reference": payment.reference}
