"""Live updates: publish / subscribe, and the Server-Sent Events views.

`publish()` is called (after commit) from ordinary sync code. Messages carry
HTML rendered once by the publisher, so a thousand listeners cost one render.
Two backends share one interface: in-process (one server process, the
embedded default) and Redis pub/sub (`REDIS_URL`; any number of workers and
machines). Each process keeps one `Hub` that fans messages out to the
asyncio queues of its connected listeners.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from invoices.models import Invoice
from portal.access import staff_required
from portal.i18n import in_customer_language
from portal.params import parse_int

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "portal-live"
STAFF_CHANNEL = "staff"
KEEPALIVE_SECONDS = 15.0
QUEUE_SIZE = 100


def invoice_channel(invoice_id: int) -> str:
    return f"invoice:{invoice_id}"


@dataclass(frozen=True)
class Message:
    event: str
    html: str
    id: str

    def encode(self) -> bytes:
        lines = [f"id: {self.id}", f"event: {self.event}"]
        lines += [f"data: {line}" for line in self.html.splitlines() or [""]]
        return ("\n".join(lines) + "\n\n").encode()


class Hub:
    """This process's listeners, keyed by channel; thread-safe to dispatch into."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = (
            defaultdict(set)
        )
        self._redis_task: asyncio.Task | None = None
        self.redis_subscribed = False

    def dispatch(self, channel: str, message: Message) -> None:
        with self._lock:
            targets = list(self._listeners.get(channel, ()))
        for loop, queue in targets:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(_offer, queue, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[asyncio.Queue[Message]]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        entry = (loop, queue)
        with self._lock:
            for channel in channels:
                self._listeners[channel].add(entry)
        if settings.REDIS_URL:
            await self._ensure_redis_reader()
        try:
            yield queue
        finally:
            with self._lock:
                for channel in channels:
                    self._listeners[channel].discard(entry)
                    if not self._listeners[channel]:
                        del self._listeners[channel]

    @property
    def degraded(self) -> bool:
        """Redis is configured but this process is not subscribed (Redis down)."""
        return bool(settings.REDIS_URL) and not self.redis_subscribed

    async def _ensure_redis_reader(self) -> None:
        task = self._redis_task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            ready = asyncio.Event()
            self._redis_task = asyncio.create_task(self._read_redis(ready))
            await ready.wait()

    async def _read_redis(self, ready: asyncio.Event) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(settings.REDIS_URL)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(f"{CHANNEL_PREFIX}:*")
                    self.redis_subscribed = True
                    ready.set()
                    async for raw in pubsub.listen():
                        if raw.get("type") != "pmessage":
                            continue
                        channel = raw["channel"].decode().removeprefix(f"{CHANNEL_PREFIX}:")
                        data = json.loads(raw["data"])
                        self.dispatch(channel, Message(**data))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self.redis_subscribed or not ready.is_set():
                    logger.warning("live: redis subscription lost (%s); reconnecting", error)
                self.redis_subscribed = False
                ready.set()
                await asyncio.sleep(1)
            finally:
                self.redis_subscribed = False
                with contextlib.suppress(Exception):
                    await client.aclose()


def _offer(queue: asyncio.Queue[Message], message: Message) -> None:
    # A listener that has stopped reading must not hold messages forever.
    with contextlib.suppress(asyncio.QueueFull):
        queue.put_nowait(message)


hub = Hub()
_redis_client = None
_redis_lock = threading.Lock()


def _redis():
    global _redis_client
    with _redis_lock:
        if _redis_client is None or _redis_client[0] != settings.REDIS_URL:
            import redis

            # Short timeouts: a publish happens after a commit, inside a
            # request; a Redis that is down must not hold that request.
            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
            )
            _redis_client = (settings.REDIS_URL, client)
        return _redis_client[1]


def new_message_id() -> str:
    return str(time.time_ns() // 1000)


def publish(channel: str, event: str, html: str) -> None:
    message = Message(event=event, html=html, id=new_message_id())
    if settings.REDIS_URL:
        try:
            payload = json.dumps(message.__dict__)
            _redis().publish(f"{CHANNEL_PREFIX}:{channel}", payload)
        except Exception as error:
            # A lost update is repaired by the state sent on every (re)connect.
            logger.warning("live: could not publish to redis: %s", error)
    else:
        hub.dispatch(channel, message)


# -- what is published ----------------------------------------------------


def render_customer_state(invoice: Invoice, **state: Any) -> str:
    """Every state-dependent region of the pay page (`pay/_state.html`), in the customer's
    language: the HTML goes to their page as is."""
    from invoices.pay_context import pay_status_context

    with in_customer_language(invoice.customer):
        context = pay_status_context(invoice, live=True, **state)
        return render_to_string("pay/_state.html", context)


def render_customer_status(invoice: Invoice) -> str:
    """What every open pay page of the invoice is sent when it changes."""
    return render_customer_state(invoice)


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


def invoice_changed(invoice: Invoice) -> None:
    """Push an invoice's new state to its customer's pages and to staff pages."""
    publish(invoice_channel(invoice.pk), "status", render_customer_status(invoice))
    for event, html in staff_messages(invoice):
        publish(STAFF_CHANNEL, event, html)


# -- the SSE views ----------------------------------------------------------


def _stream_response(events: AsyncIterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


async def release_connection() -> None:
    """Give this request's database connection back before the stream goes idle.

    Django returns connections when a response finishes, which for a stream is
    when the client leaves: hundreds of open streams would hold the whole pool.
    """
    await sync_to_async(close_old_connections)()


async def _relay(queue: asyncio.Queue[Message]) -> AsyncIterator[bytes]:
    tick = KEEPALIVE_SECONDS
    if settings.REDIS_URL:
        tick = min(tick, settings.LIVE_DEGRADED_REFRESH_SECONDS)
    idle = 0.0
    while True:
        try:
            message = await asyncio.wait_for(queue.get(), tick)
        except TimeoutError:
            if hub.degraded:
                # No bus, so no pushes: end the stream. The browser reconnects
                # (`retry: 2000`, then htmx's back-off) and every new stream
                # starts with the current state: a periodic refresh until the
                # subscription is back.
                return
            idle += tick
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                yield b": keep-alive\n\n"
            continue
        idle = 0.0
        yield message.encode()


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
            async for chunk in _relay(queue):
                if recording_intent and chunk.startswith(b"id:"):
                    chunk = Message("status", await current(), new_message_id()).encode()
                yield chunk

    return _stream_response(events())


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
async def staff_stream(request: HttpRequest) -> HttpResponse:
    since = _since(request)

    async def events() -> AsyncIterator[bytes]:
        async with hub.subscribe(STAFF_CHANNEL) as queue:
            yield b"retry: 2000\n\n"
            for message in await sync_to_async(_catch_up)(since):
                yield message.encode()
            await release_connection()
            async for chunk in _relay(queue):
                yield chunk

    return _stream_response(events())
