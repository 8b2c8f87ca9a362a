"""What a credit note for some lines takes back, to the minor unit.

Each invoice line was charged its amount less its share of the discount (its
net) plus its tax, as `portal.money.compute_totals` worked them out. A credit
takes back part of the net, by quantity (that fraction of the net, rounded half
up; the last of the quantity takes whatever of the net is left) or as an amount;
its tax is the line's tax in the same proportion, counted cumulatively: after
this credit the line has had `round(tax x net credited so far / net)` of its tax
back. So however a line is split over credit notes, crediting all of it gives
back exactly what it was charged, never a cent more or less.

The caller holds the invoice's row lock, so what was credited before cannot
change while this is worked out (two credit notes for the same line queue).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from invoices.activity import InvoiceStateError
from invoices.models import CreditNoteLine, Invoice, InvoiceLine
from portal.money import LineInput, LineTotals, compute_totals, round_half_up


@dataclass(frozen=True)
class LineCredit:
    """One line to credit: a quantity of it, or an amount before tax (minor units)."""

    line_id: int
    quantity: Decimal | None = None
    amount: int | None = None


@dataclass(frozen=True)
class Credited:
    quantity: Decimal
    amount: int
    tax: int


@dataclass(frozen=True)
class Creditable:
    """One invoice line: what it was charged and what credit notes took back so far."""

    line: InvoiceLine
    net: int
    tax: int
    credited: Credited

    @property
    def quantity_left(self) -> Decimal:
        return max(self.line.quantity - self.credited.quantity, Decimal(0))

    @property
    def net_left(self) -> int:
        return max(self.net - self.credited.amount, 0)

    @property
    def total_left(self) -> int:
        return self.net_left + max(self.tax - self.credited.tax, 0)


def creditable_lines(invoice: Invoice) -> list[Creditable]:
    """Every line of the invoice with what is left to credit (two queries)."""
    lines = list(invoice.lines.all())
    totals = compute_totals(
        [LineInput(line.quantity, line.unit_amount, line.tax_rate) for line in lines],
        invoice.discount_kind,
        invoice.discount_value,
    )
    done = _credited(invoice)
    return [
        Creditable(line, _net(found), found.tax, done.get(line.pk, Credited(Decimal(0), 0, 0)))
        for line, found in zip(lines, totals.lines, strict=True)
    ]


def _net(totals: LineTotals) -> int:
    return totals.amount - totals.discount


def _credited(invoice: Invoice) -> dict[int, Credited]:
    rows = (
        CreditNoteLine.objects.filter(credit_note__invoice=invoice)
        .values("invoice_line_id")
        .annotate(
            quantity=Sum("quantity", default=Decimal(0)),
            amount=Sum("amount", default=0),
            tax=Sum("tax", default=0),
        )
        .order_by()
    )
    return {
        row["invoice_line_id"]: Credited(Decimal(row["quantity"]), row["amount"], row["tax"])
        for row in rows
    }


def price(invoice: Invoice, credits: Sequence[LineCredit]) -> list[CreditNoteLine]:
    """The credit note's lines (unsaved), or `InvoiceStateError` saying which line is over."""
    if not credits:
        raise InvoiceStateError("Choose at least one line to credit.")
    if len({c.line_id for c in credits}) != len(credits):
        raise InvoiceStateError("Each line can be credited once per credit note.")
    by_id = {c.line.pk: c for c in creditable_lines(invoice)}
    return [_price_one(by_id, credit, invoice) for credit in credits]


def _price_one(
    by_id: dict[int, Creditable], credit: LineCredit, invoice: Invoice
) -> CreditNoteLine:
    found = by_id.get(credit.line_id)
    if found is None:
        raise InvoiceStateError("That line is not on this invoice.")
    name = found.line.description[:60]
    if credit.quantity is not None:
        if not 0 < credit.quantity <= found.quantity_left:
            raise InvoiceStateError(
                f"“{name}”: at most {found.quantity_left.normalize():f} can still be credited."
            )
        if credit.quantity == found.quantity_left:
            net = found.net_left  # the last of it takes what is left (no rounding drift)
        else:
            net = round_half_up(found.net * credit.quantity / found.line.quantity)
    else:
        net = int(credit.amount or 0)
    if not 0 < net <= found.net_left:
        raise InvoiceStateError(
            f"“{name}”: at most {invoice.money(found.net_left)} before tax can still be credited."
        )
    after = found.credited.amount + net
    tax = round_half_up(Decimal(found.tax) * after / found.net) - found.credited.tax
    return CreditNoteLine(
        invoice_line=found.line,
        description=found.line.description,
        quantity=credit.quantity,
        amount=net,
        tax=max(tax, 0),
    )
