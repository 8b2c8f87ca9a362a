"""The customer's live page: their invoice's status, pushed and streamed.

Follows invoice changes (`FOLLOWER`, registered in `InvoicesConfig.ready`): each
server process with the invoice's page open renders its new state once, in the
customer's language, for all of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from invoices.language import in_customer_language
from invoices.live import (
    Follower,
    Message,
    hub,
    invoice_channel,
    new_message_id,
    relay,
    stream_response,
)
from invoices.models import Invoice
from invoices.pay.context import pay_status_context
from invoices.stream_db import Busy, on_stream_db, retry_hint, retry_seconds


def render_customer_state(invoice: Invoice, **state: Any) -> str:
    """Every state-dependent region of the pay page (`pay/_state.html`), in the customer's
    language: the HTML goes to their page as is."""
    with in_customer_language(invoice.customer):
        context = pay_status_context(invoice, live=True, **state)
        return render_to_string("pay/_state.html", context)


def render_customer_status(invoice: Invoice) -> str:
    """What every open pay page of the invoice is sent when it changes."""
    return render_customer_state(invoice)


def current_state(invoice_id: int, recording_intent: str = "") -> str:
    """The pay page's state as it is now (on a stream database thread)."""
    fresh = Invoice.objects.select_related("customer").get(pk=invoice_id)
    return render_customer_state(fresh, recording_intent=recording_intent)


def changed_state(invoice_id: int) -> list[tuple[str, str]]:
    """What every open pay page of the invoice is sent when it changes."""
    return [("status", current_state(invoice_id))]


FOLLOWER = Follower(channel=invoice_channel, render=changed_state)


async def invoice_stream(
    request: HttpRequest, invoice: Invoice, *, recording_intent: str = ""
) -> HttpResponse:
    """The customer's stream for one invoice (the pay view authorises the token).

    `recording_intent`: the page Stripe sent back after a successful payment, which shows
    "being recorded" until the webhook lands. The shared message would show it the Pay
    button again, so this one listener gets its own render of each change instead.
    """
    if recording_intent != invoice.stripe_payment_intent_id:
        recording_intent = ""

    async def current() -> bytes:
        html = await on_stream_db(current_state, invoice.pk, recording_intent)
        return Message("status", html, new_message_id()).encode()

    async def events() -> AsyncIterator[bytes]:
        async with hub.subscribe(invoice_channel(invoice.pk)) as queue:
            try:
                # Subscribed first, then the current state: nothing falls in between.
                state = await current()
                yield b"retry: 2000\n\n"
                yield state
                async for chunk in relay(queue):
                    if recording_intent and chunk.startswith(b"id:"):
                        chunk = await current()
                    yield chunk
            except Busy:
                # Headers are sent: the stream ends telling the browser when to come back,
                # and the reconnection starts with the current state.
                yield retry_hint(retry_seconds())

    return stream_response(events())
