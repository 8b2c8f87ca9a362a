"""The dashboard's per-currency totals, maintained instead of recomputed.

Each invoice adds at most one amount to one bucket (`BalanceBucket`): an open
invoice its amount due to (open, currency, due date), a paid one its amount paid
to (paid, currency, the local day it was paid). `Invoice.save()` calls `book()`
in the same transaction, which moves the difference between what the invoice
added before (`BookedBalance`) and what it adds now, so the buckets are always
the sum of the invoices' contributions, however the invoice was changed.

Overdue depends on the date, so it is never stored: it is the open buckets due
before today (the business's today: due dates are days of its calendar), summed
at read time. The paid buckets' days are in settings.TIME_ZONE, not the
business's zone: a zone change would move every paid invoice to another day,
and processes learn of a change up to `portal.timezones.MEMO_SECONDS` apart, so
bookings made in between would land on the old zone's day. There are as many
open buckets per currency as distinct due dates (hundreds, not millions), read
through the bucket key index, so the read stays near constant as invoices grow.
Paid this month is the paid buckets from the first of the month.

A change that bypasses `save()` (`QuerySet.update`, `bulk_create`) must call
`rebuild()`; `manage.py verify_totals` compares everything with a full recompute.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from invoices.models import BalanceBucket, BookedBalance, Invoice

# The invoice fields a contribution is made of: a save of other fields books nothing.
FIELDS = frozenset({"status", "currency", "due_date", "amount_due", "amount_paid", "paid_at"})
# An open invoice without a due date is outstanding but never overdue.
NEVER_DUE = date(9999, 12, 31)

Key = tuple[str, str, date]  # kind, currency, day


@dataclass(frozen=True)
class Balance:
    currency: str
    outstanding: int
    overdue: int
    paid: int


def contribution(invoice: Invoice) -> tuple[Key, int] | None:
    if invoice.status == Invoice.Status.OPEN:
        key = (BalanceBucket.Kind.OPEN, invoice.currency, invoice.due_date or NEVER_DUE)
        return (str(key[0]), key[1], key[2]), invoice.amount_due
    if invoice.status == Invoice.Status.PAID and invoice.paid_at is not None:
        day = timezone.localdate(invoice.paid_at)
        return (str(BalanceBucket.Kind.PAID), invoice.currency, day), invoice.amount_paid
    return None


@receiver(post_save, sender=Invoice, dispatch_uid="invoices.totals.book")
def _book_on_save(
    sender: type[Invoice], instance: Invoice, raw: bool = False, **kwargs: object
) -> None:
    """`Invoice.save()` sends this inside its own transaction block."""
    update_fields = kwargs.get("update_fields")
    if raw:
        return  # loading fixtures: `rebuild()` books them
    if update_fields is None or not FIELDS.isdisjoint(update_fields):  # type: ignore[arg-type]
        book(instance)


def book(invoice: Invoice) -> None:
    """Move the invoice's contribution to what it is now (call inside its transaction)."""
    new = contribution(invoice)
    if connection.vendor == "postgresql":
        _book_in_one_statement(invoice.pk, new)
        return
    old = BookedBalance.objects.select_for_update().filter(invoice_id=invoice.pk).first()
    before = ((old.kind, old.currency, old.day), old.amount) if old else None
    if before == new:
        return
    if old is not None and new is not None and before[0] == new[0]:
        _add(new[0], new[1] - old.amount)  # same bucket (a part payment): one move
    elif old is not None:
        _add(before[0], -old.amount)
    if new is None:
        BookedBalance.objects.filter(invoice_id=invoice.pk).delete()
        return
    (kind, currency, day), amount = new
    if old is None or before[0] != new[0]:
        _add(new[0], amount)
    if old is None:
        BookedBalance.objects.create(
            invoice_id=invoice.pk, kind=kind, currency=currency, day=day, amount=amount
        )
    else:
        BookedBalance.objects.filter(invoice_id=invoice.pk).update(
            kind=kind, currency=currency, day=day, amount=amount
        )


def _add(key: Key, amount: int) -> None:
    """One statement whether the bucket exists or not (an upsert: no race between two
    transactions creating the same bucket, and a constant statement count)."""
    if not amount:
        return
    table = connection.ops.quote_name(BalanceBucket._meta.db_table)
    kind, currency, day = key
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (kind, currency, day, amount) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (kind, currency, day) "
            f"DO UPDATE SET amount = {table}.amount + excluded.amount",
            [kind, currency, day.isoformat(), amount],
        )


def _book_in_one_statement(invoice_id: int, new: tuple[Key, int] | None) -> None:
    """PostgreSQL: `book()` as one statement. The invoice's row, written just before
    by its save, is locked until the commit, so no one books it meanwhile; the
    buckets are moved in key order, the same for every booking (no deadlock)."""
    with connection.cursor() as cursor:
        if new is None:
            cursor.execute(_UNBOOK_SQL, {"invoice": invoice_id})
            return
        (kind, currency, day), amount = new
        cursor.execute(
            _BOOK_SQL,
            {
                "invoice": invoice_id,
                "kind": kind,
                "currency": currency,
                "day": day,
                "amount": amount,
            },
        )


