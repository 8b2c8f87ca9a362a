"""The Django admin: a searchable window on the books, never a way around the portal's rules.

Money and history are written only by the portal's workflows (numbering,
totals, payments, refunds, webhooks, activity). So here finalized invoices,
their lines, payments, Stripe events, activity, flags, reminders and the
numbering sequence are read-only, numbered invoices and payments can't be
deleted (void an invoice; reverse a payment in the portal), and even a draft's
money (currency, discount, lines) is changed only in the invoice editor,
which recomputes the totals. So are saved payment methods and autopay charges
(they charge a customer), combined payments, account codes (the nonce that makes
a code is never shown), recurring templates (they bill on their own) and the
catalog's items and named rates (edited and archived on /catalog/, whose rules
the recurring runs and the editor rely on).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from invoices.activity import InvoiceStateError
from invoices.models import (
    AccountActivity,
    AccountCode,
    AutopayCharge,
    BusinessProfile,
    CatalogItem,
    CreditNote,
    CustomerCredit,
    GroupAllocation,
    Invoice,
    InvoiceActivity,
    InvoiceFlag,
    InvoiceLine,
    InvoiceReminder,
    InvoiceSequence,
    Payment,
    PaymentGroup,
    Quote,
    QuoteActivity,
    QuoteLine,
    RecurringLine,
    RecurringRun,
    RecurringTemplate,
    SavedMethodActivity,
    SavedPaymentMethod,
    StripeEvent,
    TaxRate,
)
from invoices.services import send_invoice

AMOUNTS = ["subtotal", "discount", "tax", "total", "amount_paid", "amount_refunded", "amount_due"]
# What a draft may still have changed here; everything else goes through the editor.
DRAFT_EDITABLE = {"customer", "issue_date", "terms", "due_date", "memo", "footer"}


class ReadOnly:
    """Listed, searched and viewed; never added, changed or deleted from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InvoiceLineInline(ReadOnly, admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = ["position", "description", "quantity", "unit_amount", "tax_rate", "amount"]
    readonly_fields = fields


class PaymentInline(ReadOnly, admin.TabularInline):
    model = Payment
    extra = 0
    fields = [
        "method",
        "status",
        "amount",
        "amount_refunded",
        "stripe_payment_intent_id",
        "created_at",
    ]
    readonly_fields = fields


class ActivityInline(ReadOnly, admin.TabularInline):
    model = InvoiceActivity
    extra = 0
    fields = ["created_at", "kind", "actor", "message"]
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "status", "currency", "total", "amount_due", "due_date"]
    list_filter = ["status", "currency", "dispute_status", "issue_date"]
    search_fields = ["number", "customer__name", "customer__email", "stripe_payment_intent_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    inlines = [InvoiceLineInline, PaymentInline, ActivityInline]
    date_hierarchy = "issue_date"
    actions = ["send_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # The editor makes invoices (and computes their totals).

    def has_change_permission(self, request: HttpRequest, obj: Invoice | None = None) -> bool:
        if obj is not None and not obj.is_draft:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Invoice | None = None) -> bool:
        # Only one draft at a time (no bulk delete): a numbered invoice is voided, never deleted.
        if obj is None or not obj.is_draft:
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Invoice | None = None) -> list[str]:
        fields = [field.name for field in self.model._meta.fields if field.editable]
        fixed = [
            *[name for name in fields if name not in DRAFT_EDITABLE],
            *AMOUNTS,
            "number",
            "status",
            "payment_state",
            "finalized_at",
            "sent_at",
            "viewed_at",
            "paid_at",
            "voided_at",
            "created_at",
            "updated_at",
        ]
        return list(dict.fromkeys(fixed))

    def save_model(self, request: HttpRequest, obj: Invoice, form: Any, change: bool) -> None:
        # Belt and braces: a finalized row is never written from here, whatever the form says.
        stored = Invoice.objects.filter(pk=obj.pk).exclude(status=Invoice.Status.DRAFT)
        if change and stored.exists():
            raise PermissionDenied("Finalized invoices are read-only in the admin.")
        super().save_model(request, obj, form, change)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        super().delete_queryset(request, queryset.filter(status=Invoice.Status.DRAFT))

    @admin.action(description="Email the selected invoices to their customers")
    def send_selected(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        sent = 0
        for invoice in queryset.select_related("customer"):
            try:
                send_invoice(invoice=invoice, actor=request.user)
                sent += 1
            except InvoiceStateError as error:
                self.message_user(request, f"{invoice}: {error}", level=messages.WARNING)
        self.message_user(request, f"Sent {sent} invoice(s).")


@admin.register(Payment)
class PaymentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "invoice",
        "method",
        "status",
        "amount",
        "amount_refunded",
        "currency",
        "created_at",
    ]
    list_filter = ["method", "status", "currency"]
    search_fields = ["invoice__number", "stripe_payment_intent_id", "stripe_charge_id", "reference"]
    list_select_related = ["invoice"]


@admin.register(InvoiceActivity)
class InvoiceActivityAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "invoice", "kind", "actor", "message"]
    list_filter = ["kind"]
    search_fields = ["invoice__number", "message"]
    list_select_related = ["invoice", "actor"]


