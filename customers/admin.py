from __future__ import annotations

from django.contrib import admin

from customers.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "email",
        "company",
        "country",
        "language",
        "stripe_customer_id",
        "archived_at",
    ]
    list_filter = ["country", "language", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "email", "company", "tax_id", "stripe_customer_id"]
    readonly_fields = ["stripe_customer_id", "created_at", "updated_at"]
