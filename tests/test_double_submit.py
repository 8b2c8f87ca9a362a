"""A form posted twice (a double click, a resent request) acts once."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connections
from django.test import Client

from customers.models import Customer
from invoices.models import Invoice
from portal.models import SubmittedForm
from tests.factories import make_open

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def token_from(client: Client, url: str) -> str:
    match = TOKEN.search(client.get(url).text)
    assert match, f"no form token on {url}"
    return match.group(1)


def test_it_adds_one_customer_for_two_identical_posts(staff_client):
    token = token_from(staff_client, "/customers/new/")
    data = {"name": "Ada", "email": "ada@example.com", "form_token": token}
    first = staff_client.post("/customers/new/", data)
    second = staff_client.post("/customers/new/", data)
    assert Customer.objects.filter(email="ada@example.com").count() == 1
    customer = Customer.objects.get(email="ada@example.com")
    # The second is sent where the first went, and told why.
    assert first["Location"] == second["Location"] == customer.get_absolute_url()
    assert "added once" in staff_client.get(second["Location"]).text


def test_it_creates_one_draft_for_two_identical_posts(staff_client, customer):
    token = token_from(staff_client, "/invoices/new/")
    data = {"customer": customer.pk, "currency": "USD", "form_token": token}
    first = staff_client.post("/invoices/new/", data)
    second = staff_client.post("/invoices/new/", data)
    assert Invoice.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_it_emails_the_invoice_once_for_two_identical_posts(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = make_open()
    token = token_from(staff_client, invoice.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            staff_client.post(f"/invoices/{invoice.pk}/send/", {"form_token": token})
    assert len(mailoutbox) == 1
    assert invoice.activities.filter(kind="sent").count() == 1
    # A fresh page gives a fresh token: sending again on purpose still works.
    token = token_from(staff_client, invoice.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(f"/invoices/{invoice.pk}/send/", {"form_token": token})
    assert len(mailoutbox) == 2


def test_it_duplicates_once_for_two_identical_posts(staff_client):
    invoice = make_open()
    token = token_from(staff_client, invoice.get_absolute_url())
    for _ in range(2):
        staff_client.post(f"/invoices/{invoice.pk}/duplicate/", {"form_token": token})
    assert Invoice.objects.count() == 2


def test_a_refused_form_does_not_use_up_its_token(staff_client):
    token = token_from(staff_client, "/customers/new/")
    staff_client.post(
        "/customers/new/", {"name": "", "email": "x@example.com", "form_token": token}
    )
    data = {"name": "Ada", "email": "ada@example.com", "form_token": token}
    staff_client.post("/customers/new/", data)
    assert Customer.objects.filter(email="ada@example.com").count() == 1


@pytest.mark.postgres
def test_two_posts_at_the_same_moment_make_one_customer(transactional_db, staff):
    if connections["default"].vendor != "postgresql":
        pytest.skip("concurrent row locks need PostgreSQL (CI runs this on PostgreSQL)")
    data = {"name": "Ada", "email": "ada@example.com", "form_token": "t" * 32}
    barrier = threading.Barrier(2)

    def post() -> None:
        client = Client()
        client.force_login(staff)
        barrier.wait()
        try:
            client.post("/customers/new/", data)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Customer.objects.filter(email="ada@example.com").count() == 1
    assert SubmittedForm.objects.count() == 1
