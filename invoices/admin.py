from __future__ import annotations

from django.contrib import admin

from invoices.models import (
    BusinessProfile,
    Invoice,
    InvoiceActivity,
    InvoiceFlag,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    StripeEvent,
)

AMOUNTS = ["subtotal", "discount", "tax", "total", "amount_paid", "amount_refunded", "amount_due"]


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    readonly_fields = ["amount"]


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = [
        "method",
        "status",
        "amount",
        "amount_refunded",
        "stripe_payment_intent_id",
        "created_at",
    ]
    readonly_fields = fields


class ActivityInline(admin.TabularInline):
    model = InvoiceActivity
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor", "message"]
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "status", "currency", "total", "amount_due", "due_date"]
    list_filter = ["status", "currency", "dispute_status", "issue_date"]
    search_fields = ["number", "customer__name", "customer__email", "stripe_payment_intent_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = [
        "number",
        "status",
        *AMOUNTS,
        "stripe_payment_intent_id",
        "payment_state",
        "finalized_at",
        "sent_at",
        "viewed_at",
        "paid_at",
        "voided_at",
        "created_at",
        "updated_at",
    ]
    inlines = [InvoiceLineInline, PaymentInline, ActivityInline]
    date_hierarchy = "issue_date"
    actions = ["send_selected"]

    @admin.action(description="Email the selected invoices to their customers")
    def send_selected(self, request, queryset) -> None:
        from invoices.services import InvoiceStateError, send_invoice

        sent = 0
        for invoice in queryset.select_related("customer"):
            try:
                send_invoice(invoice=invoice, actor=request.user)
                sent += 1
            except InvoiceStateError as error:
                self.message_user(request, f"{invoice}: {error}", level="warning")
        self.message_user(request, f"Sent {sent} invoice(s).")


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
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
    readonly_fields = [
        "invoice",
        "amount",
        "amount_refunded",
        "stripe_payment_intent_id",
        "stripe_charge_id",
    ]


@admin.register(InvoiceActivity)
class InvoiceActivityAdmin(admin.ModelAdmin):
    list_display = ["created_at", "invoice", "kind", "actor", "message"]
    list_filter = ["kind"]
    search_fields = ["invoice__number", "message"]
    list_select_related = ["invoice", "actor"]
    readonly_fields = ["invoice", "kind", "actor", "message", "data", "created_at"]


@admin.register(InvoiceFlag)
class InvoiceFlagAdmin(admin.ModelAdmin):
    list_display = ["created_at", "invoice", "kind", "message", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["invoice__number", "message", "stripe_event_id"]
    list_select_related = ["invoice"]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "type", "event_id", "status", "invoice", "attempts"]
    list_filter = ["status", "type"]
    search_fields = ["event_id", "type", "invoice__number"]
    list_select_related = ["invoice"]
    readonly_fields = ["event_id", "type", "payload", "livemode", "received_at", "processed_at"]


@admin.register(InvoiceSequence)
class InvoiceSequenceAdmin(admin.ModelAdmin):
    list_display = ["prefix", "last_value"]
    readonly_fields = ["prefix", "last_value"]


@admin.register(BusinessProfile)
class BusinessProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "default_currency", "number_prefix"]

    def has_add_permission(self, request) -> bool:  # one profile only
        return not BusinessProfile.objects.exists()
