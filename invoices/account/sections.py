"""What other features add to the customer's account page: their quotes and their saved
payment methods, each one query whatever the count (registered in `invoices.apps`)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from customers.models import Customer
from invoices.account.context import register_section
from invoices.models import Quote, SavedPaymentMethod
from invoices.saved_methods import removal_token

RECENT_QUOTES = 50


def quotes_section(customer: Customer) -> dict[str, Any]:
    """Every quote sent to the customer, newest first (drafts are the business's own)."""
    quotes = list(
        Quote.objects.filter(customer=customer)
        .exclude(status=Quote.Status.DRAFT)
        .order_by("-issue_date", "-id")[:RECENT_QUOTES]
    )
    return {"quotes": quotes}


def saved_methods_section(customer: Customer) -> dict[str, Any]:
    """The saved cards and accounts, with the page that removes them (nothing if none)."""
    methods = list(SavedPaymentMethod.objects.filter(customer=customer))
    removal = reverse("pay:saved_methods", args=[removal_token(customer)]) if methods else ""
    return {"methods": methods, "removal_url": removal}


def register() -> None:
    register_section("quotes", "account/_quotes.html", quotes_section)
    register_section("saved_methods", "account/_saved_methods.html", saved_methods_section)
