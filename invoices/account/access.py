"""The one door to a customer's account page: the account token from their emails."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from customers.models import Customer, digest_account_token
from invoices.account import codes


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


def account_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The customer from the token (404 otherwise), passed to the view; 403 while the page
    waits for its emailed code (the page itself shows the code form instead)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        customer = customer_for_token(token)
        if not codes.unlocked(request, customer):
            raise PermissionDenied("This account page needs its emailed code")
        return view(request, customer, token, *args, **kwargs)

    return wrapper
