"""Stripe's webhook: verify, store the event once, dispatch to a handler."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    if "Stripe-Signature" not in request.headers:
        return HttpResponse("missing Stripe-Signature header", status=400)
    return HttpResponse("not implemented yet", status=503)
