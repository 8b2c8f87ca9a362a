from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext, pgettext_lazy

from customers.models import Customer
from portal.i18n import LANGUAGE_CHOICES
from portal.money import CURRENCY_CHOICES, MAX_AMOUNT, LineInput, compute_totals, format_money

# The portal's own accent: what the pay page wears until the business picks a colour.
DEFAULT_BRAND_COLOR = "#3446c9"


def new_pay_token() -> str:
    # 192 random bits, URL-safe: the only secret that guards a customer's link.
    return secrets.token_urlsafe(24)


def new_install_key() -> str:
    return secrets.token_hex(8)


def digest_token(token: str) -> str:
    """What the database is searched by, so no lookup time depends on the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


class Terms(models.TextChoices):
    DUE_ON_RECEIPT = "due_on_receipt", "Due on receipt"
    NET_15 = "net_15", "Net 15"
    NET_30 = "net_30", "Net 30"
    NET_60 = "net_60", "Net 60"
    CUSTOM = "custom", "Custom due date"

    @classmethod
    def days(cls, terms: str) -> int | None:
        return {"due_on_receipt": 0, "net_15": 15, "net_30": 30, "net_60": 60}.get(terms)


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
    number_prefix = models.CharField(max_length=12, default="INV-")
    reminder_schedule = models.CharField(
        max_length=100,
        default="-3,0,7,14",
        help_text="Days relative to the due date, comma separated (-3 = three days before).",
    )
    default_footer = models.TextField(blank=True)

    class Meta:
        verbose_name = "business profile"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def load(cls) -> BusinessProfile:
        profile, _ = cls.objects.get_or_create(pk=1)
        return profile

    @property
    def address_lines(self) -> list[str]:
        return [line for line in self.address.splitlines() if line.strip()]

    @property
    def reminder_offsets(self) -> list[int]:
        offsets = []
        for part in self.reminder_schedule.split(","):
            try:
                offsets.append(int(part))
            except ValueError:
                continue
        return sorted(set(offsets))


class InvoiceSequence(models.Model):
    """The last number handed out for a prefix; locked while a finalize takes one."""

    prefix = models.CharField(max_length=12, primary_key=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}{self.last_value}"


class InvoiceQuerySet(models.QuerySet["Invoice"]):
    def overdue(self, today: date | None = None) -> InvoiceQuerySet:
        return self.filter(status=Invoice.Status.OPEN, due_date__lt=today or timezone.localdate())

    def search(self, term: str) -> InvoiceQuerySet:
        term = term.strip()
        if not term:
            return self
        # Customers are few: matching them first lets the database use the
        # customer index instead of joining every invoice to test its name.
        customers = Customer.objects.filter(
            models.Q(name__icontains=term) | models.Q(email__icontains=term)
        ).values("pk")
        return self.filter(models.Q(number__icontains=term) | models.Q(customer__in=customers))


class Invoice(models.Model):
    class Status(models.TextChoices):
        # Labels are shown to customers too (pay page, PDFs), in their language.
        DRAFT = "draft", pgettext_lazy("invoice status", "Draft")
        OPEN = "open", pgettext_lazy("invoice status", "Open")
        PAID = "paid", pgettext_lazy("invoice status", "Paid")
        VOID = "void", pgettext_lazy("invoice status", "Void")
        UNCOLLECTIBLE = "uncollectible", pgettext_lazy("invoice status", "Uncollectible")

    class DiscountKind(models.TextChoices):
        NONE = "", "No discount"
        AMOUNT = "amount", "Amount"
        PERCENT = "percent", "Percent"

    class PaymentState(models.TextChoices):
        """What the customer's latest card payment is doing (paid or not is `status`)."""

        NONE = "", "None"
        REQUIRES_ACTION = "requires_action", "Waiting for authentication"
        PROCESSING = "processing", "Processing"
        FAILED = "failed", "Failed"

    class DisputeStatus(models.TextChoices):
        NONE = "", "None"
        OPEN = "open", "Disputed"
        WON = "won", "Dispute won"
        LOST = "lost", "Dispute lost"
        # An inquiry (retrieval request) that closed without becoming a chargeback.
        WARNING_CLOSED = "warning_closed", "Inquiry closed"
        # Resolved before it became a chargeback (e.g. by the card network's prevention).
        PREVENTED = "prevented", "Dispute prevented"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=32, blank=True, help_text="Assigned when finalized.")
    pay_token = models.CharField(max_length=64, default=new_pay_token, editable=False)
    pay_token_digest = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD")
    issue_date = models.DateField(default=timezone.localdate)
    terms = models.CharField(max_length=20, choices=Terms.choices, default=Terms.NET_30)
    due_date = models.DateField(null=True, blank=True)
    memo = models.TextField(blank=True)
    footer = models.TextField(blank=True)
    discount_kind = models.CharField(
        max_length=8, choices=DiscountKind.choices, default="", blank=True
    )
    discount_value = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(0)]
    )

    # Computed by `recalculate()` from the lines: never edited directly.
    subtotal = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    discount = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    amount_paid = models.BigIntegerField(default=0)
    amount_refunded = models.BigIntegerField(default=0)
    # Credit notes issued against it: what it no longer asks for.
    amount_credited = models.BigIntegerField(default=0)
    amount_due = models.BigIntegerField(default=0)

    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    payment_state = models.CharField(
        max_length=20, choices=PaymentState.choices, default="", blank=True
    )
    last_payment_error = models.CharField(max_length=500, blank=True)
    dispute_status = models.CharField(
        max_length=16, choices=DisputeStatus.choices, default="", blank=True
    )
    reminders_paused = models.BooleanField(default=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    viewed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["number"], condition=~models.Q(number=""), name="invoice_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(due_date__isnull=True)
                | models.Q(due_date__gte=models.F("issue_date")),
                name="invoice_due_after_issue",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="invoice_status_created"),
            models.Index(fields=["-created_at", "-id"], name="invoice_created"),
            models.Index(fields=["status", "due_date"], name="invoice_status_due"),
            models.Index(fields=["number"], name="invoice_number"),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pay_token_digest = digest_token(self.pay_token)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "pay_token" in update_fields:
            kwargs["update_fields"] = {*update_fields, "pay_token_digest"}
        # Imported here: invoices.totals imports this module.
        from invoices import totals

        # The totals move in the same transaction as the invoice, whoever saves it
        # (no savepoint: a failed booking must fail the caller's whole transaction).
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            if update_fields is None or not totals.FIELDS.isdisjoint(update_fields):
                totals.book(self)

    def get_absolute_url(self) -> str:
        return reverse("invoices:detail", args=[self.pk])

    def get_pay_url(self) -> str:
        return reverse("pay:invoice", args=[self.pay_token])

    def get_absolute_pay_url(self) -> str:
        return settings.SITE_URL + self.get_pay_url()

    # -- derived state ------------------------------------------------------

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_overdue(self) -> bool:
        return (
            self.status == self.Status.OPEN
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )

    @property
    def display_status(self) -> str:
        """The status a person sees: overdue is computed, never stored."""
        return "overdue" if self.is_overdue else self.status

    @property
    def display_status_label(self) -> str:
        return (
            pgettext("invoice status", "Overdue") if self.is_overdue else self.get_status_display()
        )

    @property
    def is_payable(self) -> bool:
        return self.status == self.Status.OPEN and self.amount_due > 0

    def money(self, amount: int) -> str:
        return format_money(amount, self.currency)

    # -- changes to this row ------------------------------------------------

    def rotate_pay_token(self) -> None:
        """Revoke the current link: the old token stops working at once."""
        self.pay_token = new_pay_token()
        self.save(update_fields=["pay_token", "updated_at"])

    def apply_terms(self) -> None:
        days = Terms.days(self.terms)
        if days is not None:
            self.due_date = self.issue_date + timedelta(days=days)

    def recalculate(self, lines: list[InvoiceLine] | None = None) -> None:
        """Recompute every amount from the lines, setting each line's `amount`.

        Saves nothing: the caller saves the invoice and the lines it passed.
        """
        if lines is None:
            lines = list(self.lines.all())
        totals = compute_totals(
            [LineInput(line.quantity, line.unit_amount, line.tax_rate) for line in lines],
            self.discount_kind,
            self.discount_value,
        )
        for line, line_totals in zip(lines, totals.lines, strict=True):
            line.amount = line_totals.amount
        self.subtotal = totals.subtotal
        self.discount = totals.discount
        self.tax = totals.tax
        self.total = totals.total
        self.amount_due = max(self.total - self.amount_credited - self.amount_paid, 0)

    def add_payment(self, amount: int) -> None:
        self.amount_paid += amount
        self.amount_due = max(self.total - self.amount_credited - self.amount_paid, 0)
        if self.amount_due == 0 and self.status == self.Status.OPEN:
            self.status = self.Status.PAID
            self.paid_at = timezone.now()
        self.payment_state = ""
        self.last_payment_error = ""

    def add_refund(self, amount: int) -> None:
        self.amount_refunded += amount

    def add_credit(self, amount: int) -> None:
        """A credit note: the invoice asks for less; with nothing left to ask, it is settled
        (as Stripe marks a fully credited invoice paid)."""
        self.amount_credited += amount
        self.amount_due = max(self.total - self.amount_credited - self.amount_paid, 0)
        if self.status == self.Status.OPEN and self.amount_due == 0:
            self.status = self.Status.PAID
            self.paid_at = timezone.now()

    def remove_payment(self, amount: int) -> None:
        """A payment taken back (recorded by mistake): the money is owed again."""
        self.amount_paid = max(self.amount_paid - amount, 0)
        self.amount_due = max(self.total - self.amount_credited - self.amount_paid, 0)
        if self.status == self.Status.PAID and self.amount_due > 0:
            self.status = self.Status.OPEN
            self.paid_at = None


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1000000"))],
    )
    unit_amount = models.BigIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_AMOUNT)]
    )
    tax_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    amount = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description


