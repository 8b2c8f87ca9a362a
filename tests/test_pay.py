from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client

from invoices.models import Invoice, InvoiceActivity, Payment
from invoices.services import record_offline_payment, revoke_pay_link, void_invoice
from tests.factories import make_draft, make_open

pytestmark = pytest.mark.django_db


def pay_url(invoice: Invoice) -> str:
    return invoice.get_pay_url()


def start(client: Client, invoice: Invoice, **data):
    return client.post(f"{pay_url(invoice)}pay/", data)


def client_secret(response) -> str:
    found = re.search(r'data-client-secret="([^"]+)"', response.content.decode())
    assert found, response.content.decode()
    return found.group(1)


def intents(sim) -> list:
    return list(sim.client().v1.payment_intents.list(params={"limit": 100}).data)


def test_it_shows_the_invoice_to_anyone_with_the_link(client):
    invoice = make_open(lines=3)
    response = client.get(pay_url(invoice))
    assert response.status_code == 200
    body = response.content.decode()
    assert invoice.number in body
    assert invoice.customer.name in body
    assert "Acme Studio" in body  # the business profile
    for line in invoice.lines.all():
        assert line.description in body
    assert f"Pay {invoice.money(invoice.amount_due)}" in body
    assert 'hx-post="' + pay_url(invoice) + 'pay/"' in body


@pytest.mark.parametrize("token", ["nope", "x" * 32, ""])
def test_a_wrong_token_is_a_plain_404(client, token):
    make_open()
    assert client.get(f"/pay/{token}/").status_code == 404


def test_a_draft_has_no_working_link(client):
    draft = make_draft()
    assert client.get(pay_url(draft)).status_code == 404
    assert start(client, draft).status_code == 404


def test_a_revoked_link_is_a_404_and_the_new_one_works(client):
    invoice = make_open()
    old = pay_url(invoice)
    revoke_pay_link(invoice=invoice)
    invoice.refresh_from_db()
    assert client.get(old).status_code == 404
    assert client.get(pay_url(invoice)).status_code == 200


def test_a_void_invoice_says_so_and_cannot_be_paid(client, stripe_env):
    invoice = void_invoice(invoice=make_open())
    response = client.get(pay_url(invoice))
    assert response.status_code == 200
    assert "This invoice was voided" in response.content.decode()
    assert "hx-post" not in response.content.decode()
    refused = start(client, invoice)
    assert "voided" in refused.content.decode()
    assert intents(stripe_env) == []


def test_the_first_customer_view_is_recorded_once(client):
    invoice = make_open()
    client.get(pay_url(invoice), HTTP_USER_AGENT="Firefox", REMOTE_ADDR="203.0.113.9")
    client.get(pay_url(invoice))
    viewed = invoice.activities.filter(kind=InvoiceActivity.Kind.VIEWED)
    assert viewed.count() == 1
    assert viewed.get().data["user_agent"] == "Firefox"
    assert viewed.get().data["ip"] == "203.0.113.9"


def test_a_staff_preview_is_not_a_view(staff_client):
    invoice = make_open()
    assert staff_client.get(pay_url(invoice) + "?preview=1").status_code == 200
    invoice.refresh_from_db()
    assert invoice.viewed_at is None
    assert not invoice.activities.filter(kind=InvoiceActivity.Kind.VIEWED).exists()


def test_the_intent_is_for_the_amount_due_and_ignores_a_tampered_amount(
    client, stripe_env, settings
):
    invoice = make_open(lines=2, unit_amount=12345)
    response = start(client, invoice, amount="1", currency="jpy")
    assert response.status_code == 200
    secret = client_secret(response)
    invoice.refresh_from_db()
    intent = stripe_env.client().v1.payment_intents.retrieve(invoice.stripe_payment_intent_id)
    assert intent.client_secret == secret
    assert intent.amount == invoice.amount_due == 24690
    assert intent.currency == "usd"
    assert intent.metadata["invoice_id"] == str(invoice.pk)
    assert intent.metadata["invoice_number"] == invoice.number
    assert intent.metadata["portal"] == settings.PORTAL_ID
    # The portal emails its own receipt; Stripe must not send a second one.
    assert intent.receipt_email is None
    assert intent.customer == invoice.customer.stripe_customer_id != ""
    # Exactly what the business offers in USD (cards only by default).
    assert intent.payment_method_types == ["card"]
    body = response.content.decode()
    assert f'data-publishable-key="{stripe_env.publishable_key}"' in body
    assert f'data-return-url="http://testserver{pay_url(invoice)}"' in body


