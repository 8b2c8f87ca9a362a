"""The account page's quotes and saved payment methods: listed with their links, in the
customer's language, hostile text shown as text, one query each whatever the count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from invoices.models import Quote, SavedPaymentMethod
from invoices.quote_answers import decline_quote
from invoices.saved_methods import removal_token
from tests.factories import CustomerFactory, make_open
from tests.quote_helpers import make_quote

pytestmark = pytest.mark.django_db


def page(client: Client, customer: Customer) -> str:
    response = client.get(reverse("account:page", args=[customer.account_token]))
    assert response.status_code == 200
    return response.content.decode()


def saved(customer: Customer, n: int = 1, **fields: object) -> SavedPaymentMethod:
    values = {
        "stripe_payment_method_id": f"pm_account_{customer.pk}_{n}",
        "stripe_customer_id": "cus_account",
        "method_type": "card",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 3,
        "exp_year": 2031,
        **fields,
    }
    return SavedPaymentMethod.objects.create(customer=customer, **values)


def row(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</li>", start)]


def test_it_lists_the_quotes_sent_with_their_state_page_and_pdf(client):
    customer = CustomerFactory()
    sent = make_quote(customer, expires_on=timezone.localdate() + timedelta(days=10))
    declined = decline_quote(quote=make_quote(customer), note="Too dear", ip="127.0.0.1")
    expired = make_quote(customer)
    Quote.objects.filter(pk=expired.pk).update(
        issue_date=timezone.localdate() - timedelta(days=5),
        expires_on=timezone.localdate() - timedelta(days=1),
    )
    draft = make_quote(customer, send=False)
    someone_elses = make_quote()
    html = page(client, customer)

    open_row = row(html, f"account-quote-{sent.pk}")
    assert sent.get_customer_url() in open_row
    assert reverse("quote_pay:pdf", args=[sent.token]) in open_row
    assert "Awaiting answer" in open_row
    assert "valid until" in open_row
    assert "$210.00" in open_row
    assert "Declined" in row(html, f"account-quote-{declined.pk}")
    assert "Expired" in row(html, f"account-quote-{expired.pk}")
    assert f"account-quote-{draft.pk}" not in html
    assert someone_elses.get_customer_url() not in html


def test_an_accepted_quote_shows_as_accepted_and_the_links_open(client):
    customer = CustomerFactory()
    quote = make_quote(customer)
    Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.ACCEPTED)
    html = page(client, customer)
    assert "Accepted" in row(html, f"account-quote-{quote.pk}")
    assert client.get(quote.get_customer_url()).status_code == 200
    pdf = client.get(reverse("quote_pay:pdf", args=[quote.token]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"


def test_without_quotes_or_saved_methods_it_shows_neither_section(client):
    customer = CustomerFactory()
    make_open(customer=customer)
    html = page(client, customer)
    assert 'id="account-quotes"' not in html
    assert 'id="account-saved-methods"' not in html


def test_it_lists_saved_methods_with_expiry_autopay_and_the_removal_link(client):
    customer = CustomerFactory()
    card = saved(customer)
    bank = saved(
        customer,
        2,
        method_type="us_bank_account",
        brand="",
        bank_name="STRIPE TEST BANK",
        last4="6789",
        exp_month=None,
        exp_year=None,
        autopay=False,
    )
    saved(CustomerFactory(), 3, last4="9999")
    html = page(client, customer)

    card_row = row(html, f"account-method-{card.pk}")
    assert "Visa •••• 4242" in card_row
    assert "expires 03/2031" in card_row
    assert 'data-autopay="on"' in card_row
    assert "Autopay on" in card_row
    bank_row = row(html, f"account-method-{bank.pk}")
    assert "STRIPE TEST BANK •••• 6789" in bank_row
    assert "expires" not in bank_row
    assert 'data-autopay="off"' in bank_row
    assert "Autopay off" in bank_row
    assert "9999" not in html
    removal = reverse("pay:saved_methods", args=[removal_token(customer)])
    assert f'href="{removal}"' in html
    assert client.get(removal).status_code == 200


def test_it_prints_hostile_text_as_text(client):
    customer = CustomerFactory()
    saved(customer, bank_name="<script>x</script>", method_type="sepa_debit", brand="")
    html = page(client, customer)
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt; •••• 4242" in html


def test_it_speaks_the_customers_language(client):
    customer = CustomerFactory(language="de")
    make_quote(customer)
    saved(customer, autopay=False)
    html = page(client, customer)
    assert "Angebote" in html
    assert "Gespeicherte Zahlungsmethoden" in html
    assert "Automatische Zahlung aus" in html
    french = CustomerFactory(language="fr")
    make_quote(french)
    saved(french, 2)
    html = page(client, french)
    assert "Devis" in html
    assert "Moyens de paiement enregistrés" in html


def test_its_queries_stay_constant_as_quotes_and_methods_grow(
    client, django_assert_max_num_queries
):
    customer = CustomerFactory()
    make_quote(customer)
    saved(customer)
    with django_assert_max_num_queries(25) as few:
        page(client, customer)
    for n in range(2, 8):
        make_quote(customer)
        saved(customer, n, autopay=n % 2 == 0)
    make_open(customer=customer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = page(client, customer)
    assert html.count('id="account-quote-') == 7
    assert html.count('id="account-method-') == 7
