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

# The streams' URLs (portal/urls.py `live/...`, invoices/pay_urls.py `<token>/events/`).
STREAMS = re.compile(r"/live/|/pay/[^/]+/events/$")

streams = get_asgi_application()
# Each thread holds at most one database connection from the pool at a time.
pages = WSGIMiddleware(get_wsgi_application(), workers=settings.WEB_THREADS)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and not STREAMS.match(scope["path"]):
        await pages(scope, receive, send)  # type: ignore[arg-type]
    else:
        await streams(scope, receive, send)
