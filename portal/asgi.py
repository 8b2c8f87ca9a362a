"""The one entry point the web server runs (`uvicorn portal.asgi:application`).

Only the Server-Sent Event streams need ASGI: they hold a connection open for
minutes and must not pin a thread each. Every other request is an ordinary
short page, and Django's ASGI handler costs it about 3.5 ms here (a thread of
its own per request, sync middleware and views hopped through asgiref), whichever
ASGI server runs it. So this entry passes the streams to Django's ASGI handler
and everything else to Django's WSGI handler on a fixed pool of threads, the
fastest of the options `make bench` measures that keeps one process, one port
and one start command (docs/benchmarks.md, "Serving").
"""

from __future__ import annotations

import os
import re
from typing import Any

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# The streams' URLs (invoices/root_urls.py `live/...`, invoices/pay/urls.py `<token>/events/`).
STREAMS = re.compile(r"/live/|/pay/[^/]+/events/$")

streams = get_asgi_application()
# Each thread holds at most one database connection from the pool at a time.
pages = WSGIMiddleware(get_wsgi_application(), workers=settings.WEB_THREADS)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http" or STREAMS.match(scope["path"]):
        await streams(scope, receive, send)
        return
    body = await whole_body(receive)
    if body is None:
        return  # the client left mid-request: nothing to answer, nothing half-read to act on
    replayed = False

    async def replay() -> dict[str, Any]:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    await pages(scope, replay, send)  # type: ignore[arg-type]


async def whole_body(receive: Any) -> bytes | None:
    """The request's body, or None if the client disconnected before sending all of it.

    The WSGI bridge would hand Django a body cut short as if it were complete (a
    form with a truncated field); Django's ASGI handler drops such a request, and
    so does this.
    """
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
