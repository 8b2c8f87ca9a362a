"""Who gets an invoice email: only an open invoice that asks for something (or a draft
finalized and sent in one go). A paid, void or uncollectible one is refused, whether by
its Send button, a direct POST, "Send again" on a failed email, or bulk Send; the
refusal is one rule (`services.send_refusal`), so all of them say the same."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from invoices import services
from invoices.models import CustomerCredit, EmailLog, Invoice, InvoiceActivity
from invoices.recurring import run_recurring
from invoices.recurring_models import RecurringLine, RecurringTemplate
from invoices.services import (
    finalize_and_send,
    mark_uncollectible,
    send_invoice,
    send_refusal,
    void_invoice,
)
from tests.factories import CustomerFactory, make_draft, make_open, pay

pytestmark = pytest.mark.django_db

PAID = "It is paid: there is nothing to ask for."
VOID = "A voided invoice cannot be sent."
UNCOLLECTIBLE = "It is marked uncollectible: it asks for nothing, so it is not sent."
DRAFT = "A draft must be finalized before it is sent."
NOTHING_LEFT = "Nothing is left to pay: there is nothing to ask for."


def sent_once_then(outcome: str) -> Invoice:
    """An invoice emailed while open, then paid, voided or written off."""
    invoice = make_open()
    send_invoice(invoice=invoice)
    invoice.refresh_from_db()
    if outcome == "paid":
        pay(invoice)
    elif outcome == "void":
        invoice = void_invoice(invoice=invoice)
    elif outcome == "uncollectible":
        invoice = mark_uncollectible(invoice=invoice)
    invoice.refresh_from_db()
    return invoice


def send(client, invoice: Invoice, captured):
    with captured(execute=True):
        return client.post(reverse("invoices:send", args=[invoice.pk]), follow=True)


def emails(kind: str, invoice: Invoice) -> int:
    return EmailLog.objects.filter(kind=kind, invoice=invoice).count()


def sent_entries(invoice: Invoice) -> int:
    return invoice.activities.filter(kind=InvoiceActivity.Kind.SENT).count()


@pytest.mark.parametrize(
    ("outcome", "message"),
    [("paid", PAID), ("void", VOID), ("uncollectible", UNCOLLECTIBLE)],
)
def test_a_direct_post_refuses_an_invoice_that_asks_for_nothing(
    staff_client, mailoutbox, django_capture_on_commit_callbacks, outcome, message
):
    invoice = sent_once_then(outcome)
    sent_at, mailed = invoice.sent_at, len(mailoutbox)
    response = send(staff_client, invoice, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert message in response.text
    assert "Invoice emailed" not in response.text
    invoice.refresh_from_db()
    assert invoice.status == outcome
    assert invoice.sent_at == sent_at
    assert emails("invoice", invoice) == 1  # the first send's, and no other
    assert sent_entries(invoice) == 1
    assert len(mailoutbox) == mailed
    assert not [m for m in mailoutbox if m.subject.startswith(f"Invoice {invoice.number}")]


def test_a_direct_post_refuses_a_draft(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    draft = make_draft()
    response = send(staff_client, draft, django_capture_on_commit_callbacks)
    assert DRAFT in response.text
    draft.refresh_from_db()
    assert (draft.status, draft.sent_at) == (Invoice.Status.DRAFT, None)
    assert (emails("invoice", draft), sent_entries(draft), mailoutbox) == (0, 0, [])


def test_an_open_invoice_with_nothing_left_to_pay_is_not_sent(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    free = make_open(lines=1, unit_amount=0)
    assert (free.status, free.amount_owed) == (Invoice.Status.OPEN, 0)
    page = staff_client.get(free.get_absolute_url()).text
    assert reverse("invoices:send", args=[free.pk]) not in page
    response = send(staff_client, free, django_capture_on_commit_callbacks)
    assert NOTHING_LEFT in response.text
    assert (emails("invoice", free), sent_entries(free), mailoutbox) == (0, 0, [])


def test_an_open_invoice_is_sent_and_resent(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = make_open()
    assert send_refusal(invoice) is None
    first = send(staff_client, invoice, django_capture_on_commit_callbacks)
    assert f"Invoice emailed to {invoice.customer.email}." in first.text
    again = send(staff_client, invoice, django_capture_on_commit_callbacks)
    assert f"Invoice emailed to {invoice.customer.email}." in again.text
    assert (emails("invoice", invoice), sent_entries(invoice)) == (2, 2)
    assert [m.to for m in mailoutbox] == [[invoice.customer.email]] * 2
    assert all("$200.00" in m.subject for m in mailoutbox)


def test_a_partly_paid_invoice_is_sent_for_the_rest(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = make_open()
    pay(invoice, 5000)
    send(staff_client, invoice, django_capture_on_commit_callbacks)
    (message,) = mailoutbox
    assert "$150.00" in message.subject


def failed(kind: str, invoice: Invoice) -> EmailLog:
    email = EmailLog.objects.filter(kind=kind, invoice=invoice).latest("id")
    EmailLog.objects.filter(pk=email.pk).update(status=EmailLog.Status.FAILED, attempts=6)
    return email


def send_again(client, email: EmailLog, captured):
    url = reverse("invoices:send_email_again", args=[email.invoice_id, email.pk])
    with captured(execute=True):
        return client.post(url, follow=True)


def queued_again(invoice: Invoice) -> int:
    return invoice.activities.filter(message__endswith="email queued again").count()


@pytest.mark.parametrize(
    ("outcome", "message"),
    [("paid", PAID), ("void", VOID), ("uncollectible", UNCOLLECTIBLE)],
)
def test_send_again_refuses_a_failed_invoice_email_once_it_asks_for_nothing(
    staff_client, mailoutbox, django_capture_on_commit_callbacks, outcome, message
):
    invoice = sent_once_then(outcome)
    email = failed("invoice", invoice)
    mailed = len(mailoutbox)
    response = send_again(staff_client, email, django_capture_on_commit_callbacks)
    assert f"Not sent again. {message}" in response.text
    email.refresh_from_db()
    assert email.status == EmailLog.Status.FAILED
    assert queued_again(invoice) == 0
    assert len(mailoutbox) == mailed


def test_send_again_refuses_a_failed_reminder_once_paid(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = make_open()
    services.send_reminder_now(invoice=invoice)
    pay(invoice)
    email = failed("reminder", invoice)
    response = send_again(staff_client, email, django_capture_on_commit_callbacks)
    assert "Not sent again. A paid invoice asks for nothing." in response.text
    email.refresh_from_db()
    assert email.status == EmailLog.Status.FAILED
    assert (queued_again(invoice), mailoutbox) == (0, [])


def test_send_again_still_sends_a_failed_invoice_email_while_open(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = make_open()
    send_invoice(invoice=invoice)
    email = failed("invoice", invoice)
    response = send_again(staff_client, email, django_capture_on_commit_callbacks)
    assert "Invoice email queued again." in response.text
    email.refresh_from_db()
    assert email.status == EmailLog.Status.SENT
    assert queued_again(invoice) == 1
    assert [m.to for m in mailoutbox] == [[invoice.customer.email]]


def test_send_again_still_sends_a_failed_receipt(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = make_open()
    services.record_offline_payment(
        invoice=invoice, amount=invoice.amount_due, method="cash", received_on=date.today()
    )
    email = failed("receipt", invoice)
    response = send_again(staff_client, email, django_capture_on_commit_callbacks)
    assert "Receipt email queued again." in response.text
    email.refresh_from_db()
    assert email.status == EmailLog.Status.SENT


def test_bulk_send_skips_with_the_single_sends_words(staff_client, mailoutbox):
    ready = make_open()
    refused = [sent_once_then(o) for o in ("paid", "void", "uncollectible")] + [make_draft()]
    ids = [i.pk for i in (ready, *refused)]
    review = staff_client.get("/invoices/bulk/", {"action": "send", "ids": ids}).text
    response = staff_client.post(
        "/invoices/bulk/run/",
        {"action": "send", "ids": ids, "form_token": "bulk-send"},
        follow=True,
    )
    assert "1 invoice sent" in response.text
    for invoice in refused:
        reason = send_refusal(invoice)
        assert reason in review
        assert f"{invoice}: {reason}" in response.text
        assert sent_entries(invoice) == (0 if invoice.is_draft else 1)


def test_a_draft_finalized_and_sent_in_one_go_is_emailed(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = finalize_and_send(invoice=make_draft())
    assert (invoice.status, invoice.sent_at is not None) == (Invoice.Status.OPEN, True)
    assert sent_entries(invoice) == 1
    assert [m.to for m in mailoutbox] == [[invoice.customer.email]]


def test_a_recurring_invoice_covered_by_account_credit_is_billed_but_not_emailed(
    mailoutbox, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    CustomerCredit.objects.create(customer=customer, currency="USD", amount=50000)
    template = RecurringTemplate.objects.create(
        customer=customer, frequency="monthly", day_of_month=1, start_date=date(2026, 1, 1)
    )
    RecurringLine.objects.create(
        template=template, description="Retainer", unit_amount=50000, quantity=Decimal(1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = run_recurring(today=date(2026, 1, 5))
    assert report.failed == []
    (invoice,) = report.created
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_credited, invoice.amount_due) == ("paid", 50000, 0)
    assert invoice.sent_at is None
    assert (sent_entries(invoice), emails("invoice", invoice), mailoutbox) == (0, 0, [])
    assert template.runs.get().invoice == invoice
