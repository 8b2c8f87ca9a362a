"""Money: integer minor units plus an ISO 4217 code, exactly as Stripe takes it.

The one rounding rule (used by `compute_totals` and nowhere else):

1. A line's amount is quantity x unit amount, rounded half up to a whole
   minor unit (1 cent, 1 yen).
2. The subtotal is the sum of the line amounts.
3. The discount is a fixed amount (at most the subtotal) or a percentage of
   the subtotal rounded half up. It is spread over the lines in proportion to
   their amounts (largest remainder, so the shares add up exactly).
4. Each line's tax is (line amount - its discount share) x rate, rounded half
   up; the invoice's tax is the sum of the lines' taxes.
5. Total = subtotal - discount + tax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Stripe's zero-decimal currencies: amounts are already whole units.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)

CURRENCIES = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "CAD": "CA$",
    "AUD": "A$",
    "CHF": "CHF ",
    "SEK": "SEK ",
    "NOK": "NOK ",
    "DKK": "DKK ",
    "JPY": "¥",
    "KRW": "₩",
}
CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]

# Stripe's largest charge is 99,999,999 minor units for most currencies.
MAX_AMOUNT = 99_999_999
# Digits before the point that `to_minor` reads at all (the bound above is far smaller).
MAX_DIGITS = 30

# Stripe's smallest charge per currency, in minor units (docs.stripe.com/currencies,
# "Minimum and maximum charge amounts"). KRW is not in Stripe's table: there the
# limit is about USD 0.50 after conversion, so we hold it to a safe round figure.
MINIMUM_CHARGE = {
    "USD": 50,
    "EUR": 50,
    "GBP": 30,
    "CAD": 50,
    "AUD": 50,
    "CHF": 50,
    "SEK": 300,
    "NOK": 300,
    "DKK": 250,
    "JPY": 50,
    "KRW": 1000,
}


def minimum_charge(currency: str) -> int:
    return MINIMUM_CHARGE.get(currency.upper(), 50)


def exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """Convert a major-unit amount ("12.34") to minor units (1234)."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation as error:
        raise ValueError(f"{amount!r} is not a number") from error
    if not value.is_finite():
        raise ValueError(f"{amount!r} is not a number")
    if value.is_zero():
        return 0
    # Bounded before scaling: "1e999999999" would overflow the decimal context
    # and "1e-999999999" would underflow to a silent zero.
    if value.adjusted() > MAX_DIGITS:
        raise ValueError(f"{amount} is too large")
    if value.adjusted() < -exponent(currency):
        raise ValueError(f"{amount} has more decimals than {currency.upper()} allows")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency.upper()} allows")
    return int(scaled)


def to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent(currency))


def format_money(amount: int, currency: str) -> str:
    """`1234, "usd"` -> `$12.34`; `1234, "jpy"` -> `¥1,234`."""
    code = currency.upper()
    places = exponent(code)
    sign = "-" if amount < 0 else ""
    number = f"{abs(to_major(amount, code)):,.{places}f}"
    symbol = CURRENCIES.get(code)
    if symbol is None:
        return f"{sign}{number} {code}"
    return f"{sign}{symbol}{number}"


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_amount: int
    tax_rate: Decimal  # percent, e.g. Decimal("20") for 20 %


@dataclass(frozen=True)
class LineTotals:
    amount: int
    discount: int
    tax: int


@dataclass(frozen=True)
class Totals:
    lines: tuple[LineTotals, ...]
    subtotal: int
    discount: int
    tax: int
    total: int


def discount_amount(subtotal: int, kind: str, value: Decimal) -> int:
    """The discount in minor units: `kind` is "amount" (minor units) or "percent"."""
    if kind == "percent":
        return min(subtotal, round_half_up(Decimal(subtotal) * value / 100))
    if kind == "amount":
        return min(subtotal, int(value))
    return 0


def _allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` so the parts add up exactly."""
    whole = sum(weights)
    if whole == 0 or total == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def compute_totals(
    lines: Sequence[LineInput], discount_kind: str = "", discount_value: Decimal = Decimal(0)
) -> Totals:
    amounts = [round_half_up(line.quantity * line.unit_amount) for line in lines]
    subtotal = sum(amounts)
    discount = discount_amount(subtotal, discount_kind, discount_value)
    shares = _allocate(discount, amounts)
    line_totals = tuple(
        LineTotals(
            amount=amount,
            discount=share,
            tax=round_half_up(Decimal(amount - share) * line.tax_rate / 100),
        )
        for line, amount, share in zip(lines, amounts, shares, strict=True)
    )
    tax = sum(line.tax for line in line_totals)
    return Totals(
        lines=line_totals,
        subtotal=subtotal,
        discount=discount,
        tax=tax,
        total=subtotal - discount + tax,
    )
