"""Autopay through the simulator: a finalized invoice is charged off-session to the card the
customer saved while paying, and Stripe's signed webhooks (over real HTTP) book it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from invoices.activity import InvoiceStateError
from invoices.models import (
    AutopayCharge,
    BusinessProfile,
    Invoice,
    InvoiceFlag,
    SavedMethodActivity,
    SavedPaymentMethod,
    StripeEvent,
)
from invoices.payments import autopay
from invoices.payments.intents import check_before_confirm, start_payment
from invoices.services import finalize_invoice, send_invoice
from tests.factories import make_draft, make_open
from tests.servers import free_port
from tests.sim.test_sim_bank_debits import ACCEPTANCE, sepa_data
from tests.sim.test_sim_flows import answer_challenge

pytestmark = pytest.mark.django_db(transaction=True)

RETURN_URL = "http://127.0.0.1/return"


def pay_and_save(sim, invoice: Invoice, payment_method: str) -> SavedPaymentMethod:
    """The customer ticks "Save this card" and pays the invoice on-session (with 3-D Secure
    when the card asks for it); Stripe's webhooks record the saved card and the payment."""
    session = start_payment(invoice=invoice)
    check_before_confirm(
        invoice=invoice,
        payment_intent_id=session.payment_intent_id,
        shown_amount=invoice.amount_due,
        save_method=True,
    )
    stripe = sim.client()
    intent = stripe.v1.payment_intents.confirm(
        session.payment_intent_id,
        params={"payment_method": payment_method, "return_url": RETURN_URL},
    )
    if intent.status == "requires_action":
        answer_challenge(sim, intent, "complete")
    sim.wait_for_delivery(type="payment_method.attached", status="200")
    sim.wait_for_delivery(type="payment_intent.succeeded", status="200")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    return SavedPaymentMethod.objects.get(customer=invoice.customer)


def next_invoice(first: Invoice) -> Invoice:
    """The customer's next invoice, finalized (as a recurring run or staff would)."""
    draft = make_draft(customer=first.customer, unit_amount=7500, currency=first.currency)
    return finalize_invoice(invoice=draft)


def stripe_charges(sim, invoice: Invoice) -> list:
    invoice.customer.refresh_from_db()
    listed = sim.client().v1.charges.list(params={"limit": 100})
    return [c for c in listed.data if c.customer == invoice.customer.stripe_customer_id]


def test_it_charges_the_saved_card_when_the_next_invoice_is_finalized(wired, mailoutbox):
    first = make_open()
    saved = pay_and_save(wired, first, "pm_card_visa")
    assert (saved.label, saved.autopay) == ("Visa •••• 4242", True)
    assert saved.exp_month
    assert saved.exp_year
    second = next_invoice(first)
    charge = AutopayCharge.objects.get(invoice=second)
    assert charge.status == AutopayCharge.Status.SUBMITTED
    _wait_paid(wired, second)
    assert second.payments.get().status == "succeeded"
    assert len(stripe_charges(wired, second)) == 2
    intent = wired.client().v1.payment_intents.retrieve(charge.stripe_payment_intent_id)
    assert intent.payment_method == saved.stripe_payment_method_id
    # Its receipt, sent once the webhook's transaction commits.
    wired.wait_for(lambda: any(second.number in m.subject for m in mailoutbox), what="receipt")


def _wait_paid(sim, invoice: Invoice) -> None:
    def paid():
        invoice.refresh_from_db()
        return invoice.status == Invoice.Status.PAID or None

    sim.wait_for(paid, timeout=10)


def test_an_authentication_required_card_emails_the_link_and_is_paid_on_session(wired, mailoutbox):
    first = make_open()
    saved = pay_and_save(wired, first, "pm_card_authenticationRequired")
    mailoutbox.clear()
    second = next_invoice(first)
    charge = AutopayCharge.objects.get(invoice=second)
    assert (charge.status, charge.failure_code) == ("failed", "authentication_required")
    second.refresh_from_db()
    assert second.status == Invoice.Status.OPEN
    flag = second.flags.get(kind=InvoiceFlag.Kind.AUTOPAY_FAILED)
    assert "authentication_required" in flag.message
    assert saved.label in flag.message
    [email] = [m for m in mailoutbox if m.to == [second.customer.email]]
    assert "could not be paid automatically" in email.subject
    assert "Your bank asked you to confirm this payment yourself" in email.body
    pay_url = re.search(r"http://testserver(/pay/[^/\s]+/)", email.body).group(1)
    # The customer follows the emailed link and pays the same intent on-session, with 3-D Secure.
    client = Client()
    assert client.get(pay_url).status_code == 200
    started = client.post(urlsplit(pay_url).path + "pay/")
    assert charge.stripe_payment_intent_id in started.content.decode()
    stripe = wired.client()
    intent = stripe.v1.payment_intents.confirm(
        charge.stripe_payment_intent_id,
        params={"payment_method": saved.stripe_payment_method_id, "return_url": RETURN_URL},
    )
    assert intent.status == "requires_action"
    answer_challenge(wired, intent, "complete")
    _wait_paid(wired, second)
    assert second.amount_due == 0


