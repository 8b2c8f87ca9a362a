"""The one door to a customer's account page: the account token from their emails."""

from __future__ import annotations

import hmac

from django.http import Http404

from customers.models import Customer, digest_account_token


def customer_for_token(token: str) -> Customer:
    """A wrong or revoked link is a 404; the lookup is by digest, the check constant-time."""
    customer = Customer.objects.filter(account_token_digest=digest_account_token(token)).first()
    if (
        customer is None
        or not customer.account_token
        or not hmac.compare_digest(customer.account_token, token)
    ):
        raise Http404("No such account")
    return customer