class Payment(models.Model):
    """One row per PaymentIntent, or per offline payment staff record."""

    class Method(models.TextChoices):
        CARD = "card", pgettext_lazy("payment method", "Card")
        BANK_TRANSFER = "bank_transfer", pgettext_lazy("payment method", "Bank transfer")
        CASH = "cash", pgettext_lazy("payment method", "Cash")
        CHECK = "check", pgettext_lazy("payment method", "Check")
        OTHER = "other", pgettext_lazy("payment method", "Other")

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        REQUIRES_ACTION = "requires_action", "Requires action"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"
        # An offline payment recorded by mistake, taken back with a reason (never deleted).
        REVERSED = "reversed", "Reversed"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.CARD)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    amount = models.BigIntegerField(help_text="Requested (pending) or received (succeeded).")
    currency = models.CharField(max_length=3)
    amount_refunded = models.BigIntegerField(default=0, help_text="Refunds Stripe says succeeded.")
    amount_refund_pending = models.BigIntegerField(
        default=0, help_text="Refunds asked for that Stripe has not yet said succeeded or failed."
    )
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True, db_index=True)
    card_brand = models.CharField(max_length=32, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    received_on = models.DateField(null=True, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    # Stripe's fee and what reached the balance, from the charge's balance transaction
    # (in the balance's currency, which may differ from the payment's).
    stripe_fee = models.BigIntegerField(null=True, blank=True)
    stripe_net = models.BigIntegerField(null=True, blank=True)
    balance_currency = models.CharField(max_length=3, blank=True)
    reversal_reason = models.CharField(max_length=500, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_payment_intent_id"],
                condition=~models.Q(stripe_payment_intent_id=""),
                name="payment_intent_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {format_money(self.amount, self.currency)}"

    @property
    def receipt_number(self) -> str:
        """What the customer's receipt is called: the invoice's number and this payment's."""
        return f"{self.invoice.number}-R{self.pk}"

    @property
    def refundable(self) -> int:
        """What can still be asked back: money already asked back counts, even if pending."""
        if self.method != self.Method.CARD or self.status != self.Status.SUCCEEDED:
            return 0
        return max(self.amount - self.amount_refunded - self.amount_refund_pending, 0)


class InvoiceActivity(models.Model):
    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        FINALIZED = "finalized", "Finalized"
        SENT = "sent", "Sent"
        VIEWED = "viewed", "Viewed by the customer"
        PAYMENT_ATTEMPTED = "payment_attempted", "Payment attempted"
        PAYMENT_ACTION = "payment_action", "Payment waiting for authentication"
        PAYMENT_PROCESSING = "payment_processing", "Payment processing"
        PAYMENT_FAILED = "payment_failed", "Payment failed"
        PAYMENT_CANCELED = "payment_canceled", "Payment canceled"
        PAYMENT_SUCCEEDED = "payment_succeeded", "Payment received"
        PAYMENT_RECORDED = "payment_recorded", "Offline payment recorded"
        PAYMENT_REVERSED = "payment_reversed", "Offline payment reversed"
        CREDIT_NOTE = "credit_note", "Credit note issued"
        CREDIT_APPLIED = "credit_applied", "Account credit applied"
        REFUND_REQUESTED = "refund_requested", "Refund requested"
        REFUNDED = "refunded", "Refunded"
        REFUND_FAILED = "refund_failed", "Refund failed"
        DISPUTED = "disputed", "Disputed"
        DISPUTE_FUNDS_WITHDRAWN = "dispute_funds_withdrawn", "Disputed funds withdrawn"
        DISPUTE_FUNDS_REINSTATED = "dispute_funds_reinstated", "Disputed funds reinstated"
        DISPUTE_CLOSED = "dispute_closed", "Dispute closed"
        FLAGGED = "flagged", "Flagged for review"
        VOIDED = "voided", "Voided"
        UNCOLLECTIBLE = "uncollectible", "Marked uncollectible"
        REMINDER_SENT = "reminder_sent", "Reminder sent"
        LINK_REVOKED = "link_revoked", "Pay link replaced"
        DUPLICATED = "duplicated", "Duplicated"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "invoice activities"
        indexes = [models.Index(fields=["invoice", "kind"], name="activity_invoice_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}" if self.message else self.kind

    @property
    def actor_label(self) -> str:
        if self.actor_id:
            return str(self.actor)
        return str(self.data.get("source", "system"))


class InvoiceFlag(models.Model):
    """Something a webhook found that staff must look at (never silently fixed)."""

    class Kind(models.TextChoices):
        AMOUNT_MISMATCH = "amount_mismatch", "Amount does not match"
        CURRENCY_MISMATCH = "currency_mismatch", "Currency does not match"
        OVERPAID = "overpaid", "Paid more than due"
        DISPUTE = "dispute", "Payment disputed"
        REFUND_FAILED = "refund_failed", "Refund failed"
        INVALID_EVENT = "invalid_event", "Stripe event could not be applied"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    message = models.CharField(max_length=500)
    # For an overpayment: the card payment and the excess, so staff can refund it in one click.
    payment = models.ForeignKey(
        "Payment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.BigIntegerField(default=0)
    stripe_event_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.message


class StripeEvent(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"
        INVALID = "invalid", "Invalid (flagged)"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField()
    livemode = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="stripe_events"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # Both end with the id so a page link seeks straight to its row (portal/keyset.py).
            models.Index(fields=["status", "-received_at", "-id"], name="event_status_received_id"),
            models.Index(fields=["-received_at", "-id"], name="event_received_id"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"

    @property
    def data_object(self) -> dict[str, Any]:
        return self.payload.get("data", {}).get("object", {})


class InvoiceReminder(models.Model):
    """One row per reminder sent: the unique pair makes `send_reminders` idempotent."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="reminders")
    offset_days = models.IntegerField(help_text="Days relative to the due date.")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "offset_days"], name="reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.offset_days:+d}d"


class Refund(models.Model):
    """One Stripe refund of a card payment. Only `succeeded` money is refunded money;
    `pending` already counts against what can still be refunded."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        REQUIRES_ACTION = "requires_action", "Requires action"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    stripe_refund_id = models.CharField(max_length=255, unique=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=100, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.stripe_refund_id} {format_money(self.amount, self.currency)} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.REQUIRES_ACTION)


class Installation(models.Model):
    """One row: a random key made when this database was first used.

    It goes into every Stripe idempotency key, so two deployments on one Stripe
    account, or one deployment after its database was reset, never send the
    same key for different requests (Stripe would replay the old answer for 24 h).
    """

    key = models.CharField(max_length=32, default=new_install_key, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key

    @classmethod
    def current_key(cls) -> str:
        row, _ = cls.objects.get_or_create(pk=1)
        return row.key


class CreditNote(models.Model):
    """Part or all of a finalized invoice taken back, numbered in its own gapless sequence."""

    class Outcome(models.TextChoices):
        REDUCED = "reduced", pgettext_lazy("credit note outcome", "Reduced the amount due")
        REFUNDED = "refunded", pgettext_lazy("credit note outcome", "Refunded to the card")
        CREDITED = "credited", pgettext_lazy("credit note outcome", "Kept as credit")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=32, unique=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=500)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.number


class CustomerCredit(models.Model):
    """Money kept to a customer's good (a credit note on a paid invoice) and its use:
    positive rows grant credit, negative rows apply it to an invoice."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credits")
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    credit_note = models.ForeignKey(
        CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="applied_credits"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["customer", "currency"], name="credit_customer_currency")]

    def __str__(self) -> str:
        return f"{self.customer_id} {format_money(self.amount, self.currency)}"


# The outbox's model lives in its own module; imported here so Django registers it.
from invoices.email_log import EmailLog  # noqa: E402, F401


class BalanceBucket(models.Model):
    """Money open or paid, per currency and day: the dashboard's totals are a sum of
    a few hundred of these rows instead of a scan of every invoice. invoices/totals.py
    keeps them in the transaction of every change to an invoice."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open (by due date)"
        PAID = "paid", "Paid (by day paid)"

    kind = models.CharField(max_length=4, choices=Kind.choices)
    currency = models.CharField(max_length=3)
    day = models.DateField()
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "currency", "day"], name="balance_bucket_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.currency} {self.day}: {self.amount}"


class BookedBalance(models.Model):
    """What one invoice adds to its bucket now, so a change books only the difference."""

    invoice = models.OneToOneField(
        Invoice, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=4, choices=BalanceBucket.Kind.choices)
    currency = models.CharField(max_length=3)
    day = models.DateField()
    amount = models.BigIntegerField()

    def __str__(self) -> str:
        return f"invoice {self.invoice_id}: {self.kind} {self.currency} {self.day} {self.amount}"
