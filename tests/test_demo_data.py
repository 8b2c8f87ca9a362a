from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from customers.models import Customer
from invoices.models import Invoice

pytestmark = pytest.mark.django_db


def run() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def test_it_creates_invoices_in_every_status_and_a_staff_login():
    output = run()
    statuses = set(Invoice.objects.values_list("status", flat=True))
    assert statuses == set(Invoice.Status.values)
    assert any(invoice.is_overdue for invoice in Invoice.objects.all())
    assert "Staff login: staff / " in output
    user = authenticate(username="staff", password=output.split("staff / ")[1].split()[0])
    assert user is not None
    assert user.is_staff


def test_it_is_safe_to_run_twice():
    run()
    counts = (Customer.objects.count(), Invoice.objects.count())
    numbers = sorted(Invoice.objects.exclude(number="").values_list("number", flat=True))
    assert "(0 invoices created)" in run()
    assert (Customer.objects.count(), Invoice.objects.count()) == counts
    assert sorted(Invoice.objects.exclude(number="").values_list("number", flat=True)) == numbers


def test_paid_demo_invoice_owes_nothing():
    run()
    paid = Invoice.objects.get(status=Invoice.Status.PAID)
    assert paid.amount_due == 0
    assert paid.amount_paid == paid.total > 0
