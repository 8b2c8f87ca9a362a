"""A quote's staff page, live: the customer's answer shows without a reload.

`push_status` subscribes to `invoices.quote_notices.announce` (in
`InvoicesConfig.ready`) and says the quote changed; `FOLLOWER` renders its status
where a page listens on the quote's channel, and the page reloads its live region
when told. A page that (re)connects is told at once if the quote changed since it
was rendered, so an answer landing in between is not missed.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from invoices.live import Follower, Message, changed, new_message_id
from invoices.models import Quote
from invoices.staff.live import CATCH_UP_MARGIN, MAX_SINCE, door_then_stream
from portal.i18n import ENGLISH, language
from portal.params import parse_int

EVENT = "quote-status"


def quote_channel(pk: int) -> str:
    return f"quote:{pk}"


def status_html(quote: Quote) -> str:
    return render_to_string("quotes/_status.html", {"quote": quote})


def push_status(pk: int) -> None:
    """Subscriber: the quote's new status to its staff pages, rendered where one is open."""
    changed("quote", pk)


def changed_status(pk: int) -> list[tuple[str, str]]:
    with language(ENGLISH):
        return [(EVENT, status_html(Quote.objects.get(pk=pk)))]


FOLLOWER = Follower(channel=quote_channel, render=changed_status)


def _changed_since(pk: int, since: int | None) -> list[Message]:
    quote = Quote.objects.filter(pk=pk).first()
    if quote is None or since is None:
        return []
    known = datetime.fromtimestamp(since / 1_000_000, tz=UTC) - CATCH_UP_MARGIN
    if quote.updated_at <= known:
        return []
    return [Message(EVENT, status_html(quote), new_message_id())]


async def quote_stream(request: HttpRequest, pk: int) -> HttpResponse:
    stamps = [request.GET.get("since", ""), request.headers.get("Last-Event-ID", "")]
    known = [s for s in (parse_int(v, minimum=0, maximum=MAX_SINCE) for v in stamps) if s]
    since = max(known) if known else None
    return await door_then_stream(
        request, quote_channel(pk), functools.partial(_changed_since, pk, since)
    )
