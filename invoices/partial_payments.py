"""Partial payments by the customer: how much they may choose to pay now.

Off unless the business profile allows it. Then the customer pays any amount between a
minimum and the amount due; the minimum is the largest of the business's fixed amount, its
percentage of the amount due (rounded up to a whole minor unit) and Stripe's smallest
charge in the currency (`portal.money.MINIMUM_CHARGE`), and never more than the amount due.
The amount is read from what the customer typed at one edge (`parse_amount`) and checked
again under the invoice's row lock before any PaymentIntent asks for it (`check_amount`).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal

from django.utils.formats import get_format
from django.utils.translation import gettext as _

from invoices.activity import InvoiceStateError
from invoices.models import BusinessProfile, Invoice
from portal.money import exponent, format_money, minimum_charge, to_major, to_minor

# Digits with at most one decimal point or comma; no signs, exponents, spaces inside or
# thousands separators ("1,000" would be ambiguous between languages). ASCII digits only:
# "²" and "٣" are digits to Python, never to us.
AMOUNT = re.compile(r"[0-9]{1,12}(?:[.,][0-9]{1,4})?", re.ASCII)
MAX_INPUT = 40


class AmountRefused(InvoiceStateError):
    """The chosen amount cannot be paid; the message says why, for the customer."""


def allowed(business: BusinessProfile | None = None) -> bool:
    return (business or BusinessProfile.load()).allow_partial_payments


def minimum(invoice: Invoice, business: BusinessProfile | None = None) -> int:
    """The smallest amount the customer may pay now, in minor units."""
    business = business or BusinessProfile.load()
    due = invoice.amount_due
    currency = invoice.currency
    share = -(-due * business.partial_minimum_percent // 100)  # rounded up
    fixed = int(
        (Decimal(business.partial_minimum_amount) * 10 ** exponent(currency)).to_integral_value(
            rounding=ROUND_CEILING
        )
    )
    return min(due, max(minimum_charge(currency), share, fixed))


def parse_amount(raw: str, currency: str) -> int:
    """What the customer typed ("120", "120.50", "120,50"), in minor units."""
    text = raw.strip().replace("\u00a0", "").replace("\u202f", "")
    example = "1200" if exponent(currency) == 0 else f"120{get_format('DECIMAL_SEPARATOR')}50"
    if len(text) > MAX_INPUT or not AMOUNT.fullmatch(text):
        raise AmountRefused(
            _("Enter an amount in numbers, like %(example)s.") % {"example": example}
        )
    try:
        return to_minor(text.replace(",", "."), currency)
    except ValueError:
        if exponent(currency) == 0:
            message = _("Enter a whole amount in %(currency)s, like %(example)s.")
        else:
            message = _("Enter an amount with at most two decimals, like %(example)s.")
        raise AmountRefused(message % {"currency": currency.upper(), "example": example}) from None


def check_amount(invoice: Invoice, amount: int, business: BusinessProfile | None = None) -> int:
    """`amount` if the customer may pay it now, else AmountRefused."""
    business = business or BusinessProfile.load()
    due = invoice.amount_due
    if amount == due:
        return amount
    if not allowed(business):
        raise AmountRefused(
            _("This invoice is paid in full: %(due)s.") % {"due": invoice.money(due)}
        )
    if amount > due:
        raise AmountRefused(
            _("You can pay at most %(due)s, the amount due.") % {"due": invoice.money(due)}
        )
    least = minimum(invoice, business)
    if amount < least:
        raise AmountRefused(_("Enter at least %(minimum)s.") % {"minimum": invoice.money(least)})
    return amount


def acceptable(invoice: Invoice, amount: int) -> bool:
    try:
        check_amount(invoice, amount)
    except AmountRefused:
        return False
    return True


def field_value(amount: int, currency: str) -> str:
    """An amount as the field shows it: "1200.50" with the language's decimal separator."""
    places = exponent(currency)
    text = f"{to_major(amount, currency):.{places}f}"
    return text.replace(".", get_format("DECIMAL_SEPARATOR"))


def field_context(
    invoice: Invoice, amount: int, *, error: str = "", typed: str = ""
) -> dict[str, object]:
    """What the pay page's amount field shows: the amount, or what was typed (refused)."""
    return {
        "value": typed[:MAX_INPUT] if error else field_value(amount, invoice.currency),
        "minimum": format_money(minimum(invoice), invoice.currency),
        "due": format_money(invoice.amount_due, invoice.currency),
        "error": error,
    }
