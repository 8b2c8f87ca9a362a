"""Which language a customer reads: their own, else the business's default."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from customers.models import Customer
from invoices.models import BusinessProfile
from portal.i18n import ENGLISH, language


def customer_language(customer: Customer, default: str | None = None) -> str:
    """The customer's own language, else the business's default (`default` saves a query)."""
    if customer.language:
        return customer.language
    if default is None:
        default = BusinessProfile.load().default_language
    return default or ENGLISH


@contextmanager
def in_customer_language(customer: Customer, default: str | None = None) -> Iterator[str]:
    with language(customer_language(customer, default)) as code:
        yield code
