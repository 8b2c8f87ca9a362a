"""Recurring templates: what to invoice, to whom, and when; one run row per period.

Models of the `invoices` app, registered through `invoices.models`; they name
the invoice and the customer by string; the only model module imported is the
abstract line item that invoice lines share.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from invoices.line_records import LineItem
from invoices.states import Terms
from portal.money import CURRENCY_CHOICES


class Frequency(models.TextChoices):
    DAYS = "days", "Every N days"
    WEEKS = "weeks", "Every N weeks"
    MONTHLY = "monthly", "Monthly on a day"
    QUARTERLY = "quarterly", "Quarterly"
    YEARLY = "yearly", "Yearly"


class CatchUp(models.TextChoices):
    # A bookkeeper expects every period billed: a retainer missed for three months
    # while cron was down is still owed three times, and each invoice carries its
    # own period's date. Only the latest is the choice for "current state" billing.
    EVERY_PERIOD = "every", "One invoice per missed period"
    LATEST_ONLY = "latest", "Only the latest missed period"


class RecurringTemplate(models.Model):
    Frequency = Frequency
    CatchUp = CatchUp

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="recurring_templates"
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD")
    terms = models.CharField(max_length=20, choices=Terms.choices, default=Terms.NET_30)
    memo = models.TextField(blank=True)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default="monthly")
    interval = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="N, for every N days or weeks.",
    )
    day_of_month = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text="For monthly: 31 means the month's last day in shorter months.",
    )
    start_date = models.DateField()
    end_after = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Stop after N invoices."
    )
    end_on = models.DateField(null=True, blank=True, help_text="No invoice after this date.")
    paused = models.BooleanField(default=False)
    create_as_draft = models.BooleanField(
        default=False, help_text="Leave each invoice as a draft for review instead of sending it."
    )
    catch_up = models.CharField(max_length=8, choices=CatchUp.choices, default=CatchUp.EVERY_PERIOD)
    source_invoice = models.ForeignKey(
        "Invoice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_on__isnull=True)
                | models.Q(end_on__gte=models.F("start_date")),
                name="recurring_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"Recurring #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("invoices:recurring_list") + f"#recurring-{self.pk}"

    @property
    def invoice_count(self) -> int:
        """Invoices billed so far (periods passed over do not count); reads prefetched runs."""
        return sum(1 for run in self.runs.all() if not run.skipped)


class RecurringLine(LineItem):
    template = models.ForeignKey(RecurringTemplate, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineItem.Meta):
        pass


class RecurringRun(models.Model):
    """One period of one template, billed (invoice) or passed over (catch-up: latest only).

    The unique (template, period) is what makes `run_recurring` safe to run twice or
    concurrently: the second insert for a period fails, so nothing is created twice.
    """

    template = models.ForeignKey(RecurringTemplate, on_delete=models.CASCADE, related_name="runs")
    period = models.DateField()
    invoice = models.ForeignKey(
        "Invoice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    skipped = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "period"], name="recurring_run_once")
        ]

    def __str__(self) -> str:
        return f"{self.template} {self.period}"