def test_a_declined_autopay_flags_the_invoice_and_emails_the_link(wired, mailoutbox):
    first = make_open()
    start_payment(invoice=first)
    first.customer.refresh_from_db()
    # Attached by hand (a card that attaches but declines every charge).
    wired.client().v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": first.customer.stripe_customer_id}
    )
    wired.wait_for_delivery(type="payment_method.attached", status="200")
    assert SavedPaymentMethod.objects.get(customer=first.customer).last4 == "0341"
    second = next_invoice(first)
    charge = AutopayCharge.objects.get(invoice=second)
    assert (charge.status, charge.failure_code) == ("failed", "card_declined")
    second.refresh_from_db()
    assert second.status == Invoice.Status.OPEN
    assert second.flags.filter(kind=InvoiceFlag.Kind.AUTOPAY_FAILED).exists()
    bodies = [m.body for m in mailoutbox if m.to == [second.customer.email]]
    assert any("declined the automatic payment" in body for body in bodies)
    # The one staff notice: autopay failed, why, and that the customer has the link.
    assert [m.subject for m in mailoutbox if m.subject.startswith("Automatic payment failed")] == [
        f"Automatic payment failed: invoice {second.number} ({second.customer.name})"
    ]
    assert not any("Needs review" in m.subject for m in mailoutbox)
    wired.wait_for_delivery(type="payment_intent.payment_failed", status="200")
    second.refresh_from_db()
    assert second.payment_state == Invoice.PaymentState.FAILED


def test_removing_the_saved_card_from_the_email_link_stops_autopay(wired, mailoutbox):
    first = make_open()
    saved = pay_and_save(wired, first, "pm_card_visa")
    receipt = next(m for m in mailoutbox if first.number in m.subject)
    link = re.search(r"http://testserver(/pay/saved-methods/\S+/remove/)", receipt.body).group(1)
    client = Client()
    page = client.get(link)
    assert "Visa •••• 4242" in page.content.decode()
    client.post(link, {"method": str(saved.pk)})
    assert not SavedPaymentMethod.objects.exists()
    detached = wired.client().v1.payment_methods.retrieve(saved.stripe_payment_method_id)
    assert detached.customer is None
    wired.wait_for_delivery(type="payment_method.detached", status="200")
    assert StripeEvent.objects.filter(type="payment_method.detached").exists()
    assert SavedMethodActivity.objects.filter(kind="removed", source="customer").count() == 1
    second = next_invoice(first)
    assert not AutopayCharge.objects.filter(invoice=second).exists()
    second.refresh_from_db()
    assert second.status == Invoice.Status.OPEN
    assert len(stripe_charges(wired, second)) == 1  # only the first invoice's


def test_a_method_removed_after_queueing_is_not_charged(wired):
    first = make_open()
    saved = pay_and_save(wired, first, "pm_card_visa")
    draft = make_draft(customer=first.customer)
    saved.autopay = False
    saved.save()
    finalize_invoice(invoice=draft)
    assert not AutopayCharge.objects.filter(invoice=draft).exists()
    # Queued while on, switched off before the task ran: skipped, recorded, not charged.
    saved.autopay = True
    saved.save()
    charge = AutopayCharge.objects.create(
        invoice=draft, saved_method=saved, stripe_payment_method_id=saved.stripe_payment_method_id
    )
    saved.autopay = False
    saved.save()
    assert autopay.attempt(charge.pk) == "skipped"
    charge.refresh_from_db()
    assert charge.status == AutopayCharge.Status.SKIPPED
    assert len(stripe_charges(wired, draft)) == 1


