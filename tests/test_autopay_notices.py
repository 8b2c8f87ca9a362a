"""A failed autopay tells staff once: one notice saying the automatic payment failed, why,
and that the customer was emailed the pay link, whichever comes first of the simulator's
decline answer and its `payment_intent.payment_failed` webhook."""

from __future__ import annotations

import pytest

from invoices import stripe_api
from invoices.models import AutopayCharge, EmailLog, Invoice, InvoiceFlag
from invoices.payments.intents import start_payment
from invoices.services import finalize_invoice
from tests.factories import make_draft, make_open
from tests.test_autopay import pay_and_save

pytestmark = pytest.mark.django_db(transaction=True)


def declining_customer(sim) -> Invoice:
    """A customer whose saved card attaches but declines every charge, autopay on."""
    first = make_open()
    start_payment(invoice=first)
    first.customer.refresh_from_db()
    sim.client().v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": first.customer.stripe_customer_id}
    )
    sim.wait_for_delivery(type="payment_method.attached", status="200")
    return first


def notices(invoice: Invoice) -> list[EmailLog]:
    return list(EmailLog.objects.filter(kind="notice", invoice=invoice).order_by("pk"))


def autopay_next_invoice(first: Invoice) -> tuple[Invoice, AutopayCharge]:
    draft = make_draft(customer=first.customer, unit_amount=7500, currency=first.currency)
    second = finalize_invoice(invoice=draft)
    return second, AutopayCharge.objects.get(invoice=second)


def assert_one_autopay_notice(invoice: Invoice) -> None:
    [notice] = notices(invoice)
    assert notice.params["notice_kind"] == "autopay_failed"
    message = notice.params["message"]
    assert "Automatic payment with Visa •••• 0341 failed (card_declined)" in message
    assert "Your card was declined." in message  # why, in Stripe's words
    assert "The customer was emailed the pay link." in message
    assert invoice.flags.filter(kind=InvoiceFlag.Kind.AUTOPAY_FAILED).count() == 1


def test_it_sends_one_notice_when_the_webhook_comes_after_the_decline(wired, mailoutbox):
    first = declining_customer(wired)
    wired.configure(hold=True)  # the decline's webhooks wait until autopay has recorded it
    second, charge = autopay_next_invoice(first)
    assert charge.status == AutopayCharge.Status.FAILED
    assert charge.stripe_charge_id.startswith("ch_")
    assert wired.release() >= 1
    wired.wait_for_delivery(type="payment_intent.payment_failed", status="200")
    second.refresh_from_db()
    assert second.payment_state == Invoice.PaymentState.FAILED
    assert_one_autopay_notice(second)
    to_staff = [m.subject for m in mailoutbox if m.to != [second.customer.email]]
    assert [s for s in to_staff if second.number in s] == [
        f"Automatic payment failed: invoice {second.number} ({second.customer.name})"
    ]


def test_it_sends_one_notice_when_the_webhook_comes_while_autopay_is_charging(wired, monkeypatch):
    first = declining_customer(wired)
    wired.configure(hold=True)
    confirm = stripe_api.confirm_off_session

    def decline_then_webhook(*args, **kwargs):
        """Stripe's decline answer is late: its webhook is applied first."""
        try:
            return confirm(*args, **kwargs)
        finally:
            wired.release()
            wired.wait_for_delivery(type="payment_intent.payment_failed", status="200")
            assert AutopayCharge.objects.get().status == AutopayCharge.Status.CHARGING

    monkeypatch.setattr(stripe_api, "confirm_off_session", decline_then_webhook)
    second, charge = autopay_next_invoice(first)
    assert charge.status == AutopayCharge.Status.FAILED
    assert_one_autopay_notice(second)


def test_the_customers_own_failed_attempt_afterwards_still_tells_staff(wired):
    first = declining_customer(wired)
    second, charge = autopay_next_invoice(first)
    wired.wait_for_delivery(type="payment_intent.payment_failed", status="200")
    assert_one_autopay_notice(second)
    # The customer follows the emailed link and pays the same intent with another card.
    with pytest.raises(stripe_api.CardError):
        wired.client().v1.payment_intents.confirm(
            charge.stripe_payment_intent_id,
            params={"payment_method": "pm_card_chargeDeclined", "return_url": "http://x/"},
        )
    wired.wait_for_deliveries(2, ok=True, type="payment_intent.payment_failed")
    kinds = [n.params["notice_kind"] for n in notices(second)]
    assert kinds == ["autopay_failed", "payment_failed"]


def test_a_card_that_needs_the_customer_also_sends_one_notice(wired):
    first = make_open()
    pay_and_save(wired, first, "pm_card_authenticationRequired")
    wired.configure(hold=True)
    second, charge = autopay_next_invoice(first)
    assert charge.failure_code == "authentication_required"
    wired.release()
    wired.wait_for_delivery(type="payment_intent.payment_failed", status="200")
    [notice] = notices(second)
    assert notice.params["notice_kind"] == "autopay_failed"
    assert "failed (authentication_required)" in notice.params["message"]