_BOOKED = BookedBalance._meta.db_table
_BUCKET = BalanceBucket._meta.db_table
# The moves into the buckets: one row per bucket, in key order, none of zero.
_MOVE = (
    f"INSERT INTO {_BUCKET} AS bucket (kind, currency, day, amount) "
    "SELECT kind, currency, day, SUM(amount) FROM moves GROUP BY kind, currency, day "
    "HAVING SUM(amount) <> 0 ORDER BY kind, currency, day "
    "ON CONFLICT (kind, currency, day) DO UPDATE SET amount = bucket.amount + excluded.amount"
)
_BOOK_SQL = (
    "WITH old AS (SELECT kind, currency, day, amount"
    f" FROM {_BOOKED} WHERE invoice_id = %(invoice)s), "
    f"kept AS (INSERT INTO {_BOOKED} AS booked (invoice_id, kind, currency, day, amount) "
    "VALUES (%(invoice)s, %(kind)s, %(currency)s, %(day)s::date, %(amount)s::bigint) "
    "ON CONFLICT (invoice_id) DO UPDATE SET kind = excluded.kind, currency = excluded.currency,"
    " day = excluded.day, amount = excluded.amount "
    "WHERE (booked.kind, booked.currency, booked.day, booked.amount)"
    " IS DISTINCT FROM (excluded.kind, excluded.currency, excluded.day, excluded.amount)), "
    "moves AS (SELECT kind, currency, day, -amount AS amount FROM old UNION ALL"
    " SELECT %(kind)s, %(currency)s, %(day)s::date, %(amount)s::bigint) " + _MOVE
)
_UNBOOK_SQL = (
    f"WITH moves AS (DELETE FROM {_BOOKED} WHERE invoice_id = %(invoice)s"
    " RETURNING kind, currency, day, -amount AS amount) " + _MOVE
)


def dashboard_totals(today: date, month_start: date) -> list[Balance]:
    """Per currency, in one query over the buckets: open, overdue, paid since `month_start`.

    Written as SQL: the dashboard runs it on every load, and building it through the
    ORM (three filtered sums) took several times longer than the database's answer.
    """
    table = connection.ops.quote_name(BalanceBucket._meta.db_table)
    open_kind, paid_kind = str(BalanceBucket.Kind.OPEN), str(BalanceBucket.Kind.PAID)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT currency,"
            " SUM(CASE WHEN kind = %s THEN amount ELSE 0 END),"
            " SUM(CASE WHEN kind = %s AND day < %s THEN amount ELSE 0 END),"
            " SUM(CASE WHEN kind = %s THEN amount ELSE 0 END)"
            f" FROM {table} WHERE kind = %s OR (kind = %s AND day >= %s)"
            " GROUP BY currency ORDER BY currency",
            [open_kind, open_kind, today, paid_kind, open_kind, paid_kind, month_start],
        )
        rows = cursor.fetchall()
    # PostgreSQL sums bigints as numeric: back to whole minor units.
    balances = [Balance(currency, int(o), int(d), int(p)) for currency, o, d, p in rows]
    return [b for b in balances if b.outstanding or b.paid]


def recompute() -> tuple[dict[Key, int], dict[int, tuple[Key, int]]]:
    """From every invoice: the buckets (non-zero ones) and each invoice's contribution."""
    buckets: dict[Key, int] = defaultdict(int)
    booked: dict[int, tuple[Key, int]] = {}
    fields = ("pk", *FIELDS)
    for invoice in Invoice.objects.only(*fields).order_by().iterator(chunk_size=5000):
        found = contribution(invoice)
        if found is not None:
            booked[invoice.pk] = found
            buckets[found[0]] += found[1]
    return {k: v for k, v in buckets.items() if v}, booked


def stored() -> tuple[dict[Key, int], dict[int, tuple[Key, int]]]:
    buckets = {
        (b.kind, b.currency, b.day): b.amount for b in BalanceBucket.objects.all() if b.amount
    }
    booked = {
        b.invoice_id: ((b.kind, b.currency, b.day), b.amount)
        for b in BookedBalance.objects.all().iterator(chunk_size=5000)
    }
    return buckets, booked


@transaction.atomic
def rebuild() -> None:
    """Recompute every bucket from the invoices (after bulk changes, or to repair)."""
    if connection.vendor == "postgresql":
        # Writers of invoices wait: a booking made in between would be lost.
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE invoices_invoice IN SHARE ROW EXCLUSIVE MODE")
    buckets, booked = recompute()
    BalanceBucket.objects.all().delete()
    BookedBalance.objects.all().delete()
    BalanceBucket.objects.bulk_create(
        BalanceBucket(kind=k, currency=c, day=d, amount=a) for (k, c, d), a in buckets.items()
    )
    BookedBalance.objects.bulk_create(
        (
            BookedBalance(invoice_id=pk, kind=k, currency=c, day=d, amount=a)
            for pk, ((k, c, d), a) in booked.items()
        ),
        batch_size=5000,
    )
