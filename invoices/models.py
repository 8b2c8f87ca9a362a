from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext

from customers.models import Customer
from invoices import payment_methods
from invoices.queries import InvoiceQuerySet
from invoices.states import (
    NOTHING_DUE_MESSAGE,
    PROCESSING_MESSAGE,
    STATUS_REFUSALS,
    VERIFYING_MESSAGE,
    DiscountKind,
    DisputeStatus,
    InvoiceStatus,
    PaymentMethod,
    PaymentState,
    PaymentStatus,
    Terms,
    below_minimum_message,
)
from invoices.tokens import digest_token, keep_digest, new_pay_token  # noqa: F401 (views, 0001)
from portal.money import (
    CURRENCY_CHOICES,
    LineInput,
    compute_totals,
    format_money,
)
from portal.timezones import business_today


class Invoice(models.Model):
    Status = InvoiceStatus
    DiscountKind = DiscountKind
    PaymentState = PaymentState
    DisputeStatus = DisputeStatus

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
    po_number = models.CharField(
        "PO number", max_length=64, blank=True, help_text="The customer's purchase order."
    )
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
        keep_digest(self, "pay_token", "pay_token_digest", kwargs)
        # The totals move in the same transaction as the invoice, whoever saves it
        # (no savepoint: a failed booking must fail the caller's whole transaction):
        # `invoices.totals` books them on post_save, inside this block.
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)

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
            and self.due_date < business_today()
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
    def payment_refusal(self) -> str | None:
        """Why the customer may not pay online now (None: they may); see `invoices.states`."""
        if self.status in STATUS_REFUSALS:
            return STATUS_REFUSALS[self.status]
        if self.amount_due <= 0:
            return NOTHING_DUE_MESSAGE
        if self.payment_state == self.PaymentState.PROCESSING:
            return PROCESSING_MESSAGE
        if self.payment_state == self.PaymentState.VERIFYING:
            return VERIFYING_MESSAGE
        return self.below_minimum

    @property
    def below_minimum(self) -> str | None:
        """Stripe refuses a card payment under its per-currency minimum: say so up front."""
        return below_minimum_message(self.amount_due, self.currency)

    @cached_property
    def processing_payment(self) -> Payment | None:
        """The payment on its way (a bank debit takes days), for "expected by" lines."""
        if self.payment_state != self.PaymentState.PROCESSING:
            return None
        return self.payments.filter(status=Payment.Status.PROCESSING).order_by("-id").first()

    @property
    def amount_owed(self) -> int:
        """What the invoice asks for now: nothing once void or uncollectible.

        `amount_due` keeps an uncollectible invoice's unpaid balance (a payment
        recorded later reopens it, a credit note lowers it); no page, document or
        total shows it as due.
        """
        if self.status in (self.Status.VOID, self.Status.UNCOLLECTIBLE):
            return 0
        return self.amount_due

    @property
    def is_payable(self) -> bool:
        return self.payment_refusal is None

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

    # What `add_payment` changes (and a status moved back to open), for `save(update_fields=)`.
    PAYMENT_FIELDS = (
        "status",
        "amount_paid",
        "amount_due",
        "paid_at",
        "payment_state",
        "last_payment_error",
        "updated_at",
    )

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


class Payment(models.Model):
    """One row per PaymentIntent, or per offline payment staff record."""

    Method = PaymentMethod
    Status = PaymentStatus

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.ONLINE)
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
    # Stripe's payment_method_details type (or offline) and `payment_methods.KEPT_DETAILS`.
    method_type = models.CharField(
        max_length=24, choices=payment_methods.MethodType.choices, default="", blank=True
    )
    method_details = models.JSONField(default=dict, blank=True)
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
    # When a bank debit started processing: its expected settlement date counts from here.
    processing_since = models.DateTimeField(null=True, blank=True)
    # An ACH account awaiting microdeposit verification: Stripe's hosted page to verify it on,
    # and when the deposits arrive.
    verification_url = models.URLField(max_length=2000, blank=True)
    deposits_arrive_on = models.DateField(null=True, blank=True)
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
    def method_label(self) -> str:
        """`Visa •••• 4242`, `Bank transfer (ref 12)`: the one wording, see `payment_methods`."""
        return payment_methods.label(self)

    @property
    def is_debit(self) -> bool:
        return payment_methods.is_debit(self.method_type)

    @property
    def expected_by(self) -> date | None:
        """When a processing bank debit should settle (None: not a debit in flight)."""
        if self.status != self.Status.PROCESSING or self.processing_since is None:
            return None
        return payment_methods.expected_settlement(
            self.method_type, timezone.localdate(self.processing_since)
        )

    @property
    def receipt_number(self) -> str:
        """What the customer's receipt is called: the invoice's number and this payment's."""
        return f"{self.invoice.number}-R{self.pk}"

    @property
    def refundable(self) -> int:
        """What can still be asked back: money already asked back counts, even if pending."""
        if self.method != self.Method.ONLINE or self.status != self.Status.SUCCEEDED:
            return 0
        return max(self.amount - self.amount_refunded - self.amount_refund_pending, 0)


# The other models live in modules of their own (they name these by string, never
# import them); imported here so Django registers them and `invoices.models` offers all.
from invoices.account_records import AccountActivity, AccountCode, GroupAllocation, PaymentGroup  # noqa: E402, F401
from invoices.balance_records import BalanceBucket, BookedBalance  # noqa: E402, F401
from invoices.business import BusinessProfile  # noqa: E402, F401
from invoices.catalog_records import CatalogItem, TaxRate  # noqa: E402, F401
from invoices.credit_records import CreditNote, CreditNoteLine, CustomerCredit  # noqa: E402, F401
from invoices.email_log import EmailLog  # noqa: E402, F401
from invoices.line_records import InvoiceLine  # noqa: E402
from invoices.numbering import InvoiceSequence  # noqa: E402, F401
from invoices.quote_records import Quote, QuoteActivity, QuoteLine  # noqa: E402, F401
from invoices.records import InvoiceActivity, InvoiceFlag, InvoiceReminder  # noqa: E402, F401
from invoices.recurring_models import RecurringLine, RecurringRun, RecurringTemplate  # noqa: E402, F401
from invoices.saved_method_records import AutopayCharge, SavedMethodActivity, SavedPaymentMethod  # noqa: E402, F401
from invoices.stripe_records import (  # noqa: E402, F401
    Installation,
    Refund,
    StripeEvent,
    new_install_key,  # named by migration 0001
)
