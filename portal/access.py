"""Who may see what: one helper per kind of visitor."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

View = Callable[..., Any]


def _refusal(request: HttpRequest, user: Any) -> HttpResponse | None:
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not (user.is_active and user.is_staff):
        raise PermissionDenied("Staff only")
    return None


def private(response: HttpResponse) -> HttpResponse:
    """`Cache-Control: no-store`: no browser, proxy or back-forward cache keeps a copy."""
    add_never_cache_headers(response)
    return response


def staff_required(view: View) -> View:
    """Anonymous visitors go to the login page; signed-in non-staff get 403.

    What staff see (customers, amounts, pay links, the CSV export) is never stored.
    """
    if inspect.iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refusal = _refusal(request, await request.auser())
            return private(refusal or await view(request, *args, **kwargs))

        return async_wrapper

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return private(_refusal(request, request.user) or view(request, *args, **kwargs))

    return wrapper
