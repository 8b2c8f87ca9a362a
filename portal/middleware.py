"""Middleware that stays async under ASGI (a sync-only one would put every
request, SSE streams included, through a thread hop)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.cache import add_never_cache_headers
from whitenoise.middleware import WhiteNoiseMiddleware

request_log = logging.getLogger("portal.requests")

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class HybridMiddleware:
    """Serves sync and async stacks alike: `__call__` hands an async stack to `__acall__`."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)


class StaticFilesMiddleware(HybridMiddleware):
    """WhiteNoise for `STATIC_URL` paths only; every other request passes straight on."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        super().__init__(get_response)
        self.whitenoise = WhiteNoiseMiddleware(lambda request: None)
        self.prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        if request.path_info.startswith(self.prefix):
            response = self.whitenoise(request)
            if response is not None:
                return response
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(self.prefix):
            response = await sync_to_async(self.whitenoise, thread_sensitive=False)(request)
            if response is not None:
                return response
        return await self.get_response(request)


class RequestLogMiddleware(HybridMiddleware):
    """One line per request: method, path, status, duration and the invoice if any.

    Views set `request.log_invoice` so the line carries the invoice id (never a
    pay token: those are secrets and stay out of the logs).
    """

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self._log(request, response, started)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response: HttpResponse = await self.get_response(request)  # type: ignore[misc]
        self._log(request, response, started)
        return response

    def _log(self, request: HttpRequest, response: HttpResponse, started: float) -> None:
        if not request_log.isEnabledFor(logging.INFO):
            return
        match = request.resolver_match
        route = match.view_name if match else "-"
        path = request.path if route not in ("pay:invoice", "pay:start", "pay:events") else route
        request_log.info(
            "request",
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "invoice": getattr(request, "log_invoice", None),
            },
        )


class CustomerLinkMiddleware(HybridMiddleware):
    """Everything under `/pay/` and `/account/` (pages, PDFs, streams, and the 404 of a
    wrong link) is reached through a secret link: never stored by a cache, never indexed."""

    PREFIX = ("/pay/", "/account/")

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        return self._mark(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        return self._mark(request, await self.get_response(request))  # type: ignore[misc]

    def _mark(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.path_info.startswith(self.PREFIX):
            add_never_cache_headers(response)
            response["X-Robots-Tag"] = "noindex, nofollow"
        return response


def _has_nul(values: Any) -> bool:
    return any("\x00" in key or any("\x00" in v for v in vs) for key, vs in values.lists())


class RefuseNulMiddleware(HybridMiddleware):
    """400 for a NUL character in the path, a query parameter or a posted form field.

    No person types one, PostgreSQL refuses it in text (a 500 wherever it
    reaches a query), and Django's form fields already refuse it: this covers
    every other place a value is read, including views written tomorrow.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        return self._refuse(request) or self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        return await self.get_response(request)  # type: ignore[misc]

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse | None:
        suspect = "\x00" in request.path_info or _has_nul(request.GET)
        # The customer's pay-time check answers its own refusal ("Nothing was
        # charged"), which the pay page shows; every other form gets this 400.
        posted_form = request.method == "POST" and request.content_type in FORM_TYPES
        if not suspect and posted_form and not request.path_info.startswith("/pay/"):
            suspect = _has_nul(request.POST)
        if suspect:
            return HttpResponseBadRequest(
                "A NUL character is not allowed in a request.", content_type="text/plain"
            )
        return None
