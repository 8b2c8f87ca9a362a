"""What staff hear when a customer answers a quote.

`notify_staff` is called inside the answer's transaction: the staff email is a
row in the outbox that commits (or rolls back) with the answer. `announce` is
best-effort after the commit, as `invoices.activity.announce` is for invoices:
the pages that follow quotes subscribe (in `InvoicesConfig.ready`) and are told
the quote's id; they read and render it where a page is open.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from invoices.models import Quote
from invoices.outbox import queue_customer_email
from portal.hooks import after_commit

Subscriber = Callable[[int], None]
_subscribers: dict[str, Subscriber] = {}


def subscribe(name: str, subscriber: Subscriber) -> None:
    """Have `subscriber(quote_id)` called after every announced answer (by name: once each)."""
    _subscribers[name] = subscriber


def notify_staff(quote: Quote) -> None:
    """Owe staff one email about this answer; a replay of the same answer adds none."""
    queue_customer_email(
        "quote_notice",
        quote.customer,
        ref=f"quote-{quote.pk}-{quote.status}-v{quote.version}",
        params={"quote_id": quote.pk},
    )


def announce(quote: Quote) -> None:
    """After commit, each subscriber on its own (Redis down fails none of the others)."""
    for name, subscriber in _subscribers.items():
        after_commit(name, functools.partial(subscriber, quote.pk))
