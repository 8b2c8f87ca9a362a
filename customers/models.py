from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from portal.i18n import LANGUAGE_CHOICES


def new_account_token() -> str:
    # 192 random bits, URL-safe, like the pay link: the only secret guarding the account page.
    return secrets.token_urlsafe(24)


def digest_account_token(token: str) -> str:
    """What the database is searched by, so no lookup time depends on the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


class CustomerQuerySet(models.QuerySet["Customer"]):
    def active(self) -> CustomerQuerySet:
        return self.filter(archived_at__isnull=True)

    def search(self, term: str) -> CustomerQuerySet:
        term = term.strip()
        if not term:
            return self
        return self.filter(
            models.Q(name__icontains=term)
            | models.Q(email__icontains=term)
            | models.Q(company__icontains=term)
        )


class Customer(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField()
    company = models.CharField(max_length=200, blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    state = models.CharField("state / region", max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. US")
    tax_id = models.CharField("tax ID", max_length=50, blank=True)
    language = models.CharField(
        max_length=8,
        choices=LANGUAGE_CHOICES,
        blank=True,
        help_text="For the pay page, emails and PDFs. Blank: the business's default language.",
    )
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    # The customer's account link (all their invoices); blank while staff have it revoked.
    account_token = models.CharField(max_length=64, blank=True, editable=False)
    account_token_digest = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    # Staff may ask for more than the link: a one-time code emailed to the customer.
    account_requires_code = models.BooleanField(default=False, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = [Lower("name"), "id"]
        # Ends with the id so a page link seeks straight to its row (portal/keyset.py).
        indexes = [models.Index(Lower("name"), "id", name="customer_name_lower_id")]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and not self.account_token:
            self.account_token = new_account_token()
        self.account_token_digest = (
            digest_account_token(self.account_token) if self.account_token else None
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "account_token" in update_fields:
            kwargs["update_fields"] = {*update_fields, "account_token_digest"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])

    @property
    def address_lines(self) -> list[str]:
        city_line = " ".join(p for p in (self.postal_code, self.city) if p)
        region = ", ".join(p for p in (city_line, self.state, self.country) if p)
        return [line for line in (self.address_line1, self.address_line2, region) if line]

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def archive(self) -> None:
        self.archived_at = timezone.now()
        self.save(update_fields=["archived_at", "updated_at"])

    def restore(self) -> None:
        self.archived_at = None
        self.save(update_fields=["archived_at", "updated_at"])

    @property
    def account_url(self) -> str:
        """The customer's account page, for emails (empty while the link is revoked)."""
        if not self.account_token:
            return ""
        return settings.SITE_URL + reverse("account:page", args=[self.account_token])

    def issue_account_token(self) -> None:
        """A new account link; any earlier one stops working at once."""
        self.account_token = new_account_token()
        self.save(update_fields=["account_token", "updated_at"])

    def revoke_account_token(self) -> None:
        self.account_token = ""
        self.save(update_fields=["account_token", "updated_at"])
