from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: 200 `ok` once the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


@require_safe
@never_cache
def queue_health(request: HttpRequest) -> HttpResponse:
    """For monitoring: how far behind the email outbox is (logfmt, one line).

    `oldest_pending_seconds` grows while the mail server or the worker is down;
    alert when it passes a few minutes. `failed` counts emails staff must send
    again. 503 when the database does not answer.
    """
    from invoices.email_log import EmailLog
    from invoices.outbox import oldest_pending_age

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
