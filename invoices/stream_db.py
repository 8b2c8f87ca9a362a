"""The streams' database work: a few threads of their own, and what a busy stream says.

A stream's own database work is short (who is asking, the current state) but
arrives in bursts: a deploy or a network blip reconnects every open page at once.
It runs on a few threads of its own, each closing its connection as soon as it is
done, so a burst queues here (costing nothing while it waits) instead of taking
every connection of the pool from the ordinary pages; what cannot be served in
time is told to come back (`busy_response`, `retry_hint`), never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import OperationalError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("invoices.live")

STREAM_DB_WAIT_SECONDS = 8.0
RETRY_SECONDS = (1.0, 4.0)  # spread over this range so a refused burst does not return as one
_stream_executor: ThreadPoolExecutor | None = None
_stream_executor_lock = threading.Lock()


class Busy(Exception):
    """The database could not serve a stream's lookup in time (pool exhausted, or down)."""


def stream_db_threads() -> int:
    """What the pool has beyond the pages' threads (each holds at most one connection)."""
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    if not isinstance(pool, dict):
        return 2
    return max(1, min(4, pool.get("max_size", 4) - settings.WEB_THREADS))


def stream_executor() -> ThreadPoolExecutor:
    global _stream_executor
    with _stream_executor_lock:
        if _stream_executor is None:
            _stream_executor = ThreadPoolExecutor(stream_db_threads(), "stream-db")
        return _stream_executor


def run_closing(function: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    try:
        return function(*args)
    finally:
        connections.close_all()  # this thread's connection goes straight back to the pool


async def on_stream_db(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` on a stream database thread; raises `Busy` if it cannot run in time.

    Other exceptions (Http404, PermissionDenied) pass through as raised.
    """
    if getattr(settings, "LIVE_STREAMS_SHARE_REQUEST_CONNECTION", False):
        # In-process tests: the request's own thread and connection, so the stream sees
        # the test's uncommitted rows (the real servers' tests use the threads below).
        try:
            return await sync_to_async(function)(*args)
        except OperationalError as error:
            raise Busy(str(error)) from error
    loop = asyncio.get_running_loop()
    job = loop.run_in_executor(stream_executor(), run_closing, function, args)
    try:
        # A job still queued when the wait ends is cancelled, so it never runs.
        return await asyncio.wait_for(job, STREAM_DB_WAIT_SECONDS)
    except TimeoutError as error:
        raise Busy("stream lookups queued too long") from error
    except OperationalError as error:
        logger.warning("live: stream lookup refused (%s); the client is told to retry", error)
        raise Busy(str(error)) from error


def retry_seconds() -> float:
    return random.uniform(*RETRY_SECONDS)


def retry_hint(seconds: float) -> bytes:
    """An SSE stream's last words: the browser's EventSource reconnects after `seconds`."""
    return f"retry: {int(seconds * 1000)}\n: busy, reconnect shortly\n\n".encode()


def busy_response(request: HttpRequest) -> HttpResponse:
    """A stream that could not start now: EventSource clients get a stream that only says
    when to reconnect (the one retry an EventSource honours); others a 503 with Retry-After."""
    seconds = retry_seconds()
    if "text/event-stream" in request.headers.get("Accept", ""):
        response = HttpResponse(retry_hint(seconds), content_type="text/event-stream")
    else:
        response = HttpResponse("Busy, retry shortly.\n", status=503, content_type="text/plain")
    response["Retry-After"] = str(math.ceil(seconds))
    response["Cache-Control"] = "no-cache"
    return response
