"""The site's addresses: each app's URLconf, included by name (portal imports no app)."""

from __future__ import annotations

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from portal import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", include("invoices.root_urls")),
    path("pay/quote/", include("invoices.pay.quote_urls")),
    path("pay/", include("invoices.pay.urls")),
    path("quotes/", include("invoices.staff.quote_urls")),
    path("account/", include("invoices.account.urls")),
    path("customers/", include("customers.urls")),
    path("accounts/", include("portal.auth_urls")),
    path("admin/", admin.site.urls),
    path("", include("invoices.staff.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