def test_two_posts_make_one_intent(client, stripe_env):
    invoice = make_open()
    first = client_secret(start(client, invoice))
    second = client_secret(start(client, invoice))
    assert first == second
    assert len(intents(stripe_env)) == 1
    assert invoice.payments.count() == 1


def test_the_open_intent_follows_the_amount_due(client, stripe_env):
    invoice = make_open(lines=2, unit_amount=10000)
    start(client, invoice)
    record_offline_payment(
        invoice=invoice, amount=5000, method="bank_transfer", received_on=date.today()
    )
    start(client, invoice)
    invoice.refresh_from_db()
    intent = stripe_env.client().v1.payment_intents.retrieve(invoice.stripe_payment_intent_id)
    assert intent.amount == invoice.amount_due == 15000
    assert len(intents(stripe_env)) == 1
    assert invoice.payments.get(method=Payment.Method.ONLINE).amount == 15000


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Invoice.Status.PAID, "already paid"),
        (Invoice.Status.UNCOLLECTIBLE, "can no longer be paid online"),
    ],
)
def test_it_refuses_states_that_cannot_be_paid(client, stripe_env, status, message):
    invoice = make_open()
    Invoice.objects.filter(pk=invoice.pk).update(status=status)
    response = start(client, invoice)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "data-client-secret" not in response.content.decode()
    assert intents(stripe_env) == []


def test_stripe_down_shows_a_friendly_message_and_a_retry(client, settings, caplog):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    invoice = make_open()
    response = start(client, invoice)
    assert response.status_code == 200
    body = response.content.decode()
    assert "could not start the card payment" in body
    assert "Try again" in body
    assert "could not create a PaymentIntent" in caplog.text
    invoice.refresh_from_db()
    assert invoice.stripe_payment_intent_id == ""


def test_a_wrong_api_key_is_a_friendly_message_too(client, stripe_env, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"
    response = start(client, make_open())
    assert "could not start the card payment" in response.content.decode()


def test_a_post_without_csrf_is_refused():
    invoice = make_open()
    response = Client(enforce_csrf_checks=True).post(f"{pay_url(invoice)}pay/")
    assert response.status_code == 403


def test_the_pay_page_query_count_is_constant_in_lines(client, django_assert_max_num_queries):
    counts = []
    for lines in (1, 50):
        invoice = make_open(lines=lines)
        client.get(pay_url(invoice))  # the first view writes its activity
        with django_assert_max_num_queries(10) as captured:
            assert client.get(pay_url(invoice)).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_the_return_page_reads_the_intent_from_stripe(client, stripe_env):
    invoice = make_open()
    start(client, invoice)
    invoice.refresh_from_db()
    stripe_env.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://testserver/"},
    )
    response = client.get(
        pay_url(invoice),
        {"payment_intent": invoice.stripe_payment_intent_id, "redirect_status": "failed"},
    )
    # Stripe's word is shown as "being recorded" (never "Paid" beside an amount due)
    # until the webhook books it, with no Pay button meanwhile.
    page = response.content.decode()
    assert "Payment being recorded" in page
    assert 'hx-post="/pay/' not in page
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN  # only the webhook marks it paid


def test_the_return_page_refuses_another_invoices_intent(client, stripe_env):
    invoice, other = make_open(), make_open()
    start(client, other)
    other.refresh_from_db()
    response = client.get(pay_url(invoice), {"payment_intent": other.stripe_payment_intent_id})
    assert "does not belong to this invoice" in response.content.decode()


def test_the_return_page_shows_a_decline_and_allows_another_try(client, stripe_env):
    import stripe

    invoice = make_open()
    start(client, invoice)
    invoice.refresh_from_db()
    with pytest.raises(stripe.CardError):
        stripe_env.client().v1.payment_intents.confirm(
            invoice.stripe_payment_intent_id,
            params={
                "payment_method": "pm_card_chargeDeclined",
                "return_url": "http://testserver/",
            },
        )
    response = client.get(pay_url(invoice), {"payment_intent": invoice.stripe_payment_intent_id})
    body = response.content.decode()
    assert "Your card was declined." in body
    assert "try again" in body
    assert "hx-post" in body
