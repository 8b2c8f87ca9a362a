"""Live updates, the hub: changes, renders where someone listens, and the SSE plumbing.

A change is announced after its commit with `changed(kind, pk)`: one small note
("invoice 42 changed"), no read and no render in the request that made it. Each
server process hears every note (in-process backend: the embedded default; or
Redis pub/sub with `REDIS_URL`: any number of workers and machines) and, only if
one of its connected pages follows that row, reads and renders it once, on a
stream database thread, for all of them: a thousand listeners on one worker cost
one render, a change nobody watches costs none. Each process keeps one `Hub`
that fans messages out to the asyncio queues of its connected listeners.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.http import StreamingHttpResponse

from invoices.stream_db import run_closing, stream_executor

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "portal-live"
STAFF_CHANNEL = "staff"
KEEPALIVE_SECONDS = 15.0
QUEUE_SIZE = 100
QUEUED, RUNNING, AGAIN = "queued", "running", "again"


def invoice_channel(invoice_id: int) -> str:
    return f"invoice:{invoice_id}"


@dataclass(frozen=True)
class Message:
    event: str
    html: str
    id: str

    def encode(self) -> bytes:
        return self.wire

    @functools.cached_property
    def wire(self) -> bytes:
        """The SSE frame, built once however many listeners it goes to."""
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
        # (kind, pk) -> QUEUED / RUNNING / AGAIN: one render of a row at a time, in order.
        self._renders: dict[tuple[str, int], str] = {}
        self._ticking: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    def listening(self, channel: str) -> bool:
        with self._lock:
            return channel in self._listeners

    def changed(self, kind: str, pk: int) -> None:
        """`kind` `pk` changed: render it for this process's listeners, if it has any.

        Off the caller's thread (the Redis reader's loop, or the request that made the
        change), on a stream database thread. Notes that arrive while a render waits
        share it (it reads the row when it starts); one that arrives while it runs gets
        another after it, so the last message a page is sent is the newest state.
        """
        if not any(self.listening(f.channel(pk)) for f in _followers[kind].values()):
            return
        key = (kind, pk)
        with self._lock:
            state = self._renders.get(key)
            if state == RUNNING:
                self._renders[key] = AGAIN
            if state is not None:
                return
            self._renders[key] = QUEUED
        try:
            stream_executor().submit(run_closing, self._render, (key,))
        except RuntimeError:  # the executor has shut down (the process is stopping)
            with self._lock:
                self._renders.pop(key, None)

    def _render(self, key: tuple[str, int]) -> None:
        kind, pk = key
        while True:
            with self._lock:
                self._renders[key] = RUNNING
            for name, follower in list(_followers[kind].items()):
                channel = follower.channel(pk)
                if not self.listening(channel):
                    continue
                try:
                    messages = follower.render(pk)
                except Exception:
                    # Its pages catch up when they reconnect; the others are still sent.
                    logger.exception("live: could not render %s for %s %s", name, kind, pk)
                    continue
                for event, html in messages:
                    self.dispatch(channel, Message(event, html, new_message_id()))
            with self._lock:
                if self._renders[key] != AGAIN:
                    del self._renders[key]
                    return

    def dispatch(self, channel: str, message: Message) -> None:
        """Hand `message` to every listener of `channel`: directly when called on their
        event loop (the Redis reader), else one wake-up per loop for all its listeners."""
        with self._lock:
            targets = list(self._listeners.get(channel, ()))
        message.encode()  # once, here, not once per listener
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Queue]] = defaultdict(list)
        for loop, queue in targets:
            by_loop[loop].append(queue)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, queues in by_loop.items():
            if loop is running:
                _offer_all(queues, message)
                continue
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(_offer_all, queues, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[asyncio.Queue[Message]]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        entry = (loop, queue)
        with self._lock:
            for channel in channels:
                self._listeners[channel].add(entry)
            if loop not in self._ticking:
                self._ticking.add(loop)
                loop.call_later(tick_seconds(), self._tick, loop)
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

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        """Every listener on `loop` is handed `TICK` (see `relay`): one timer for all of
        them, not one per listener and message."""
        with self._lock:
            queues = {
                q for entries in self._listeners.values() for (on, q) in entries if on is loop
            }
            if not queues:
                self._ticking.discard(loop)
                return
        loop.call_later(tick_seconds(), self._tick, loop)
        _offer_all(list(queues), TICK)

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
                    await pubsub.subscribe(notes_channel())
                    self.redis_subscribed = True
                    ready.set()
                    async for raw in pubsub.listen():
                        if raw.get("type") != "message":
                            continue
                        kind, _, pk = raw["data"].decode().partition(":")
                        if pk.isdigit():
                            self.changed(kind, int(pk))
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


# Not a message: the hub's periodic nudge to every listener (keep-alive, degraded check).
TICK = Message("tick", "", "")


def tick_seconds() -> float:
    if settings.REDIS_URL:
        return min(KEEPALIVE_SECONDS, settings.LIVE_DEGRADED_REFRESH_SECONDS)
    return KEEPALIVE_SECONDS


def _offer_all(queues: list[asyncio.Queue[Message]], message: Message) -> None:
    for queue in queues:
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
            # Short timeouts: a note is published after a commit, inside a
            # request; a Redis that is down must not hold that request.
            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
            )
            _redis_client = (settings.REDIS_URL, client)
        return _redis_client[1]


def new_message_id() -> str:
    return str(time.time_ns() // 1000)


@dataclass(frozen=True)
class Follower:
    """A page that follows one kind of row: the channel its pages listen on for row `pk`,
    and what they are sent when it changes (`render(pk)`: [(event, html)], read and
    rendered from the committed row)."""

    channel: Callable[[int], str]
    render: Callable[[int], list[tuple[str, str]]]


_followers: dict[str, dict[str, Follower]] = defaultdict(dict)


def follow(kind: str, name: str, follower: Follower) -> None:
    """Have `follower` rendered where its pages listen, after every change of a `kind` row
    (by name: once each; registered in `InvoicesConfig.ready`)."""
    _followers[kind][name] = follower


def notes_channel() -> str:
    """The Redis channel every process hears the notes on. Pub/sub ignores the database
    index, so the channel names it: deployments sharing a Redis server on indexes of
    their own never hear each other's changes."""
    return _notes_channel(settings.REDIS_URL)


