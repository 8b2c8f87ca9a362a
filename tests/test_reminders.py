from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from smtplib import SMTPException

import pytest
import time_machine
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command

from invoices.documents.reminders import reminder_due, send_due_reminders
from invoices.models import BusinessProfile, Invoice, InvoiceActivity, Payment
from tests.factories import make_draft, make_open

pytestmark = pytest.mark.django_db

# Issued on the 1st with net 30 terms: due on the 31st. Offsets -3, 0, 7, 14.
ISSUED = date(2026, 3, 1)
DUE = date(2026, 3, 31)


def on(day: date) -> time_machine.travel:
    return time_machine.travel(datetime(day.year, day.month, day.day, 9, 0), tick=False)


def days(n: int) -> date:
    return DUE + timedelta(days=n)


def run() -> str:
    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def invoice() -> Invoice:
    with on(ISSUED):
        invoice = make_open()
    assert invoice.due_date == DUE
    return invoice


def offsets_recorded(invoice: Invoice) -> list[int]:
    return sorted(invoice.reminders.values_list("offset_days", flat=True))


def pay_in_full(invoice: Invoice) -> None:
    Payment.objects.create(
        invoice=invoice,
        method=Payment.Method.BANK_TRANSFER,
        status=Payment.Status.SUCCEEDED,
        amount=invoice.amount_due,
        currency=invoice.currency,
    )
    invoice.add_payment(invoice.amount_due)
    invoice.save()


def test_it_sends_nothing_before_the_first_reminder_day(invoice, mailoutbox) -> None:
    with on(days(-4)):
        assert run() == "Sent 0 reminders."
    assert mailoutbox == []


def test_it_sends_the_first_reminder_three_days_before(invoice, mailoutbox) -> None:
    with on(days(-3)):
        assert run() == "Sent 1 reminder."
    [message] = mailoutbox
    assert message.to == [invoice.customer.email]
    assert "is due in 3 days" in message.subject
    assert message.attachments[0].filename == f"{invoice.number}.pdf"
    assert offsets_recorded(invoice) == [-3]


def test_it_records_the_activity(invoice) -> None:
    with on(days(0)):
        run()
    activity = invoice.activities.get(kind=InvoiceActivity.Kind.REMINDER_SENT)
    assert activity.data["offset_days"] == 0
    assert "on the due date" in activity.message
    assert invoice.customer.email in activity.message


def test_it_is_idempotent(invoice, mailoutbox) -> None:
    with on(days(-3)):
        assert run() == "Sent 1 reminder."
        assert run() == "Sent 0 reminders."
    assert len(mailoutbox) == 1
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.REMINDER_SENT).count() == 1


def test_it_follows_the_schedule_day_by_day(invoice, mailoutbox) -> None:
    sent_on = []
    for n in range(-5, 20):
        with on(days(n)):
            if run() == "Sent 1 reminder.":
                sent_on.append(n)
    assert sent_on == [-3, 0, 7, 14]
    assert len(mailoutbox) == 4
    assert "Overdue" in mailoutbox[-1].subject


def test_it_catches_up_with_one_email_for_the_latest_offset(invoice, mailoutbox) -> None:
    # Cron was down from before the first reminder until 10 days after the due date.
    with on(days(10)):
        assert run() == "Sent 1 reminder."
    [message] = mailoutbox
    assert "was due 10 days ago" in message.subject
    activity = invoice.activities.get(kind=InvoiceActivity.Kind.REMINDER_SENT)
    assert activity.data == {"offset_days": 7, "skipped_offsets": [-3, 0]}
    # The skipped ones are never sent later; the next one still comes on time.
    assert offsets_recorded(invoice) == [-3, 0, 7]
    with on(days(11)):
        assert run() == "Sent 0 reminders."
    with on(days(14)):
        assert run() == "Sent 1 reminder."
    assert len(mailoutbox) == 2


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda invoice: setattr(invoice, "reminders_paused", True), id="paused"),
        pytest.param(pay_in_full, id="paid"),
        pytest.param(lambda invoice: setattr(invoice, "status", "void"), id="void"),
        pytest.param(
            lambda invoice: setattr(invoice, "status", "uncollectible"), id="uncollectible"
        ),
    ],
)
def test_it_leaves_alone(invoice, mailoutbox, change) -> None:
    change(invoice)
    invoice.save()
    for n in (-3, 0, 7, 14, 30):
        with on(days(n)):
            assert run() == "Sent 0 reminders."
    assert mailoutbox == []
    assert offsets_recorded(invoice) == []


