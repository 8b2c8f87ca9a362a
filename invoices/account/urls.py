from __future__ import annotations

from django.urls import path

from invoices.account import views

app_name = "account"

urlpatterns = [
    path("<str:token>/", views.account_page, name="page"),
    path("<str:token>/invoices/", views.account_invoices, name="invoices"),
    path("<str:token>/code/", views.send_code, name="send_code"),
    path("<str:token>/code/check/", views.check_code, name="check_code"),
    path("<str:token>/pay/", views.start_payment, name="start"),
    path("<str:token>/pay/check/", views.check_payment, name="check"),
    path("<str:token>/statement.pdf", views.statement_download, name="statement_pdf"),
    path("<str:token>/receipts/<int:pk>.pdf", views.receipt_download, name="receipt_pdf"),
    path(
        "<str:token>/credit-notes/<int:pk>.pdf",
        views.credit_note_download,
        name="credit_note_pdf",
    ),
]
