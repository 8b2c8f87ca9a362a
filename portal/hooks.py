"""Best-effort work after a commit: each hook on its own, none can fail the request.

What must happen (emails, staff notices) is written inside the transaction
(see `invoices.outbox`); what may fail (a live push, a cache delete) runs here.
A hook that raises is logged under its name and the next hook still runs, so
a Redis outage can never turn a booked payment into a 500 (which would make
Stripe retry an event we already stored as processed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger("portal.hooks")


def run_isolated(name: str, hook: Callable[[], object]) -> bool:
    """Run `hook` now; log and swallow whatever it raises. True when it succeeded."""
    try:
        hook()
    except Exception:
        logger.exception("after-commit hook %s failed", name)
        return False
    return True


def after_commit(name: str, hook: Callable[[], object]) -> None:
    """Run `hook` once the current transaction commits (at once outside one), isolated."""
    transaction.on_commit(lambda: run_isolated(name, hook))
