"""The business sending the invoices: its name, brand, defaults and the payment
methods it offers (one row, edited by superusers)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction

from invoices import payment_methods
from invoices.states import DEFAULT_BRAND_COLOR, Terms
from portal import timezones
from portal.i18n import LANGUAGE_CHOICES
from portal.money import CURRENCY_CHOICES


class BusinessProfile(models.Model):
    """The business sending the invoices: one row, edited by superusers."""

    name = models.CharField(max_length=200, default="Acme Studio")
    email = models.EmailField(default="billing@example.com")
    phone = models.CharField(
        max_length=40, blank=True, help_text="Shown to customers beside the email."
    )
    address = models.TextField(blank=True, default="1 Market Street\nSan Francisco, CA 94105")
    tax_id = models.CharField("tax ID", max_length=50, blank=True)
    logo = models.ImageField(upload_to="logos/", blank=True)
    brand_color = models.CharField(
        max_length=7,
        default=DEFAULT_BRAND_COLOR,
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Enter a colour like #3446c9.")],
        help_text="The pay page's button and accent colour (#rrggbb).",
    )
    default_currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD")
    default_terms = models.CharField(max_length=20, choices=Terms.choices, default=Terms.NET_30)
    default_language = models.CharField(
        max_length=8,
        choices=LANGUAGE_CHOICES,
        default="en",
        help_text="What customers without a language of their own read.",
    )
    time_zone = models.CharField(
        max_length=64,
        default=timezones.default_zone,
        validators=[timezones.validate_zone],
        help_text="Where the business is (e.g. Europe/Berlin): every time staff and customers "
        "see is shown in it.",
    )
    number_prefix = models.CharField(max_length=12, default="INV-")
    reminder_schedule = models.CharField(
        max_length=100,
        default="-3,0,7,14",
        help_text="Days relative to the due date, comma separated (-3 = three days before).",
    )
    default_footer = models.TextField(blank=True)
    # What the pay page offers besides cards (each only in the currency it can take).
    accept_us_bank_account = models.BooleanField(
        "accept US bank accounts",
        default=False,
        help_text="ACH Direct Debit on USD invoices: low fees, settles in about 4 business days.",
    )
    accept_sepa_debit = models.BooleanField(
        "accept SEPA Direct Debit",
        default=False,
        help_text="On EUR invoices: low fees, settles in about 5 business days.",
    )
    # Partial payments (see invoices.partial_payments): the customer chooses how much to pay.
    allow_partial_payments = models.BooleanField(
        "let customers pay part of an invoice",
        default=False,
        help_text="The pay page asks how much to pay now; the rest stays due, with reminders.",
    )
    partial_minimum_percent = models.PositiveSmallIntegerField(
        "smallest part payment (% of the amount due)",
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="0 for no percentage. Never below Stripe's smallest charge.",
    )
    partial_minimum_amount = models.DecimalField(
        "smallest part payment (amount)",
        max_digits=12,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text="In the invoice's currency; 0 for none. The larger of the two minimums applies.",
    )

    class Meta:
        verbose_name = "business profile"

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # Now for this process, again at commit (another process may have cached the old
        # zone meanwhile).
        timezones.remember(self.time_zone)
        transaction.on_commit(lambda: timezones.remember(self.time_zone))

    @classmethod
    def load(cls) -> BusinessProfile:
        profile, _ = cls.objects.get_or_create(pk=1)
        return profile

    @property
    def address_lines(self) -> list[str]:
        return [line for line in self.address.splitlines() if line.strip()]

    def payment_method_types(self, currency: str) -> list[str]:
        """Stripe's `payment_method_types` for an invoice in this currency."""
        return payment_methods.offered(
            currency,
            us_bank_account=self.accept_us_bank_account,
            sepa_debit=self.accept_sepa_debit,
        )

    @property
    def reminder_offsets(self) -> list[int]:
        offsets = []
        for part in self.reminder_schedule.split(","):
            try:
                offsets.append(int(part))
            except ValueError:
                continue
        return sorted(set(offsets))


timezones.register_loader(lambda: BusinessProfile.load().time_zone)
