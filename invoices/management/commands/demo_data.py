"""Create a staff user, customers and invoices in every status. Safe to run twice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from invoices.activity import record_activity
from invoices.models import BusinessProfile, CatalogItem, Invoice, InvoiceLine, Payment, TaxRate
from invoices.services import finalize_invoice

STAFF_USERNAME = "staff"
STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "demo-password-123"

# (name, email, company, country, city, language: "" = the business's default)
CUSTOMERS = [
    ("Ada Lovelace", "ada@example.com", "Analytical Engines Ltd", "GB", "London", ""),
    ("Grace Hopper", "grace@example.com", "Compiler Co", "US", "Arlington", ""),
    ("Katherine Johnson", "katherine@example.com", "Orbit Analytics", "US", "Hampton", ""),
    ("Hedy Lamarr", "hedy@example.com", "Frequency Hopping GmbH", "AT", "Vienna", "de"),
    ("Yukihiro Tanaka", "tanaka@example.com", "Tanaka Shoji", "JP", "Tokyo", ""),
    ("Marie Curie", "marie@example.com", "Radium SARL", "FR", "Paris", "fr"),
]

LINES = [
    ("Design workshop (half day)", Decimal("1"), 120000, Decimal("20")),
    ("Implementation, hours", Decimal("12.5"), 9500, Decimal("20")),
    ("Hosting, monthly", Decimal("3"), 4900, Decimal("0")),
]

# (key, customer index, final status, days since issue)
# Named tax rates and catalog items the editor offers: (name, percent) and
# (name, description, unit amount, currency, rate name or "").
TAX_RATES = [("VAT 20%", "20"), ("Sales tax CA 7.25%", "7.25"), ("Sales tax NYC 8.875%", "8.875")]
CATALOG = [
    ("Design hour", "Senior designer, billed per hour", 12000, "USD", "Sales tax CA 7.25%"),
    ("Hosting (month)", "Managed hosting\nBackups included", 4900, "USD", ""),
    ("Workshop day", "On site, travel included", 95000, "EUR", "VAT 20%"),
]

INVOICES = [
    ("draft", 0, Invoice.Status.DRAFT, 0),
    ("open", 1, Invoice.Status.OPEN, 2),
    ("overdue", 2, Invoice.Status.OPEN, 45),
    ("paid", 0, Invoice.Status.PAID, 20),
    ("void", 3, Invoice.Status.VOID, 10),
    ("uncollectible", 3, Invoice.Status.UNCOLLECTIBLE, 90),
    ("yen", 4, Invoice.Status.OPEN, 1),
    ("euro", 5, Invoice.Status.OPEN, 3),  # a customer who reads French
    ("german", 3, Invoice.Status.OPEN, 5),
]


class Command(BaseCommand):
    help = "Load demo data: a staff user, customers and invoices in every status (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            staff = self.staff_user()
            BusinessProfile.load()
            customers = [self.customer(*row) for row in CUSTOMERS]
            created = sum(self.invoice(staff, customers, *row) for row in INVOICES)
            self.catalog()
        self.stdout.write(f"Demo data ready ({created} invoices created).")
        self.stdout.write(f"Staff login: {STAFF_USERNAME} / {STAFF_PASSWORD}")

    def catalog(self) -> None:
        rates = {
            name: TaxRate.objects.active().get_or_create(
                name=name, defaults={"percent": Decimal(percent)}
            )[0]
            for name, percent in TAX_RATES
        }
        for name, description, amount, currency, rate in CATALOG:
            CatalogItem.objects.get_or_create(
                name=name,
                currency=currency,
                defaults={
                    "description": description,
                    "unit_amount": amount,
                    "tax_rate": rates.get(rate),
                },
            )

    def staff_user(self) -> Any:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=STAFF_USERNAME,
            defaults={"email": STAFF_EMAIL, "is_staff": True, "is_superuser": True},
        )
        if created:
            user.set_password(STAFF_PASSWORD)
            user.save()
        return user

    def customer(
        self, name: str, email: str, company: str, country: str, city: str, language: str
    ) -> Customer:
        customer, _ = Customer.objects.get_or_create(
            email=email,
            defaults={
                "name": name,
                "company": company,
                "country": country,
                "city": city,
                "address_line1": "1 Example Street",
                "language": language,
            },
        )
        return customer

    def invoice(
        self, staff: Any, customers: list[Customer], key: str, who: int, status: str, age: int
    ) -> bool:
        memo = f"Demo invoice ({key})."
        customer = customers[who]
        if Invoice.objects.filter(customer=customer, memo=memo).exists():
            return False
        currency = {"yen": "JPY", "euro": "EUR", "german": "EUR"}.get(key, "USD")
        invoice = Invoice.objects.create(
            customer=customer,
            currency=currency,
            memo=memo,
            issue_date=timezone.localdate() - timedelta(days=age),
            footer="Thank you for your business.",
            created_by=staff,
        )
        for position, (description, quantity, unit, rate) in enumerate(LINES):
            unit_amount = unit // 100 if currency == "JPY" else unit
            InvoiceLine.objects.create(
                invoice=invoice,
                position=position,
                description=description,
                quantity=quantity,
                unit_amount=unit_amount,
                tax_rate=rate,
            )
        invoice.apply_terms()
        lines = list(invoice.lines.all())
        invoice.recalculate(lines)
        InvoiceLine.objects.bulk_update(lines, ["amount"])
        invoice.save()
        record_activity(invoice, "created", actor=staff)
        if status == Invoice.Status.DRAFT:
            return True
        invoice = finalize_invoice(invoice=invoice, actor=staff)
        if status == Invoice.Status.PAID:
            Payment.objects.create(
                invoice=invoice,
                method=Payment.Method.BANK_TRANSFER,
                status=Payment.Status.SUCCEEDED,
                amount=invoice.amount_due,
                currency=invoice.currency,
                reference="Demo transfer",
                received_on=timezone.localdate(),
                recorded_by=staff,
            )
            invoice.add_payment(invoice.amount_due)
        elif status in (Invoice.Status.VOID, Invoice.Status.UNCOLLECTIBLE):
            invoice.status = status
            if status == Invoice.Status.VOID:
                invoice.voided_at = timezone.now()
        invoice.save()
        return True
