from __future__ import annotations

from django.urls import path

from invoices import views

app_name = "invoices"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("invoices/<int:pk>/", views.invoice_detail, name="detail"),
]
