from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from invoices import event_views, live, pay_views, webhooks
from portal import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("healthz/queue", views.queue_health, name="queue_health"),
    path("invoices/wh/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("live/staff/", live.staff_stream, name="live_staff"),
    path("webhook-events/", event_views.event_list, name="webhook_events"),
    path(
        "webhook-events/<int:pk>/reprocess/",
        event_views.reprocess_event,
        name="webhook_event_reprocess",
    ),
    # Outside /pay/: no secret in it, so caches may keep it (see CustomerLinkMiddleware).
    path("brand.css", pay_views.brand, name="brand_css"),
    path("pay/", include("invoices.pay_urls")),
    path("customers/", include("customers.urls")),
    path("accounts/", include("portal.auth_urls")),
    path("admin/", admin.site.urls),
    path("", include("invoices.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
