from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.money import (
    LineInput,
    compute_totals,
    discount_amount,
    exponent,
    format_money,
    to_major,
    to_minor,
)

quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10_000), places=3)
unit_amounts = st.integers(min_value=0, max_value=10_000_000)
rates = st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2)
lines_strategy = st.lists(st.builds(LineInput, quantities, unit_amounts, rates), max_size=20)


def test_it_formats_two_decimal_currencies():
    assert format_money(123456, "usd") == "$1,234.56"
    assert format_money(5, "EUR") == "€0.05"
    assert format_money(-250, "GBP") == "-£2.50"


def test_it_formats_zero_decimal_currencies_without_cents():
    assert exponent("JPY") == 0
    assert format_money(1234, "JPY") == "¥1,234"
    assert format_money(5000, "KRW") == "₩5,000"


def test_it_formats_unknown_currencies_with_their_code():
    assert format_money(1999, "PLN") == "19.99 PLN"


def test_it_converts_major_to_minor_units():
    assert to_minor("12.34", "USD") == 1234
    assert to_minor("1234", "JPY") == 1234
    assert to_major(1234, "USD") == Decimal("12.34")


def test_it_refuses_more_decimals_than_the_currency_has():
    with pytest.raises(ValueError, match="more decimals"):
        to_minor("12.345", "USD")
    with pytest.raises(ValueError, match="more decimals"):
        to_minor("10.5", "JPY")
    with pytest.raises(ValueError, match="not a number"):
        to_minor("abc", "USD")


def test_it_rounds_line_amounts_half_up():
    totals = compute_totals([LineInput(Decimal("0.5"), 1, Decimal(0))])
    assert totals.subtotal == 1
    totals = compute_totals([LineInput(Decimal("1.333"), 100, Decimal(0))])
    assert totals.subtotal == 133


def test_it_applies_a_percent_discount_before_tax():
    lines = [LineInput(Decimal(1), 10000, Decimal(20)), LineInput(Decimal(1), 10000, Decimal(0))]
    totals = compute_totals(lines, "percent", Decimal(10))
    assert totals.subtotal == 20000
    assert totals.discount == 2000
    assert [line.discount for line in totals.lines] == [1000, 1000]
    assert totals.tax == 1800  # 20 % of (10000 - 1000)
    assert totals.total == 20000 - 2000 + 1800


def test_it_caps_a_fixed_discount_at_the_subtotal():
    assert discount_amount(500, "amount", Decimal(900)) == 500
    totals = compute_totals([LineInput(Decimal(1), 500, Decimal(10))], "amount", Decimal(900))
    assert totals.total == 0


def test_it_computes_yen_in_whole_yen():
    totals = compute_totals([LineInput(Decimal("3"), 333, Decimal("10"))])
    assert totals.subtotal == 999
    assert totals.tax == 100  # 99.9 rounds half up to 100
    assert totals.total == 1099


@given(lines_strategy, st.sampled_from(["", "amount", "percent"]), st.integers(0, 10**9))
def test_totals_always_add_up(lines, kind, raw_discount):
    value = Decimal(raw_discount % 101) if kind == "percent" else Decimal(raw_discount)
    totals = compute_totals(lines, kind, value)
    assert totals.subtotal == sum(line.amount for line in totals.lines)
    assert totals.discount == sum(line.discount for line in totals.lines)
    assert totals.tax == sum(line.tax for line in totals.lines)
    assert totals.total == totals.subtotal - totals.discount + totals.tax
    assert 0 <= totals.discount <= totals.subtotal
    assert all(0 <= line.discount <= line.amount for line in totals.lines)
    assert all(line.tax >= 0 for line in totals.lines)
    assert totals.total >= 0


@given(lines_strategy)
def test_tax_never_exceeds_the_highest_rate(lines):
    totals = compute_totals(lines)
    top_rate = max((line.tax_rate for line in lines), default=Decimal(0))
    # each line rounds by at most half a minor unit
    assert totals.tax <= totals.subtotal * top_rate / 100 + Decimal(len(lines)) / 2


@given(st.integers(0, 10**12), st.sampled_from(["USD", "JPY", "EUR", "KRW"]))
def test_minor_units_round_trip(amount, currency):
    assert to_minor(to_major(amount, currency), currency) == amount
