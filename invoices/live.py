"""Live updates, the hub: publish / subscribe and the Server-Sent Events plumbing.

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

import redis
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import StreamingHttpResponse

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


# -- the SSE plumbing (the streams: pay/live.py, staff/live.py) --------------------


def stream_response(events: AsyncIterator[bytes]) -> StreamingHttpResponse:
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


async def relay(queue: asyncio.Queue[Message]) -> AsyncIterator[bytes]:
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
