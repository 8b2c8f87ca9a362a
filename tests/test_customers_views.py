from __future__ import annotations

from django.urls import reverse

from customers.models import Customer
from tests.factories import CustomerFactory, make_open


def test_it_creates_a_customer(staff_client, db):
    response = staff_client.post(
        reverse("customers:create"),
        {"name": "Grace Hopper", "email": "grace@example.com", "country": "us"},
    )
    customer = Customer.objects.get(email="grace@example.com")
    assert response["Location"] == customer.get_absolute_url()
    assert customer.country == "US"


def test_it_shows_field_errors_and_saves_nothing(staff_client, db):
    response = staff_client.post(
        reverse("customers:create"), {"name": " ", "email": "not-an-email", "country": "U1"}
    )
    assert response.status_code == 200
    assert "Enter a valid email address" in response.text
    assert "two-letter ISO code" in response.text
    assert not Customer.objects.exists()


def test_it_edits_a_customer(staff_client, customer):
    data = {"name": "New name", "email": customer.email, "city": "Paris", "country": "FR"}
    staff_client.post(reverse("customers:edit", args=[customer.pk]), data)
    customer.refresh_from_db()
    assert (customer.name, customer.city) == ("New name", "Paris")


def test_it_searches_as_you_type(staff_client, db):
    CustomerFactory(name="Alice Apple")
    CustomerFactory(name="Bob Banana")
    response = staff_client.get(reverse("customers:list"), {"q": "apple"}, HTTP_HX_REQUEST="true")
    assert "Alice Apple" in response.text
    assert "Bob Banana" not in response.text
    assert "<html" not in response.text  # the rows only


def test_it_archives_and_restores(staff_client, customer):
    staff_client.post(reverse("customers:archive", args=[customer.pk]))
    customer.refresh_from_db()
    assert customer.is_archived
    link = f'href="{customer.get_absolute_url()}"'
    assert link not in staff_client.get(reverse("customers:list")).text
    archived = staff_client.get(reverse("customers:list"), {"archived": "1"})
    assert link in archived.text
    staff_client.post(reverse("customers:restore", args=[customer.pk]))
    customer.refresh_from_db()
    assert not customer.is_archived


def test_it_answers_htmx_archive_with_a_client_redirect(staff_client, customer):
    response = staff_client.post(
        reverse("customers:archive", args=[customer.pk]), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == customer.get_absolute_url()


def test_it_refuses_to_delete_a_customer_with_invoices(staff_client, db):
    invoice = make_open()
    url = reverse("customers:delete", args=[invoice.customer_id])
    assert "Archive instead" in staff_client.get(url).text
    response = staff_client.post(url)
    assert response.status_code == 409
    assert Customer.objects.filter(pk=invoice.customer_id).exists()


def test_it_deletes_a_customer_without_invoices(staff_client, customer):
    url = reverse("customers:delete", args=[customer.pk])
    assert "Delete customer" in staff_client.get(url).text
    response = staff_client.post(url)
    assert response["Location"] == reverse("customers:list")
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_it_shows_the_balance_per_currency(staff_client, db):
    usd = make_open(lines=1, unit_amount=12345)
    make_open(lines=1, unit_amount=500, customer=usd.customer, currency="EUR")
    response = staff_client.get(usd.customer.get_absolute_url())
    assert "$123.45" in response.text
    assert "€5.00" in response.text
    assert f'id="invoice-row-{usd.pk}"' in response.text


def test_it_picks_active_customers_for_a_new_invoice(staff_client, db):
    CustomerFactory(name="Zed Active")
    gone = CustomerFactory(name="Zed Archived")
    gone.archive()
    response = staff_client.get(reverse("customers:pick"), {"customer_q": "zed"})
    assert "Zed Active" in response.text
    assert "Zed Archived" not in response.text
    assert '<select name="customer"' in response.text
