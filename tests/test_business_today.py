"""Due dates are days of the business's calendar: "due today" and "overdue" are judged by
today in the business's time zone (the profile's), not in settings.TIME_ZONE (UTC here).

At 05:00 UTC on 10 March it is still 9 March, 22:00, in Los Angeles: an invoice due on
9 March is due today there, not overdue. At 23:30 UTC on 9 March it is already 10 March
in Berlin: the same invoice is a day overdue there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from customers.models import Customer
from invoices.documents.reminders import send_due_reminders
from invoices.listing import dashboard_balances
from invoices.models import BusinessProfile, Invoice
from invoices.staff.customer_accounts import with_figures
from invoices.staff.receivables import aging
from portal.timezones import business_today
from tests.factories import make_open

pytestmark = pytest.mark.django_db

DUE = date(2026, 3, 9)
LATE_EVENING_IN_LOS_ANGELES = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)  # 9 March, 22:00 PDT
JUST_AFTER_MIDNIGHT_IN_BERLIN = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)  # 10 March, 00:30 CET


def set_zone(name: str, schedule: str = "0") -> None:
    profile = BusinessProfile.load()
    profile.time_zone = name
    profile.reminder_schedule = schedule
    profile.save()


def due_on_the_ninth() -> Invoice:
    with time_machine.travel(datetime(2026, 2, 20, 12, tzinfo=UTC), tick=False):
        invoice = make_open(lines=1, unit_amount=10000)
    invoice.due_date = DUE
    invoice.save()
    return invoice


def overdue_everywhere(invoice: Invoice) -> dict[str, object]:
    """What every place that judges "overdue" says about the invoice, at the moment."""
    invoice.refresh_from_db()
    (usd,) = dashboard_balances(datetime(2026, 3, 1, tzinfo=UTC))
    customers = with_figures(Customer.objects.filter(pk=invoice.customer_id), "", business_today())
    (row,) = aging(business_today()).totals
    return {
        "status": invoice.display_status,
        "query": Invoice.objects.overdue().filter(pk=invoice.pk).exists(),
        "dashboard": usd.overdue,
        "customers list": customers.get().overdue,
        "aging current": row.amounts[0],
    }


def test_it_is_due_today_not_overdue_late_in_the_evening_in_los_angeles():
    set_zone("America/Los_Angeles")
    invoice = due_on_the_ninth()
    with time_machine.travel(LATE_EVENING_IN_LOS_ANGELES, tick=False):
        assert business_today() == DUE
        assert overdue_everywhere(invoice) == {
            "status": "open",
            "query": False,
            "dashboard": 0,
            "customers list": 0,
            "aging current": 10000,
        }


def test_it_is_a_day_overdue_just_after_midnight_in_berlin():
    set_zone("Europe/Berlin")
    invoice = due_on_the_ninth()
    with time_machine.travel(JUST_AFTER_MIDNIGHT_IN_BERLIN, tick=False):
        assert business_today() == date(2026, 3, 10)
        assert overdue_everywhere(invoice) == {
            "status": "overdue",
            "query": True,
            "dashboard": 10000,
            "customers list": 10000,
            "aging current": 0,
        }


def test_the_invoice_page_and_the_receivables_agree(staff_client):
    set_zone("America/Los_Angeles")
    invoice = due_on_the_ninth()
    with time_machine.travel(LATE_EVENING_IN_LOS_ANGELES, tick=False):
        page = staff_client.get(invoice.get_absolute_url()).text
        report = staff_client.get(reverse("invoices:receivables")).context["report"]
    assert "badge-overdue" not in page
    assert report.today == DUE


def test_the_due_day_reminder_says_due_today_in_the_business_calendar():
    set_zone("America/Los_Angeles")
    invoice = due_on_the_ninth()
    with time_machine.travel(LATE_EVENING_IN_LOS_ANGELES, tick=False):
        run = send_due_reminders()
    assert [(sent.pk, offset) for sent, offset in run.sent] == [(invoice.pk, 0)]
    (message,) = mail.outbox
    assert "is due today" in message.subject


def test_the_reminder_counts_days_overdue_in_the_business_calendar():
    set_zone("Europe/Berlin", schedule="1")
    invoice = due_on_the_ninth()
    with time_machine.travel(JUST_AFTER_MIDNIGHT_IN_BERLIN, tick=False):
        run = send_due_reminders()
    assert [(sent.pk, offset) for sent, offset in run.sent] == [(invoice.pk, 1)]
    (message,) = mail.outbox
    assert "was due 1 day ago" in message.subject


def test_no_reminder_before_the_day_has_come_in_the_business_calendar():
    set_zone("America/Los_Angeles", schedule="1")
    due_on_the_ninth()
    with time_machine.travel(LATE_EVENING_IN_LOS_ANGELES, tick=False):
        assert send_due_reminders().sent == []
    assert mail.outbox == []


# 11:30 UTC on 9 March is already 10 March, 00:30, in Auckland.
AFTER_MIDNIGHT_IN_AUCKLAND = datetime(2026, 3, 9, 11, 30, tzinfo=UTC)


def test_staff_record_a_payment_received_today_in_the_business_calendar(staff_client):
    set_zone("Pacific/Auckland")
    invoice = due_on_the_ninth()
    url = reverse("invoices:record_payment", args=[invoice.pk])
    data = {"amount": "100.00", "method": "bank_transfer", "received_on": "2026-03-10"}
    with time_machine.travel(AFTER_MIDNIGHT_IN_AUCKLAND, tick=False):
        offered = staff_client.get(url).context["form"].initial["received_on"]
        staff_client.post(url, data)
    assert offered == date(2026, 3, 10)
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert invoice.payments.get().received_on == date(2026, 3, 10)


def test_a_day_after_the_business_today_is_still_refused(staff_client):
    set_zone("Pacific/Auckland")
    invoice = due_on_the_ninth()
    url = reverse("invoices:record_payment", args=[invoice.pk])
    data = {"amount": "100.00", "method": "bank_transfer", "received_on": "2026-03-11"}
    with time_machine.travel(AFTER_MIDNIGHT_IN_AUCKLAND, tick=False):
        response = staff_client.post(url, data)
    assert "The date cannot be in the future." in response.text
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("open", 0)
