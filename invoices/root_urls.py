"""Addresses outside the app's namespaces, fixed by others: Stripe's webhook URL
(`stripe listen --forward-to .../invoices/wh/`), monitoring, the brand stylesheet,
the staff feed and the webhook-events page (bare URL names, as templates and links use them)."""

from __future__ import annotations

from django.urls import path

from invoices import health
from invoices.pay import views as pay_views
from invoices.payments import webhooks
from invoices.staff import events, quote_live
from invoices.staff import live as staff_live

urlpatterns = [
    path("healthz/queue", health.queue_health, name="queue_health"),
    # Outside /pay/: no secret in it, so caches may keep it (see CustomerLinkMiddleware).
    path("brand.css", pay_views.brand, name="brand_css"),
    path("invoices/wh/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("live/staff/", staff_live.staff_stream, name="live_staff"),
    # A stream: under /live/, which `portal.asgi` serves over ASGI.
    path("live/quotes/<int:pk>/", quote_live.quote_stream, name="live_quote"),
    path("webhook-events/", events.event_list, name="webhook_events"),
    path(
        "webhook-events/<int:pk>/reprocess/",
        events.reprocess_event,
        name="webhook_event_reprocess",
    ),
]
