"""Staff addresses for quotes (`/quotes/...`)."""

from __future__ import annotations

from django.urls import path

from invoices.staff import quote_editor, quote_editor_lines, quotes

app_name = "quotes"

urlpatterns = [
    path("", quotes.quote_list, name="list"),
    path("new/", quotes.quote_new, name="new"),
    path("<int:pk>/", quotes.quote_detail, name="detail"),
    path("<int:pk>/edit/", quote_editor.edit_quote, name="edit"),
    # The invoice editor's addresses, in the same shape (invoices/staff/editor_urls.py).
    path("<int:pk>/lines/add/", quote_editor_lines.add_line, name="add_line"),
    path("<int:pk>/lines/<int:index>/remove/", quote_editor_lines.remove_line, name="remove_line"),
    path(
        "<int:pk>/lines/<int:index>/restore/", quote_editor_lines.restore_line, name="restore_line"
    ),
    path("<int:pk>/lines/<int:index>/pick/", quote_editor_lines.pick_item, name="pick_item"),
    path(
        "<int:pk>/lines/<int:index>/suggestions/",
        quote_editor_lines.suggestions,
        name="catalog_suggestions",
    ),
    path(
        "<int:pk>/lines/<int:index>/<str:direction>/",
        quote_editor_lines.move_line,
        name="move_line",
    ),
    path("<int:pk>/send/", quotes.quote_send, name="send"),
    path("<int:pk>/convert/", quotes.quote_convert, name="convert"),
    path("<int:pk>/pdf/", quotes.quote_pdf_view, name="pdf"),
]
