"""htmx in one place: when a view answers a fragment, and how a form says it is done.

A page and its fragment share one URL (the list's search box asks for
`#results`), so whether the fragment is wanted is decided here for every view:
an htmx request that swaps part of the page gets the partial; a boosted link,
a history restore (htmx asks for the whole page when its cache misses) and a
plain browser request get the page. Caches must keep the two apart, so every
such response carries `Vary: HX-Request`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect

from portal import timezones


def wants_fragment(request: HttpRequest, target: str = "") -> bool:
    """An htmx request for part of the page (aimed at element `target`, when given)."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.boosted or htmx.history_restore_request:
        return False
    return not target or htmx.target == target


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragment: str,
    target: str = "",
) -> HttpResponse:
    """`template`, or its `{% partialdef fragment %}` when htmx asks for that part."""
    if wants_fragment(request, target):
        template = f"{template}#{fragment}"
    # A fragment skips the base template's `{% in_business_zone %}`: times stay in it.
    profile = context.get("business") or context.get("profile")
    with timezone.override(timezones.business_zone(profile)):
        return vary_on_htmx(render(request, template, context))


def vary_on_htmx(response: HttpResponse) -> HttpResponse:
    # The same URL answers a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def done(request: HttpRequest, url: str) -> HttpResponse:
    """After a successful POST: htmx follows `HX-Redirect`; a plain form a 302."""
    return HttpResponseClientRedirect(url) if getattr(request, "htmx", None) else redirect(url)