@functools.lru_cache(maxsize=4)
def _notes_channel(url: str) -> str:
    """Parsed once per URL, not on every change's publish."""
    index = redis.connection.parse_url(url).get("db", 0)
    return f"{CHANNEL_PREFIX}:{index}:changes"


def followers(kind: str) -> dict[str, Follower]:
    return dict(_followers[kind])


def changed(kind: str, pk: int) -> None:
    """After commit: `kind` `pk` changed. Every process hears it and renders it where a
    page listens (`Hub.changed`); this costs the caller one small Redis publish at most."""
    if not settings.REDIS_URL:
        hub.changed(kind, pk)
        return
    try:
        _redis().publish(notes_channel(), f"{kind}:{pk}")
    except Exception as error:
        # A lost update is repaired by the state sent on every (re)connect.
        logger.warning("live: could not publish to redis: %s", error)


# -- the SSE plumbing (the streams: pay/live.py, staff/live.py) --------------------


def stream_response(events: AsyncIterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


async def relay(queue: asyncio.Queue[Message]) -> AsyncIterator[bytes]:
    idle = 0.0
    while True:
        message = await queue.get()
        if message is not TICK:
            idle = 0.0
            yield message.encode()
            continue
        if hub.degraded:
            # No bus, so no pushes: end the stream. The browser reconnects
            # (`retry: 2000`, then htmx's back-off) and every new stream
            # starts with the current state: a periodic refresh until the
            # subscription is back.
            return
        idle += tick_seconds()
        if idle >= KEEPALIVE_SECONDS:
            idle = 0.0
            yield b": keep-alive\n\n"