def test_finalizing_twice_or_running_the_task_twice_charges_once(wired):
    first = make_open()
    pay_and_save(wired, first, "pm_card_visa")
    draft = make_draft(customer=first.customer)
    wired.configure(hold=True)  # Stripe has the money; our books wait for its webhook
    second = finalize_invoice(invoice=draft)
    with pytest.raises(InvoiceStateError):
        finalize_invoice(invoice=draft)
    assert autopay.queue_autopay(second) == AutopayCharge.objects.get(invoice=second)
    charge = AutopayCharge.objects.get(invoice=second)
    assert autopay.attempt(charge.pk) == "skipped"  # already submitted
    # A worker that died before recording Stripe's answer: the row is taken up again
    # while the invoice still looks open here, and the intent is found paid.
    AutopayCharge.objects.filter(pk=charge.pk).update(status=AutopayCharge.Status.PENDING)
    second.refresh_from_db()
    assert second.status == Invoice.Status.OPEN
    assert autopay.attempt(charge.pk) == "submitted"
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (AutopayCharge.Status.SUBMITTED, 2)
    wired.release()
    _wait_paid(wired, second)
    assert AutopayCharge.objects.count() == 1
    assert len(stripe_charges(wired, second)) == 2


def test_a_stripe_outage_keeps_the_charge_for_a_later_try(wired, settings):
    first = make_open()
    pay_and_save(wired, first, "pm_card_visa")
    api_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    second = next_invoice(first)
    charge = AutopayCharge.objects.get(invoice=second)
    assert charge.status == AutopayCharge.Status.PENDING
    assert charge.attempts == 1
    assert charge.next_attempt_at > second.finalized_at
    settings.STRIPE_API_BASE = api_base
    call_command("run_autopay")  # not due yet: nothing happens
    charge.refresh_from_db()
    assert charge.attempts == 1
    AutopayCharge.objects.filter(pk=charge.pk).update(next_attempt_at=second.finalized_at)
    call_command("run_autopay")
    charge.refresh_from_db()
    assert charge.status == AutopayCharge.Status.SUBMITTED
    _wait_paid(wired, second)


def test_the_staff_page_shows_the_failed_autopay(wired, staff_client):
    first = make_open()
    pay_and_save(wired, first, "pm_card_authenticationRequired")
    second = next_invoice(first)
    body = staff_client.get(reverse("invoices:detail", args=[second.pk])).content.decode()
    assert "Automatic payment with Visa •••• 3184 failed (authentication_required)" in body


def test_a_saved_sepa_account_is_debited_off_session_under_its_mandate(wired):
    BusinessProfile.objects.update_or_create(pk=1, defaults={"accept_sepa_debit": True})
    first = make_open(currency="EUR")
    session = start_payment(invoice=first)
    check_before_confirm(
        invoice=first,
        payment_intent_id=session.payment_intent_id,
        shown_amount=first.amount_due,
        save_method=True,
    )
    wired.client().v1.payment_intents.confirm(
        session.payment_intent_id,
        params={
            "payment_method_data": sepa_data("DE89370400440532013000"),
            "mandate_data": ACCEPTANCE,
        },
    )
    wired.wait_for_delivery(type="payment_method.attached", status="200")
    saved = SavedPaymentMethod.objects.get(customer=first.customer)
    assert (saved.method_type, saved.label) == ("sepa_debit", "SEPA DE •••• 3000")
    _wait_paid(wired, first)
    second = next_invoice(first)
    charge = AutopayCharge.objects.get(invoice=second)
    assert charge.status == AutopayCharge.Status.SUBMITTED
    intent = wired.client().v1.payment_intents.retrieve(charge.stripe_payment_intent_id)
    assert intent.status in ("processing", "succeeded")  # debited under the saved mandate
    _wait_paid(wired, second)


def test_the_invoice_email_says_it_will_be_paid_automatically(wired, mailoutbox):
    first = make_open()
    pay_and_save(wired, first, "pm_card_visa")
    wired.configure(hold=True)  # the invoice is still open when its email is written
    draft = make_draft(customer=first.customer)
    second = finalize_invoice(invoice=draft)
    send_invoice(invoice=second)
    [email] = [m for m in mailoutbox if m.subject.startswith(f"Invoice {second.number}")]
    sentence = "It will be paid automatically with your saved Visa •••• 4242"
    assert sentence in email.body
    assert sentence in email.alternatives[0][0]
    # Without autopay the same email asks to pay, with no such sentence.
    third = finalize_invoice(invoice=make_draft())
    send_invoice(invoice=third)
    [plain] = [m for m in mailoutbox if m.subject.startswith(f"Invoice {third.number}")]
    assert "paid automatically" not in plain.body
    wired.release()
