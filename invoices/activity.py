"""What every change to an invoice goes through: the row lock, the trail, the announcement.

The domain (services, payments, handlers, refunds) changes an invoice inside a
transaction with its row locked (`lock`), writes who did what
(`record_activity`), and says that the invoice changed (`announce`). It never
renders a page: the pages that follow invoices register here (`subscribe`,
from `InvoicesConfig.ready`) and are called after the commit, each on its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from invoices.models import Invoice, InvoiceActivity
from portal.hooks import after_commit

Subscriber = Callable[[Invoice], object]

_subscribers: dict[str, Subscriber] = {}


class InvoiceStateError(Exception):
    """An action that the invoice's state does not allow; the message is for people."""


def record_activity(
    invoice: Invoice,
    kind: str,
    *,
    actor: Any = None,
    message: str = "",
    **data: Any,
) -> InvoiceActivity:
    return InvoiceActivity.objects.create(
        invoice=invoice,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        message=message[:500],
        data=data,
    )


def lock(invoice: Invoice) -> Invoice:
    """Re-read the invoice with its row locked until the transaction ends."""
    return Invoice.objects.select_for_update().select_related("customer").get(pk=invoice.pk)


def subscribe(name: str, subscriber: Subscriber) -> None:
    """Have `subscriber(invoice)` called after every announced change (by name: once each)."""
    _subscribers[name] = subscriber


def subscribers() -> dict[str, Subscriber]:
    return dict(_subscribers)


def announce(invoice: Invoice) -> None:
    """After commit, best-effort: tell every subscriber (the pages that follow invoices).

    Each may fail (Redis down) without touching the others or the caller's
    answer; pages catch up from the state every (re)connecting stream is sent
    first. The subscribers share one fresh read of the committed row. (The
    totals are booked by `Invoice.save()` itself, inside the transaction.)
    """
    pk = invoice.pk

    @functools.cache
    def fresh() -> Invoice:
        return Invoice.objects.select_related("customer").get(pk=pk)

    for name, subscriber in _subscribers.items():
        after_commit(name, functools.partial(_tell, subscriber, fresh))


def _tell(subscriber: Subscriber, fresh: Callable[[], Invoice]) -> None:
    subscriber(fresh())
