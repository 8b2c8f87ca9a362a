"""What every change to an invoice goes through: the row lock, the trail, the announcement.

The domain (services, payments, handlers, refunds) changes an invoice inside a
transaction with its row locked (`lock`), writes who did what
(`record_activity`), and says that the invoice changed (`announce`). It never
renders a page: the pages that follow invoices register here (`subscribe`,
from `InvoicesConfig.ready`) and are called after the commit, each on its own.
The live pages only need to hear which invoice changed (`subscribe_to_ids`): they
read and render it where someone is watching, not in the request that changed it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from invoices.models import Invoice, InvoiceActivity
from portal.hooks import after_commit

Subscriber = Callable[[Invoice], object]
IdSubscriber = Callable[[int], object]

_subscribers: dict[str, Subscriber] = {}
_id_subscribers: dict[str, IdSubscriber] = {}


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


def subscribe_to_ids(name: str, subscriber: IdSubscriber) -> None:
    """Have `subscriber(invoice_id)` called after every announced change, with no read
    of the row on its behalf (by name: once each)."""
    _id_subscribers[name] = subscriber


def subscribers() -> dict[str, Subscriber | IdSubscriber]:
    return {**_subscribers, **_id_subscribers}


def announce(invoice: Invoice) -> None:
    """After commit, best-effort: tell every subscriber (the pages that follow invoices).

    Each may fail (Redis down) without touching the others or the caller's
    answer; pages catch up from the state every (re)connecting stream is sent
    first. The subscribers share one fresh read of the committed row, made only
    if one of them takes the row. (The totals are booked by `Invoice.save()`
    itself, inside the transaction.)
    """
    pk = invoice.pk
    for name, id_subscriber in _id_subscribers.items():
        after_commit(name, functools.partial(id_subscriber, pk))

    @functools.cache
    def fresh() -> Invoice:
        return Invoice.objects.select_related("customer").get(pk=pk)

    for name, subscriber in _subscribers.items():
        after_commit(name, functools.partial(_tell, subscriber, fresh))


def _tell(subscriber: Subscriber, fresh: Callable[[], Invoice]) -> None:
    subscriber(fresh())
