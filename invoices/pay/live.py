"""The customer's live page: their invoice's status, pushed and streamed.

Subscribed to invoice changes in `InvoicesConfig.ready`; rendered once per
change in the customer's language and published on the invoice's channel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from invoices.language import in_customer_language
from invoices.live import (
    Message,
    hub,
    invoice_channel,
    new_message_id,
    publish,
    relay,
    release_connection,
    stream_response,
)
from invoices.models import Invoice
from invoices.pay.context import pay_status_context


def render_customer_state(invoice: Invoice, **state: Any) -> str:
    """Every state-dependent region of the pay page (`pay/_state.html`), in the customer's
    language: the HTML goes to their page as is."""
    with in_customer_language(invoice.customer):
        context = pay_status_context(invoice, live=True, **state)
        return render_to_string("pay/_state.html", context)


def render_customer_status(invoice: Invoice) -> str:
    """What every open pay page of the invoice is sent when it changes."""
    return render_customer_state(invoice)


def push_status(invoice: Invoice) -> None:
    """Subscriber: the invoice's new state to its customer's open pages."""
    publish(invoice_channel(invoice.pk), "status", render_customer_status(invoice))


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

    async def current() -> str:
        fresh = await Invoice.objects.select_related("customer").aget(pk=invoice.pk)
        html = await sync_to_async(render_customer_state)(fresh, recording_intent=recording_intent)
        await release_connection()
        return html

    async def events() -> AsyncIterator[bytes]:
        async with hub.subscribe(invoice_channel(invoice.pk)) as queue:
            # Subscribed first, then the current state: nothing falls in between.
            html = await current()
            yield b"retry: 2000\n\n"
            yield Message("status", html, new_message_id()).encode()
            async for chunk in relay(queue):
                if recording_intent and chunk.startswith(b"id:"):
                    chunk = Message("status", await current(), new_message_id()).encode()
                yield chunk

    return stream_response(events())
