"""Bank debits (ACH Direct Debit, SEPA Direct Debit) through real signed webhooks:
processing for days, settling or failing afterwards, in either order of delivery."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from customers.models import Customer
from invoices.documents.reminders import send_due_reminders
from invoices.forms import BusinessProfileForm
from invoices.models import (
    BusinessProfile,
    EmailLog,
    Invoice,
    InvoiceActivity,
    InvoiceFlag,
    Payment,
    StripeEvent,
)
from invoices.payment_methods import expected_settlement
from tests import stripe_events as se
from tests.factories import make_open, open_with_intent

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    """A client whose webhook deliveries also run what they queue after commit (emails)."""
    post = client.post

    def post_and_commit(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    client.post = post_and_commit
    return client


ACH = {"bank_name": "Chase Bank", "last4": "6789", "account_holder_type": "individual"}
SEPA = {"country": "DE", "last4": "3000", "bank_code": "37040044"}


def debit_intent(invoice: Invoice, status: str, kind: str, failure: str = "") -> dict[str, Any]:
    """A PaymentIntent as Stripe sends it for a debit; a failure carries Stripe's code and
    the PaymentMethod that failed (so its type says it was a bank debit)."""
    intent = se.intent(invoice, status=status)
    intent["latest_charge"] = "py_debit_1"
    intent["payment_method_types"] = ["card", kind]
    if failure:
        intent["last_payment_error"] = {
            "code": failure,
            "message": "The customer's bank could not process the debit.",
            "type": "invalid_request_error",
            "payment_method": {"id": "pm_debit_1", "object": "payment_method", "type": kind},
        }
    return intent


def debit_charge(invoice: Invoice, status: str, kind: str) -> dict[str, Any]:
    charge = se.charge(invoice.stripe_payment_intent_id, amount=invoice.amount_due)
    charge.update(id="py_debit_1", status=status, currency=invoice.currency.lower())
    charge["payment_method_details"] = {
        "type": kind,
        kind: ACH if kind == "us_bank_account" else SEPA,
    }
    return charge


def deliver(client: Client, event_type: str, obj: dict[str, Any]) -> str:
    response = se.deliver(client, se.event(event_type, obj))
    assert response.status_code == 200, response.content
    return response.content.decode()


def refreshed(invoice: Invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


def customer_emails(kind: str) -> list[EmailLog]:
    return list(EmailLog.objects.filter(kind=kind))


def staff_notices(notice_kind: str) -> list[EmailLog]:
    return list(EmailLog.objects.filter(kind="notice", params__notice_kind=notice_kind))


def start_processing(client: Client, invoice: Invoice, kind: str) -> None:
    deliver(client, "payment_intent.processing", debit_intent(invoice, "processing", kind))
    deliver(client, "charge.pending", debit_charge(invoice, "pending", kind))


# -- the profile chooses the methods -------------------------------------------


def test_the_profile_offers_each_debit_only_in_its_currency():
    profile = BusinessProfile.load()
    assert profile.payment_method_types("USD") == ["card"]
    profile.accept_us_bank_account = profile.accept_sepa_debit = True
    assert profile.payment_method_types("usd") == ["card", "us_bank_account"]
    assert profile.payment_method_types("EUR") == ["card", "sepa_debit"]
    assert profile.payment_method_types("GBP") == ["card"]


@pytest.mark.parametrize(
    ("currency", "expected"),
    [("USD", ["card", "us_bank_account"]), ("EUR", ["card", "sepa_debit"])],
)
def test_the_payment_intent_asks_for_exactly_the_offered_methods(
    client, stripe_env, currency, expected
):
    stripe_env.configure(payment_methods=["card", "us_bank_account", "sepa_debit"])
    BusinessProfile.objects.update_or_create(
        pk=1, defaults={"accept_us_bank_account": True, "accept_sepa_debit": True}
    )
    invoice = make_open(currency=currency)
    page = client.get(invoice.get_pay_url()).content.decode()
    assert 'id="accepted-methods"' in page
    assert "takes a few business days" in page
    other = "SEPA Direct Debit" if currency == "USD" else "US bank account (ACH"
    assert other not in page
    assert client.post(f"{invoice.get_pay_url()}pay/").status_code == 200
    invoice.refresh_from_db()
    intent = stripe_env.client().v1.payment_intents.retrieve(invoice.stripe_payment_intent_id)
    assert intent.payment_method_types == expected


def test_cards_only_pages_do_not_mention_debits(client):
    invoice = make_open()
    assert 'id="accepted-methods"' not in client.get(invoice.get_pay_url()).content.decode()


def test_the_profile_form_saves_the_methods(admin_client):
    page = admin_client.get(reverse("invoices:profile")).text
    assert 'name="accept_us_bank_account"' in page
    assert 'name="accept_sepa_debit"' in page
    form = BusinessProfileForm(instance=BusinessProfile.load())
    data = {name: form[name].value() or "" for name in form.fields if name != "logo"}
    data.pop("accept_us_bank_account")
    data["accept_sepa_debit"] = "on"
    assert admin_client.post(reverse("invoices:profile"), data).status_code == 302
    profile = BusinessProfile.load()
    assert (profile.accept_us_bank_account, profile.accept_sepa_debit) == (False, True)


# -- processing for days ---------------------------------------------------------


def test_ach_processing_then_succeeded(client, staff_client, mailoutbox):
    invoice = open_with_intent(currency="USD")
    start_processing(client, invoice, "us_bank_account")
    invoice = refreshed(invoice)
    payment = invoice.payments.get()
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.payment_state == Invoice.PaymentState.PROCESSING
    assert payment.status == Payment.Status.PROCESSING
    assert payment.method_label == "Chase Bank •••• 6789"
    expected = expected_settlement("us_bank_account", payment.processing_since.date())
    assert payment.expected_by == expected
    # No second payment can start.
    assert invoice.payment_refusal is not None
    refused = client.post(f"{invoice.get_pay_url()}pay/")
    assert "Your payment is processing." in refused.content.decode()
    assert Payment.objects.filter(invoice=invoice).count() == 1
    pay_page = client.get(invoice.get_pay_url()).content.decode()
    assert "Payment processing (bank debit, expected by" in pay_page
    assert 'class="button primary pay-button"' not in pay_page
    staff = staff_client.get(invoice.get_absolute_url()).content.decode()
    assert "Payment processing (bank debit, Chase Bank •••• 6789, expected by" in staff
    dashboard = staff_client.get("/?status=processing").content.decode()
    assert invoice.number in dashboard
    assert invoice.number not in staff_client.get("/?status=paid").content.decode()

    deliver(client, "charge.succeeded", debit_charge(invoice, "succeeded", "us_bank_account"))
    deliver(client, "payment_intent.succeeded", debit_intent(invoice, "succeeded", "x"))
    invoice = refreshed(invoice)
    assert invoice.status == Invoice.Status.PAID
    assert invoice.payment_state == ""
    receipts = [m for m in mailoutbox if m.subject.startswith("Receipt")]
    assert len(receipts) == 1
    assert "Chase Bank •••• 6789" in receipts[0].body
    assert invoice.number not in staff_client.get("/?status=processing").content.decode()


def test_succeeded_arriving_before_processing_stays_paid(client):
    invoice = open_with_intent(currency="USD")
    deliver(client, "charge.succeeded", debit_charge(invoice, "succeeded", "us_bank_account"))
    deliver(client, "payment_intent.succeeded", debit_intent(invoice, "succeeded", "x"))
    start_processing(client, invoice, "us_bank_account")  # older news, late
    invoice = refreshed(invoice)
    assert invoice.status == Invoice.Status.PAID
    assert invoice.payment_state == ""
    assert invoice.payments.get().status == Payment.Status.SUCCEEDED
    assert invoice.payments.get().method_label == "Chase Bank •••• 6789"
    assert len(customer_emails("receipt")) == 1


def test_reminders_pause_while_a_debit_is_processing(client, mailoutbox):
    invoice = open_with_intent(currency="USD", issue_date=date.today() - timedelta(days=38))
    start_processing(client, invoice, "us_bank_account")
    assert send_due_reminders(today=date.today()).sent == []
    deliver(
        client,
        "payment_intent.payment_failed",
        debit_intent(invoice, "x", "us_bank_account", "insufficient_funds"),
    )
    assert [inv.pk for inv, _ in send_due_reminders(today=date.today()).sent] == [invoice.pk]


# -- failing after processing ------------------------------------------------------


def sepa_invoice() -> Invoice:
    invoice = open_with_intent(currency="EUR")
    Customer.objects.filter(pk=invoice.customer_id).update(language="de")
    return refreshed(invoice)


def fail(client: Client, invoice: Invoice, code: str = "generic_could_not_process") -> None:
    deliver(client, "charge.failed", debit_charge(invoice, "failed", "sepa_debit"))
    deliver(
        client,
        "payment_intent.payment_failed",
        debit_intent(invoice, "requires_payment_method", "sepa_debit", code),
    )


def test_sepa_processing_then_failed_reopens_and_emails_the_customer(
    client, staff_client, mailoutbox
):
    invoice = sepa_invoice()
    start_processing(client, invoice, "sepa_debit")
    assert refreshed(invoice).payment_state == Invoice.PaymentState.PROCESSING
    fail(client, invoice, "insufficient_funds")
    invoice = refreshed(invoice)
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.payment_state == Invoice.PaymentState.FAILED
    assert invoice.is_payable
    flag = invoice.flags.get(kind=InvoiceFlag.Kind.DEBIT_FAILED)
    assert "insufficient_funds" in flag.message
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.PAYMENT_FAILED).count() == 1
    assert len(staff_notices("flag")) == 1
    assert staff_notices("payment_failed") == []  # the flag's notice says it all
    [email] = [m for m in mailoutbox if invoice.number in m.subject and "Lastschrift" in m.subject]
    assert "Das Konto war nicht ausreichend gedeckt." in email.body  # the reason, plainly
    assert invoice.get_absolute_pay_url() in email.body
    assert email.to == [invoice.customer.email]
    page = client.get(invoice.get_pay_url()).content.decode()
    assert 'class="button primary pay-button"' in page
    assert "processing-notice" not in page
    staff = staff_client.get(invoice.get_absolute_url()).content.decode()
    assert "The bank debit of €200.00 failed (insufficient_funds)" in staff

    # The same failure again (a resend under a new event id) sends nothing more.
    fail(client, invoice, "insufficient_funds")
    assert len(customer_emails("debit_failed")) == 1
    assert invoice.flags.filter(kind=InvoiceFlag.Kind.DEBIT_FAILED).count() == 1


def test_failed_arriving_before_processing_stays_failed(client):
    invoice = sepa_invoice()
    fail(client, invoice)
    start_processing(client, invoice, "sepa_debit")  # older news of the same charge
    invoice = refreshed(invoice)
    assert invoice.payment_state == Invoice.PaymentState.FAILED
    assert invoice.payments.get().status == Payment.Status.FAILED
    assert invoice.is_payable
    assert len(customer_emails("debit_failed")) == 1


def test_a_new_attempt_after_a_failed_debit_can_process_again(client):
    invoice = sepa_invoice()
    start_processing(client, invoice, "sepa_debit")
    fail(client, invoice)
    retry = debit_intent(invoice, "processing", "sepa_debit")
    retry["latest_charge"] = "py_debit_2"
    deliver(client, "payment_intent.processing", retry)
    assert refreshed(invoice).payment_state == Invoice.PaymentState.PROCESSING


def test_a_card_failure_still_sends_the_plain_staff_notice(client):
    invoice = open_with_intent()
    failed = se.intent(invoice, status="requires_payment_method", error="Your card was declined.")
    deliver(client, "payment_intent.payment_failed", failed)
    assert len(staff_notices("payment_failed")) == 1
    assert customer_emails("debit_failed") == []


def test_mandate_and_charge_events_are_tolerated(client):
    invoice = open_with_intent(currency="USD")
    mandate = {"id": "mandate_1", "object": "mandate", "status": "inactive", "type": "multi_use"}
    assert deliver(client, "mandate.updated", mandate) == "ignored"
    stranger = debit_charge(invoice, "pending", "us_bank_account")
    stranger["payment_intent"] = "pi_someone_elses"
    assert deliver(client, "charge.pending", stranger) == "ignored"
    assert deliver(client, "charge.failed", {**stranger, "status": "failed"}) == "ignored"
    assert (
        deliver(client, "charge.pending", debit_charge(invoice, "pending", "us_bank_account"))
        == "processed"
    )
    assert StripeEvent.objects.filter(status=StripeEvent.Status.FAILED).count() == 0


def test_expected_settlement_counts_business_days():
    friday = date(2026, 11, 27)
    assert expected_settlement("us_bank_account", friday) == date(2026, 12, 3)
    assert expected_settlement("sepa_debit", friday) == date(2026, 12, 4)