def test_it_leaves_drafts_alone(mailoutbox) -> None:
    with on(ISSUED):
        draft = make_draft()
    assert draft.due_date == DUE
    with on(days(7)):
        assert run() == "Sent 0 reminders."
    assert mailoutbox == []


def test_it_stops_once_paid_since_the_last_reminder(invoice, mailoutbox) -> None:
    with on(days(0)):
        assert run() == "Sent 1 reminder."
    with on(days(2)):
        pay_in_full(invoice)
    with on(days(7)):
        assert run() == "Sent 0 reminders."
    with on(days(14)):
        assert run() == "Sent 0 reminders."
    assert len(mailoutbox) == 1


def test_it_follows_the_business_schedule(invoice, mailoutbox) -> None:
    BusinessProfile.objects.update_or_create(pk=1, defaults={"reminder_schedule": "1, 30"})
    with on(days(0)):
        assert run() == "Sent 0 reminders."
    with on(days(1)):
        assert run() == "Sent 1 reminder."
    assert offsets_recorded(invoice) == [1]


def test_it_sends_nothing_with_an_empty_schedule(invoice, mailoutbox) -> None:
    BusinessProfile.objects.update_or_create(pk=1, defaults={"reminder_schedule": ""})
    with on(days(30)):
        assert run() == "Sent 0 reminders."
    assert mailoutbox == []


def test_it_reads_the_schedule_in_a_fixed_number_of_queries(
    invoice, django_assert_max_num_queries
) -> None:
    with on(ISSUED):
        for _ in range(5):
            make_open()
    with on(days(0)):
        assert len(send_due_reminders().sent) == 6
    # Everything is reminded: the schedule check must not query per invoice.
    with on(days(1)), django_assert_max_num_queries(3):  # profile, invoices, reminders
        assert send_due_reminders().sent == []


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages: list) -> int:
        raise SMTPException("mail server down")


def test_it_retries_a_reminder_whose_email_failed(invoice, settings, mailoutbox) -> None:
    locmem = settings.MAILERS
    settings.MAILERS = {"default": {"BACKEND": "tests.test_reminders.BrokenBackend"}}
    with on(days(0)), pytest.raises(CommandError, match=invoice.number):
        run()
    assert offsets_recorded(invoice) == [-3]  # the skipped one stays skipped
    assert not invoice.activities.filter(kind=InvoiceActivity.Kind.REMINDER_SENT).exists()
    settings.MAILERS = locmem
    with on(days(1)):
        assert run() == "Sent 1 reminder."
    assert offsets_recorded(invoice) == [-3, 0]


@pytest.mark.parametrize(
    ("today", "done", "expected"),
    [
        (days(-4), [], (None, [])),
        (days(-3), [], (-3, [])),
        (days(0), [-3], (0, [])),
        (days(8), [], (7, [-3, 0])),
        (days(8), [-3, 0, 7], (None, [])),
        (days(40), [-3], (14, [0, 7])),
        # A schedule edited to add an earlier day after a later one went out.
        (days(8), [7], (None, [-3, 0])),
    ],
)
def test_it_picks_the_reminder_due(today: date, done: list[int], expected: tuple) -> None:
    assert reminder_due([-3, 0, 7, 14], DUE, today, done) == expected
