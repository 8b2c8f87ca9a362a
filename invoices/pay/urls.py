from __future__ import annotations

from django.urls import path

from invoices.documents import views as document_views
from invoices.pay import credit_notes as pay_credit_notes
from invoices.pay import saved_methods as saved_method_views
from invoices.pay import views as pay_views

app_name = "pay"

urlpatterns = [
    # Three segments: never taken for a pay token's pages (`<token>/<page>/`).
    path(
        "saved-methods/<str:token>/remove/",
        saved_method_views.saved_methods_page,
        name="saved_methods",
    ),
    path("<str:token>/", pay_views.invoice_page, name="invoice"),
    path("<str:token>/pay/", pay_views.start_payment, name="start"),
    path("<str:token>/pay/check/", pay_views.check_payment, name="check"),
    path("<str:token>/state/", pay_views.state, name="state"),
    path("<str:token>/receipt/", pay_views.receipt, name="receipt"),
    path("<str:token>/pdf/", document_views.pay_pdf, name="pdf"),
    path("<str:token>/events/", pay_views.events, name="events"),
    path(
        "<str:token>/credit-notes/<str:number>/pdf/",
        pay_credit_notes.credit_note_pdf,
        name="credit_note_pdf",
    ),
]
