"""Monitoring of the email outbox (`/healthz/queue`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from invoices.email_log import EmailLog
from invoices.outbox import oldest_pending_age


@require_safe
@never_cache
def queue_health(request: HttpRequest) -> HttpResponse:
    """For monitoring: how far behind the email outbox is (logfmt, one line).

    `oldest_pending_seconds` grows while the mail server or the worker is down;
    alert when it passes a few minutes. `failed` counts emails staff must send
    again. 503 when the database does not answer.
    """
    try:
        age = oldest_pending_age()
        counts = {
            status: EmailLog.objects.filter(status=status).count()
            for status in (EmailLog.Status.PENDING, EmailLog.Status.FAILED)
        }
    except Exception:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    seconds = int(age.total_seconds()) if age else 0
    body = f"oldest_pending_seconds={seconds} pending={counts['pending']} failed={counts['failed']}"
    return HttpResponse(body, content_type="text/plain")
