"""Staff addresses for quotes (`/quotes/...`)."""

from __future__ import annotations

from django.urls import path

from invoices.staff import quote_editor, quotes

app_name = "quotes"

urlpatterns = [
    path("", quotes.quote_list, name="list"),
    path("new/", quotes.quote_new, name="new"),
    path("<int:pk>/", quotes.quote_detail, name="detail"),
    path("<int:pk>/edit/", quote_editor.edit_quote, name="edit"),
    path("<int:pk>/send/", quotes.quote_send, name="send"),
    path("<int:pk>/convert/", quotes.quote_convert, name="convert"),
    path("<int:pk>/pdf/", quotes.quote_pdf_view, name="pdf"),
]
