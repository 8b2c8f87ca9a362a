"""Staff actions on a customer's account link, each with an entry in the account's trail."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from customers.models import Customer
from invoices.models import AccountActivity


def _actor(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def issue_account_link(*, customer: Customer, actor: Any = None) -> Customer:
    """A new link: the one already sent (if any) stops working at once."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        replaced = bool(customer.account_token)
        customer.issue_account_token()
        AccountActivity.objects.create(
            customer=customer,
            kind=AccountActivity.Kind.LINK_ISSUED,
            actor=_actor(actor),
            message="New account link issued"
            + (" (the old one no longer works)" if replaced else ""),
        )
    return customer


def revoke_account_link(*, customer: Customer, actor: Any = None) -> Customer:
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if not customer.account_token:
            return customer  # already revoked: nothing to record twice
        customer.revoke_account_token()
        AccountActivity.objects.create(
            customer=customer,
            kind=AccountActivity.Kind.LINK_REVOKED,
            actor=_actor(actor),
            message="Account link revoked: emails carry no account link until a new one is issued",
        )
    return customer


def require_code(*, customer: Customer, required: bool, actor: Any = None) -> Customer:
    """Whether the account page asks for an emailed one-time code before it opens."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.account_requires_code == required:
            return customer
        customer.account_requires_code = required
        customer.save(update_fields=["account_requires_code", "updated_at"])
        AccountActivity.objects.create(
            customer=customer,
            kind=AccountActivity.Kind.CODE_REQUIRED
            if required
            else AccountActivity.Kind.CODE_NOT_REQUIRED,
            actor=_actor(actor),
            message="The account page now asks for an emailed code"
            if required
            else "The account page no longer asks for an emailed code",
        )
    return customer
