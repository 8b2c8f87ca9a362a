"""The payments ledger: every payment and refund, filtered, totalled and exported."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from invoices.models import Payment, Refund
from invoices.payments.handlers import apply_intent_succeeded
from invoices.payments.intents import start_payment
from invoices.payments.refunds import apply_refund, request_refund
from portal.money import to_major
from tests.factories import CustomerFactory, make_open

pytestmark = pytest.mark.django_db

# Paths: reverse() at import time would load the URLconf before the test settings.
URL = "/payments/"
CSV_URL = "/payments/export.csv"


def pay(invoice, amount, *, method="card", status="succeeded", on=date(2026, 3, 10), **kw):
    return Payment.objects.create(
        invoice=invoice,
        method=method,
        status=status,
        amount=amount,
        currency=invoice.currency,
        received_on=on if status == "succeeded" else None,
        **kw,
    )


@pytest.fixture
def book():
    alice = CustomerFactory(name="Alice Ltd", email="alice@example.com")
    bob = CustomerFactory(name='=HYPERLINK("http://evil")', email="bob@example.com")
    first = make_open(customer=alice)
    second = make_open(customer=bob)
    euro = make_open(customer=alice, currency="EUR")
    card = pay(
        first,
        20000,
        card_brand="visa",
        card_last4="4242",
        stripe_payment_intent_id="pi_ledger_1",
        stripe_fee=610,
        stripe_net=19390,
        balance_currency="USD",
    )
    bank = pay(second, 5000, method="bank_transfer", reference="-SEPA 42", on=date(2026, 4, 2))
    failed = pay(first, 20000, status="failed", stripe_payment_intent_id="pi_ledger_2")
    eur = pay(euro, 7000, method="cash", on=date(2026, 3, 20))
    refund = Refund.objects.create(
        payment=card,
        stripe_refund_id="re_ledger_1",
        amount=2500,
        currency="USD",
        status="succeeded",
    )
    return {
        "alice": alice,
        "bob": bob,
        "card": card,
        "bank": bank,
        "failed": failed,
        "eur": eur,
        "refund": refund,
    }


def csv_rows(client, **query) -> list[dict[str, str]]:
    response = client.get(CSV_URL, query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_it_lists_every_payment_and_refund(staff_client, book):
    response = staff_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-kind="payment"') == 4
    assert body.count('data-kind="refund"') == 1
    assert "Visa ···· 4242" in body
    assert "$6.10" in body
    assert "$193.90" in body
    assert "-$25.00" in body  # a refund is money going out


def test_it_totals_each_currency_for_the_filters(staff_client, book):
    totals = {t.currency: t for t in staff_client.get(URL).context["totals"]}
    usd, eur = totals["USD"], totals["EUR"]
    assert (usd.received, usd.refunded, usd.fees, usd.net) == (25000, 2500, 610, 21890)
    assert (eur.received, eur.refunded, eur.fees, eur.net) == (7000, 0, 0, 7000)


def test_it_filters_by_date_range(staff_client, book):
    response = staff_client.get(URL, {"start": "2026-04-01", "end": "2026-04-30"})
    entries = response.context["rows"]
    assert [(e["entry_kind"], e["entry_id"]) for e in entries] == [("payment", book["bank"].pk)]
    assert [t.currency for t in response.context["totals"]] == ["USD"]
    assert response.context["totals"][0].received == 5000


def test_it_filters_by_method_status_type_and_customer(staff_client, book):
    def ids(**query):
        return {
            (e["entry_kind"], e["entry_id"]) for e in staff_client.get(URL, query).context["rows"]
        }

    card, refund = ("payment", book["card"].pk), ("refund", book["refund"].pk)
    failed = ("payment", book["failed"].pk)
    assert ids(method="card") == {card, refund, failed}
    assert ids(method="card", status="succeeded") == {card, refund}
    assert ids(status="failed") == {failed}
    assert ids(kind="refund") == {refund}
    assert ids(customer=str(book["bob"].pk)) == {("payment", book["bank"].pk)}
    assert ids(q="alice@") == {card, refund, failed, ("payment", book["eur"].pk)}


def test_it_exports_the_filtered_list_with_safe_cells(staff_client, book):
    exported = csv_rows(staff_client, method="bank_transfer")
    assert list(exported[0]) == [
        "date",
        "type",
        "invoice",
        "customer",
        "method",
        "status",
        "currency",
        "amount",
        "fee",
        "net",
        "fee_currency",
        "reference",
        "recorded_at",
    ]
    (row,) = exported
    assert row["date"] == "2026-04-02"
    assert row["customer"] == '\'=HYPERLINK("http://evil")'  # never a formula
    assert row["reference"] == "'-SEPA 42"
    assert (row["method"], row["status"], row["amount"], row["fee"]) == (
        "Bank transfer",
        "Succeeded",
        "50.00",
        "",
    )


def test_the_export_carries_fees_and_refunds(staff_client, book):
    exported = {(r["type"], r["amount"]): r for r in csv_rows(staff_client, method="card")}
    assert exported[("payment", "200.00")]["fee"] == "6.10"
    assert exported[("payment", "200.00")]["net"] == "193.90"
    assert exported[("refund", "-25.00")]["reference"] == "re_ledger_1"


def test_it_escapes_customer_names(staff_client):
    invoice = make_open(customer=CustomerFactory(name="<script>alert(1)</script>"))
    pay(invoice, 100)
    body = staff_client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_it_refuses_a_malformed_date(staff_client, book):
    assert staff_client.get(URL, {"start": "2026-02-30"}).status_code == 400
    assert staff_client.get(CSV_URL, {"end": "yesterday"}).status_code == 400


def test_it_pages_without_overlap(staff_client, settings):
    invoice = make_open()
    for day in range(1, 28):
        for _ in range(2):
            pay(invoice, 100, on=date(2026, 2, day))
    first = staff_client.get(URL).context
    second = staff_client.get(URL, {"page": "2"}).context
    assert first["has_next"]
    assert not second["has_next"]
    seen = [e["entry_id"] for e in first["rows"]] + [e["entry_id"] for e in second["rows"]]
    assert len(seen) == len(set(seen)) == 54
    assert staff_client.get(URL, {"page": "9" * 30}).status_code == 200


def test_its_query_count_is_constant_in_rows(staff_client, book):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(URL, {"customer": str(book["alice"].pk)}).status_code == 200
        return len(queries)

    few = count()
    invoice = make_open(customer=book["alice"])
    for _ in range(30):
        payment = pay(invoice, 100, stripe_payment_intent_id="")
        Refund.objects.create(
            payment=payment, stripe_refund_id=f"re_{payment.pk}", amount=10, currency="USD"
        )
    assert count() == few


def test_it_refuses_strangers(stranger_client, client, book):
    for url in (URL, CSV_URL):
        assert stranger_client.get(url).status_code == 403
        assert client.get(url).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_the_webhook_books_stripes_fee_and_net(wired, staff_client):
    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    wired.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://127.0.0.1/return"},
    )
    wired.wait_for_delivery(type="charge.succeeded", status="200")
    payment = invoice.payments.get()
    # The simulator charges Stripe's US card price: 2.9% + 30 cents.
    fee = round(invoice.total * 0.029) + 30
    assert (payment.stripe_fee, payment.stripe_net) == (fee, invoice.total - fee)
    assert payment.balance_currency == "USD"
    (row,) = csv_rows(staff_client, method="card")
    assert row["fee"] == str(to_major(fee, "USD"))


def test_a_refunds_fee_and_net_count_in_its_row_and_the_totals(staff_client, book):
    book["refund"].stripe_fee, book["refund"].stripe_net = 0, -2500
    book["refund"].balance_currency = "USD"
    book["refund"].save()
    Refund.objects.create(
        payment=book["card"],
        stripe_refund_id="re_ledger_fee",
        amount=1000,
        currency="USD",
        status="succeeded",
        stripe_fee=100,  # a refund Stripe charges for
        stripe_net=-1100,
        balance_currency="USD",
    )
    usd = {t.currency: t for t in staff_client.get(URL).context["totals"]}["USD"]
    assert (usd.received, usd.refunded, usd.fees) == (25000, 3500, 710)
    # What stayed: the card payment's net and the refunds' (negative) nets, plus the bank one.
    assert usd.net == 19390 - 2500 - 1100 + 5000
    exported = {r["reference"]: r for r in csv_rows(staff_client, kind="refund")}
    assert (exported["re_ledger_1"]["fee"], exported["re_ledger_1"]["net"]) == ("0.00", "-25.00")
    assert (exported["re_ledger_fee"]["fee"], exported["re_ledger_fee"]["net"]) == (
        "1.00",
        "-11.00",
    )


def test_a_refund_keeps_the_fee_and_net_stripe_reports(stripe_env, staff):
    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    intent = stripe_env.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://x/"},
    )
    with transaction.atomic():
        apply_intent_succeeded(intent.to_dict(), "")
    refund = request_refund(payment=invoice.payments.get(), amount=4000, actor=staff)
    txn = stripe_env.client().v1.balance_transactions.retrieve(
        stripe_env.client().v1.refunds.retrieve(refund.stripe_refund_id).balance_transaction
    )
    assert (txn.type, txn.amount) == ("refund", -4000)
    assert (refund.stripe_fee, refund.stripe_net, refund.balance_currency) == (
        txn.fee,
        txn.net,
        "USD",
    )


def test_a_refund_made_in_stripe_reads_its_balance_transaction(stripe_env):
    invoice = make_open()
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    intent = stripe_env.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": "http://x/"},
    )
    with transaction.atomic():
        apply_intent_succeeded(intent.to_dict(), "")
    made = stripe_env.client().v1.refunds.create(  # in the Dashboard, say: not by the portal
        params={"payment_intent": intent.id, "amount": 1500}
    )
    assert isinstance(made.to_dict()["balance_transaction"], str)
    with transaction.atomic():
        apply_refund(made.to_dict(), "evt_dashboard")
    refund = Refund.objects.get()
    assert (refund.stripe_fee, refund.stripe_net, refund.balance_currency) == (0, -1500, "USD")
