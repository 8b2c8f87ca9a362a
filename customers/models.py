from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from portal.i18n import LANGUAGE_CHOICES


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
