from __future__ import annotations

from django.urls import path

from invoices.documents import views as document_views
from invoices.staff import (
    actions,
    bulk,
    catalog,
    corrections,
    credit_notes,
    editor,
    editor_actions,
    exports,
    ledger_views,
    receivables_views,
    recurring,
    views,
)

app_name = "invoices"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("invoices/export.csv", exports.export_csv, name="export"),
    path("invoices/bulk/", bulk.bulk_review, name="bulk_review"),
    path("invoices/bulk/run/", bulk.bulk_run, name="bulk_run"),
    path("invoices/new/", editor.new_invoice, name="new"),
    path("invoices/<int:pk>/", views.invoice_detail, name="detail"),
    path("invoices/<int:pk>/edit/", editor.edit_invoice, name="edit"),
    path("invoices/<int:pk>/lines/add/", editor.add_line, name="add_line"),
    path("invoices/<int:pk>/lines/<int:index>/remove/", editor.remove_line, name="remove_line"),
    # Before the move pattern, whose <direction> would take these words too.
    path("invoices/<int:pk>/lines/<int:index>/pick/", editor_actions.pick_item, name="pick_item"),
    path(
        "invoices/<int:pk>/lines/<int:index>/restore/",
        editor_actions.restore_line,
        name="restore_line",
    ),
    path(
        "invoices/<int:pk>/lines/<int:index>/suggestions/",
        catalog.suggestions,
        name="catalog_suggestions",
    ),
    path("invoices/<int:pk>/customer/", editor_actions.change_customer, name="change_customer"),
    path(
        "invoices/<int:pk>/lines/<int:index>/<str:direction>/",
        editor.move_line,
        name="move_line",
    ),
    path("invoices/<int:pk>/finalize/", actions.finalize, name="finalize"),
    path("invoices/<int:pk>/send/", actions.send, name="send"),
    path("invoices/<int:pk>/remind/", actions.remind, name="remind"),
    path("invoices/<int:pk>/void/", actions.void, name="void"),
    path("invoices/<int:pk>/uncollectible/", actions.uncollectible, name="uncollectible"),
    path("invoices/<int:pk>/revoke-link/", actions.revoke_link, name="revoke_link"),
    path("invoices/<int:pk>/duplicate/", actions.duplicate, name="duplicate"),
    path("invoices/<int:pk>/delete/", actions.delete_draft, name="delete_draft"),
    path("invoices/<int:pk>/payments/new/", actions.record_payment, name="record_payment"),
    path(
        "invoices/<int:pk>/credit-notes/new/",
        credit_notes.new_credit_note,
        name="new_credit_note",
    ),
    path(
        "invoices/<int:pk>/credit-notes/<int:note_pk>.pdf",
        credit_notes.credit_note_pdf,
        name="credit_note_pdf",
    ),
    path("invoices/<int:pk>/payments/<int:payment_pk>/refund/", actions.refund, name="refund"),
    path(
        "invoices/<int:pk>/payments/<int:payment_pk>/reverse/",
        corrections.reverse_payment,
        name="reverse_payment",
    ),
    path(
        "invoices/<int:pk>/flags/<int:flag_pk>/resolve/", actions.resolve_flag, name="resolve_flag"
    ),
    path(
        "invoices/<int:pk>/sent-emails/<int:email_pk>/again/",
        actions.send_email_again,
        name="send_email_again",
    ),
    path(
        "invoices/<int:pk>/flags/<int:flag_pk>/refund-excess/",
        actions.refund_excess,
        name="refund_excess",
    ),
    path("invoices/<int:pk>/pdf/", document_views.invoice_pdf, name="pdf"),
    path(
        "invoices/<int:pk>/payments/<int:payment_pk>/receipt.pdf",
        document_views.receipt_pdf,
        name="receipt_pdf",
    ),
    path(
        "invoices/<int:pk>/emails/<str:kind>/", document_views.email_preview, name="email_preview"
    ),
    path(
        "invoices/<int:pk>/emails/<str:kind>/html/",
        document_views.email_preview_html,
        name="email_preview_html",
    ),
    path("recurring/", recurring.recurring_list, name="recurring_list"),
    path("recurring/new/", recurring.recurring_new, name="recurring_new"),
    path("invoices/<int:pk>/make-recurring/", recurring.recurring_new, name="make_recurring"),
    path("recurring/<int:pk>/pause/", recurring.recurring_pause, name="recurring_pause"),
    path("recurring/<int:pk>/resume/", recurring.recurring_resume, name="recurring_resume"),
    path("settings/business/", views.business_profile, name="profile"),
    path("catalog/", catalog.catalog, name="catalog"),
    path("catalog/items/new/", catalog.item_form, name="catalog_item_new"),
    path("catalog/items/<int:pk>/", catalog.item_form, name="catalog_item"),
    path("catalog/items/<int:pk>/archive/", catalog.item_archive, name="catalog_item_archive"),
    path("catalog/tax-rates/new/", catalog.rate_form, name="tax_rate_new"),
    path("catalog/tax-rates/<int:pk>/", catalog.rate_form, name="tax_rate"),
    path("catalog/tax-rates/<int:pk>/archive/", catalog.rate_archive, name="tax_rate_archive"),
    path("payments/", ledger_views.ledger, name="ledger"),
    path("payments/export.csv", ledger_views.ledger_csv, name="ledger_csv"),
    path("receivables/", receivables_views.receivables, name="receivables"),
]
