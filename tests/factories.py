from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from customers.models import Customer
from invoices.models import Invoice, InvoiceLine, Payment
from invoices.services import finalize_invoice


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "password")

    @factory.post_generation
    def saved(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class StaffFactory(UserFactory):
    is_staff = True


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    company = "Example Ltd"
    address_line1 = "1 Example Street"
    city = "Springfield"
    country = "US"


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    customer = factory.SubFactory(CustomerFactory)
    currency = "USD"


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    description = factory.Sequence(lambda n: f"Service {n}")
    quantity = Decimal(1)
    unit_amount = 10000
    tax_rate = Decimal(0)
    position = factory.Sequence(int)


class PaymentFactory(factory.django.DjangoModelFactory):
    """A succeeded card payment (not yet booked on its invoice: see `pay`)."""

    class Meta:
        model = Payment

    invoice = factory.SubFactory(InvoiceFactory)
    method = Payment.Method.ONLINE
    status = Payment.Status.SUCCEEDED
    amount = 10000
    currency = factory.LazyAttribute(lambda p: p.invoice.currency)
    card_brand = "visa"
    card_last4 = "4242"
    method_type = "card"
    method_details = factory.LazyAttribute(lambda p: {"brand": p.card_brand, "last4": p.card_last4})
    stripe_payment_intent_id = factory.LazyAttribute(lambda p: f"pi_test_{p.invoice.pk}")


def pay(invoice: Invoice, amount: int | None = None, **fields: object) -> Payment:
    """A succeeded card payment of `amount` (default: all that is due), booked on the invoice."""
    amount = invoice.amount_due if amount is None else amount
    payment = PaymentFactory(invoice=invoice, amount=amount, **fields)
    invoice.add_payment(amount)
    invoice.save()
    return payment


def make_draft(lines: int = 2, unit_amount: int = 10000, **kwargs: object) -> Invoice:
    invoice = InvoiceFactory(**kwargs)
    for position in range(lines):
        InvoiceLineFactory(invoice=invoice, position=position, unit_amount=unit_amount)
    invoice.apply_terms()
    saved = list(invoice.lines.all())
    invoice.recalculate(saved)
    InvoiceLine.objects.bulk_update(saved, ["amount"])
    invoice.save()
    return invoice


def make_open(lines: int = 2, unit_amount: int = 10000, **kwargs: object) -> Invoice:
    return finalize_invoice(invoice=make_draft(lines, unit_amount, **kwargs))


def open_with_intent(intent_id: str = "pi_test_1", **kwargs: object) -> Invoice:
    """An open invoice whose PaymentIntent the portal created (as `start_payment` records it),
    so Stripe's events for that intent are ours to apply."""
    invoice = make_open(**kwargs)
    Payment.objects.create(
        invoice=invoice,
        amount=invoice.amount_due,
        currency=invoice.currency,
        stripe_payment_intent_id=intent_id,
    )
    invoice.stripe_payment_intent_id = intent_id
    invoice.save()
    return invoice
