"""The one entry point sends the SSE streams to Django's ASGI handler and every
other request to its WSGI handler (portal/asgi.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from portal.asgi import STREAMS, application, whole_body


def sample_paths(patterns: list, prefix: str = "/") -> list[tuple[str, URLPattern]]:
    """A concrete path for every route (`<int:...>` -> 1, any other converter -> a word)."""
    found = []
    for entry in patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue  # the admin's regex routes: ordinary sync pages
        route = re.sub(r"<int:[^>]+>", "1", str(entry.pattern))
        route = re.sub(r"<[^>]+>", "token", route)
        if isinstance(entry, URLResolver):
            found += sample_paths(entry.url_patterns, prefix + route)
        else:
            found.append((prefix + route, entry))
    return found


def test_it_sends_exactly_the_async_views_to_the_asgi_handler():
    paths = sample_paths(get_resolver().url_patterns)
    streamed = {path for path, entry in paths if iscoroutinefunction(entry.callback)}
    assert streamed == {"/live/staff/", "/live/quotes/1/", "/pay/token/events/"}
    for path, _entry in paths:
        assert bool(STREAMS.match(path)) == (path in streamed), path


def test_it_keeps_pages_that_only_look_like_streams_on_wsgi():
    assert not STREAMS.match("/pay/token/")
    assert not STREAMS.match("/pay/token/events/extra")
    assert not STREAMS.match("/customers/live/")
    assert STREAMS.match("/live/staff/")


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """`asyncio.run` on a thread of its own: the browser suite's Playwright keeps an event
    loop running on the main thread for the rest of the session."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def messages(*items: dict) -> object:
    queue = list(items)

    async def receive() -> dict:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    return receive


def test_it_drops_a_request_whose_client_left_mid_body():
    sent = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/invoices/wh/", "headers": []}
    receive = messages({"type": "http.request", "body": b'{"id": "evt_', "more_body": True})
    run(application(scope, receive, send))
    assert sent == []


def test_it_hands_the_whole_body_to_the_page_in_one_piece():
    receive = messages(
        {"type": "http.request", "body": b"a=1&", "more_body": True},
        {"type": "http.request", "body": b"b=2", "more_body": False},
    )
    assert run(whole_body(receive)) == b"a=1&b=2"
