"""Staff pages' live feed: rows, statuses and payments pushed as invoices change.

Follows invoice changes (`FOLLOWER`, registered in `InvoicesConfig.ready`): every
staff page listens on one channel and swaps in the fragments whose ids it shows;
each server process with a staff page open renders a change once for all of them.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from invoices.live import (
    STAFF_CHANNEL,
    Follower,
    Message,
    hub,
    new_message_id,
    relay,
    stream_response,
)
from invoices.models import Invoice
from invoices.stream_db import Busy, busy_response, on_stream_db, retry_hint, retry_seconds
from portal.access import private, staff_required
from portal.i18n import ENGLISH, language
from portal.params import parse_int


def staff_messages(invoice: Invoice) -> list[tuple[str, str]]:
    context = {"invoice": invoice}
    payments = {
        "invoice": invoice,
        "payments": list(invoice.payments.select_related("recorded_by")),
    }
    return [
        (
            f"invoice-{invoice.pk}-payments",
            render_to_string("invoices/_payments.html", payments),
        ),
        (f"invoice-{invoice.pk}-row", render_to_string("invoices/_invoice_row.html", context)),
        (
            f"invoice-{invoice.pk}-status",
            render_to_string("invoices/_invoice_status.html", context),
        ),
    ]


def changed_rows(invoice_id: int) -> list[tuple[str, str]]:
    """The invoice's new row, status and payments, for every staff page (in English, the
    staff's language, whichever thread renders them)."""
    with language(ENGLISH):
        return staff_messages(Invoice.objects.select_related("customer").get(pk=invoice_id))


FOLLOWER = Follower(channel=lambda invoice_id: STAFF_CHANNEL, render=changed_rows)


# A change is stamped (`updated_at`) when it is saved but only visible once its
# transaction commits: a page rendered in between carries a later `since` and
# would never be sent that change. Going back a little re-sends a few states
# the page already has, which is harmless.
CATCH_UP_MARGIN = timedelta(seconds=10)
MAX_SINCE = 32_503_680_000 * 1_000_000  # 3000-01-01 in microseconds


def _since(request: HttpRequest) -> datetime | None:
    """The newest moment the page already knows about: `?since=` or Last-Event-ID."""
    # Anything but a plausible moment (microseconds since 1970, before 3000) is ignored.
    stamps = [request.GET.get("since", ""), request.headers.get("Last-Event-ID", "")]
    micros = [parse_int(s, minimum=0, maximum=MAX_SINCE) for s in stamps]
    known = [m for m in micros if m is not None]
    if not known:
        return None
    return datetime.fromtimestamp(max(known) / 1_000_000, tz=UTC) - CATCH_UP_MARGIN


def _catch_up(since: datetime | None) -> list[Message]:
    if since is None:
        return []
    changed = Invoice.objects.select_related("customer").filter(updated_at__gt=since)
    messages = []
    for invoice in changed.order_by("updated_at")[:100]:
        for event, html in staff_messages(invoice):
            messages.append(Message(event, html, new_message_id()))
    return messages


def since_token() -> str:
    """For templates: the `since` a freshly rendered page passes to the staff stream."""
    return str(int(timezone.now().timestamp() * 1_000_000))


@staff_required
def _may_listen(request: HttpRequest) -> HttpResponse:
    """The door every staff page has; a 204 means "come in" (on a stream database thread,
    where the session and the user are read)."""
    return HttpResponse(status=204)


async def staff_stream(request: HttpRequest) -> HttpResponse:
    since = _since(request)
    return await door_then_stream(
        request, STAFF_CHANNEL, functools.partial(_catch_up, since) if since else None
    )


async def door_then_stream(
    request: HttpRequest, channel: str, catch_up: Callable[[], list[Message]] | None
) -> HttpResponse:
    """A staff stream: the door (staff only, read on a stream database thread), then
    `channel`'s messages, after those the page missed (`catch_up`, read once subscribed,
    so nothing falls in between)."""
    try:
        door = await on_stream_db(_may_listen, request)
    except Busy:
        return busy_response(request)
    if door.status_code != 204:
        return door

    async def events() -> AsyncIterator[bytes]:
        async with hub.subscribe(channel) as queue:
            yield b"retry: 2000\n\n"
            try:
                missed = await on_stream_db(catch_up) if catch_up else []
            except Busy:
                yield retry_hint(retry_seconds())
                return
            for message in missed:
                yield message.encode()
            async for chunk in relay(queue):
                yield chunk

    return private(stream_response(events()))
