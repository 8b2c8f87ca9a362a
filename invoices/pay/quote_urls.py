"""The customer's quote addresses (`/pay/quote/<token>/...`: a secret link, like the pay link)."""

from __future__ import annotations

from django.urls import path

from invoices.pay import quotes

app_name = "quote_pay"

urlpatterns = [
    path("<str:token>/", quotes.quote_page, name="quote"),
    path("<str:token>/accept/", quotes.quote_accept, name="accept"),
    path("<str:token>/decline/", quotes.quote_decline, name="decline"),
    path("<str:token>/pdf/", quotes.quote_pdf_download, name="pdf"),
]
