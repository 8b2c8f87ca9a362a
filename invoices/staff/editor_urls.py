"""Where the shared editor template (`invoices/editor.html`) posts: the invoice
editor's addresses or the quote editor's, which follow the same shape
(`.../edit/`, `.../lines/add/`, `.../lines/<i>/remove/`, `up/`, `down/`,
`restore/`, `pick/`, `suggestions/`)."""

from __future__ import annotations

from django.urls import reverse

from invoices.models import Invoice, Quote


def _urls(namespace: str, pk: int, *, autosave: bool) -> dict[str, object]:
    add = reverse(f"{namespace}:add_line", args=[pk])
    return {
        "save": reverse(f"{namespace}:edit", args=[pk]),
        "add": add,
        "lines": add.removesuffix("add/"),  # + "<i>/remove/" and the others
        "autosave": autosave,
    }


def invoice_editor_urls(invoice: Invoice) -> dict[str, object]:
    return _urls("invoices", invoice.pk, autosave=True)


def quote_editor_urls(quote: Quote) -> dict[str, object]:
    # A sent quote saves on request only: each saved change is a new version the customer sees.
    draft = quote.status == Quote.Status.DRAFT
    urls = _urls("quotes", quote.pk, autosave=draft)
    urls["save_label"] = "Save draft" if draft else "Save as a new version"
    return urls
