"""Stripe's minimum and maximum charge amounts per currency."""

from __future__ import annotations

from stripe_sim.errors import ApiError
from stripe_sim.params import format_amount

# Stripe's minimum charge amounts, in minor units (docs.stripe.com/currencies, "Minimum and
# maximum charge amounts"). Other currencies: 50 minor units, roughly Stripe's "$0.50 USD
# equivalent" rule without the exchange rate.
MINIMUM_AMOUNTS = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "huf": 17500,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}


def minimum_amount(currency: str) -> int:
    return MINIMUM_AMOUNTS.get(currency, 50)


def check_amount(amount: int, currency: str) -> None:
    minimum = minimum_amount(currency)
    if amount < minimum:
        # Stripe's wording, e.g. "Amount must be at least $0.50 usd".
        raise ApiError(
            400,
            f"Amount must be at least {format_amount(minimum, currency, code=False)} {currency}",
            code="amount_too_small",
            param="amount",
        )
    if amount > 99_999_999:
        raise ApiError(
            400,
            f"Amount must be no more than {format_amount(99_999_999, currency)}",
            code="amount_too_large",
            param="amount",
        )