@admin.register(InvoiceFlag)
class InvoiceFlagAdmin(ReadOnly, admin.ModelAdmin):
    """Flags are resolved on the invoice's page, where the resolution is recorded."""

    list_display = ["created_at", "invoice", "kind", "message", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["invoice__number", "message", "stripe_event_id"]
    list_select_related = ["invoice"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["received_at", "type", "event_id", "status", "invoice", "attempts"]
    list_filter = ["status", "type"]
    search_fields = ["event_id", "type", "invoice__number"]
    list_select_related = ["invoice"]


@admin.register(InvoiceReminder)
class InvoiceReminderAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["sent_at", "invoice", "offset_days"]
    search_fields = ["invoice__number"]
    list_select_related = ["invoice"]


@admin.register(InvoiceSequence)
class InvoiceSequenceAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["prefix", "last_value"]


@admin.register(BusinessProfile)
class BusinessProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "default_currency", "default_language", "number_prefix"]

    def has_add_permission(self, request: HttpRequest) -> bool:  # one profile only
        return not BusinessProfile.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # Every invoice and email is signed with it.


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["number", "invoice", "amount", "currency", "outcome", "created_at"]
    search_fields = ["number", "invoice__number", "reason"]


@admin.register(CustomerCredit)
class CustomerCreditAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["customer", "currency", "amount", "credit_note", "invoice", "created_at"]


class QuoteLineInline(ReadOnly, admin.TabularInline):
    model = QuoteLine
    extra = 0
    fields = ["position", "description", "quantity", "unit_amount", "tax_rate", "amount"]
    readonly_fields = fields


class QuoteActivityInline(ReadOnly, admin.TabularInline):
    model = QuoteActivity
    extra = 0
    fields = ["created_at", "kind", "actor", "message"]
    readonly_fields = fields


@admin.register(Quote)
class QuoteAdmin(ReadOnly, admin.ModelAdmin):
    """Quotes are drafted, sent, answered and converted in the portal, never here."""

    list_display = ["__str__", "customer", "status", "currency", "total", "deposit_amount"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "customer__name", "customer__email", "accepted_name"]
    list_select_related = ["customer"]
    exclude = ["token", "token_digest"]
    inlines = [QuoteLineInline, QuoteActivityInline]


# -- saved payment methods and autopay ---------------------------------------------


@admin.register(SavedPaymentMethod)
class SavedPaymentMethodAdmin(ReadOnly, admin.ModelAdmin):
    """Autopay is switched and methods removed on the customer's page (Stripe is told)."""

    list_display = ["__str__", "customer", "method_type", "expiry_label", "autopay", "created_at"]
    list_filter = ["method_type", "autopay"]
    search_fields = ["customer__name", "customer__email", "stripe_payment_method_id", "last4"]
    list_select_related = ["customer"]


@admin.register(SavedMethodActivity)
class SavedMethodActivityAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "customer", "kind", "method_label", "actor", "message"]
    list_filter = ["kind"]
    search_fields = ["customer__name", "method_label", "stripe_payment_method_id", "message"]
    list_select_related = ["customer", "actor"]


@admin.register(AutopayCharge)
class AutopayChargeAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["invoice", "status", "attempts", "failure_code", "next_attempt_at"]
    list_filter = ["status", "failure_code"]
    search_fields = ["invoice__number", "stripe_payment_intent_id", "stripe_charge_id"]
    list_select_related = ["invoice"]


# -- the customer's account: combined payments, codes, history --------------------


class GroupAllocationInline(ReadOnly, admin.TabularInline):
    model = GroupAllocation
    extra = 0
    fields = ["position", "invoice", "amount", "payment"]
    readonly_fields = fields


@admin.register(PaymentGroup)
class PaymentGroupAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["__str__", "customer", "status", "amount", "amount_received", "currency"]
    list_filter = ["status", "currency"]
    search_fields = ["customer__name", "stripe_payment_intent_id", "stripe_charge_id"]
    list_select_related = ["customer"]
    inlines = [GroupAllocationInline]


@admin.register(AccountActivity)
class AccountActivityAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "customer", "kind", "actor", "message"]
    list_filter = ["kind"]
    search_fields = ["customer__name", "message"]
    list_select_related = ["customer", "actor"]


@admin.register(AccountCode)
class AccountCodeAdmin(ReadOnly, admin.ModelAdmin):
    """When codes were asked for and used; never the code, nor the nonce it is made from."""

    list_display = ["created_at", "customer", "expires_at", "attempts", "used_at"]
    fields = ["customer", "created_at", "expires_at", "attempts", "used_at"]
    readonly_fields = fields
    list_select_related = ["customer"]


# -- recurring templates and the catalog ------------------------------------------


class RecurringLineInline(ReadOnly, admin.TabularInline):
    model = RecurringLine
    extra = 0
    fields = ["position", "description", "quantity", "unit_amount", "tax_rate", "tax_name"]
    readonly_fields = fields


class RecurringRunInline(ReadOnly, admin.TabularInline):
    model = RecurringRun
    extra = 0
    fields = ["period", "invoice", "skipped", "created_at"]
    readonly_fields = fields


@admin.register(RecurringTemplate)
class RecurringTemplateAdmin(ReadOnly, admin.ModelAdmin):
    """Created, paused and resumed on /recurring/ (each change an activity entry)."""

    list_display = ["__str__", "customer", "currency", "frequency", "paused", "start_date"]
    list_filter = ["frequency", "paused", "currency"]
    search_fields = ["customer__name", "memo"]
    list_select_related = ["customer"]
    inlines = [RecurringLineInline, RecurringRunInline]


@admin.register(TaxRate)
class TaxRateAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "percent", "archived_at"]
    search_fields = ["name"]


@admin.register(CatalogItem)
class CatalogItemAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "unit_amount", "currency", "tax_rate", "archived_at"]
    list_filter = ["currency"]
    search_fields = ["name", "description"]
    list_select_related = ["tax_rate"]
