"""Every staff page: staff allowed, a signed-in stranger refused (403), anonymous sent to login;
every staff POST refused without a CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from invoices.models import InvoiceFlag, Payment
from tests.factories import CustomerFactory, make_draft, make_open


@pytest.fixture
def objects(db):
    draft = make_draft()
    invoice = make_open()
    payment = Payment.objects.create(
        invoice=invoice,
        method=Payment.Method.ONLINE,
        status=Payment.Status.SUCCEEDED,
        amount=5000,
        currency="USD",
        stripe_payment_intent_id="pi_test_access",
    )
    flag = InvoiceFlag.objects.create(invoice=invoice, kind="overpaid", message="Paid too much")
    lonely = CustomerFactory()
    return {"draft": draft, "invoice": invoice, "payment": payment, "flag": flag, "lonely": lonely}


def get_urls(o: dict) -> list[str]:
    d, i, p = o["draft"].pk, o["invoice"].pk, o["payment"].pk
    c = o["invoice"].customer_id
    return [
        reverse("invoices:dashboard"),
        reverse("invoices:export"),
        reverse("invoices:new"),
        reverse("invoices:detail", args=[i]),
        reverse("invoices:edit", args=[d]),
        reverse("invoices:void", args=[i]),
        reverse("invoices:uncollectible", args=[i]),
        reverse("invoices:revoke_link", args=[i]),
        reverse("invoices:delete_draft", args=[d]),
        reverse("invoices:record_payment", args=[i]),
        reverse("invoices:refund", args=[i, p]),
        reverse("invoices:reverse_payment", args=[i, p]),
        reverse("invoices:new_credit_note", args=[i]),
        reverse("invoices:ledger"),
        reverse("invoices:ledger_csv"),
        reverse("invoices:receivables"),
        reverse("customers:list"),
        reverse("customers:export"),
        reverse("customers:pick"),
        reverse("customers:create"),
        reverse("customers:detail", args=[c]),
        reverse("customers:statement", args=[c]),
        reverse("customers:statement_pdf", args=[c]),
        reverse("customers:edit", args=[c]),
        reverse("customers:delete", args=[c]),
    ]


def post_urls(o: dict) -> list[str]:
    d, i, p, f = o["draft"].pk, o["invoice"].pk, o["payment"].pk, o["flag"].pk
    c = o["lonely"].pk
    return [
        reverse("invoices:new"),
        reverse("invoices:edit", args=[d]),
        reverse("invoices:add_line", args=[d]),
        reverse("invoices:remove_line", args=[d, 0]),
        reverse("invoices:move_line", args=[d, 0, "down"]),
        reverse("invoices:finalize", args=[d]),
        reverse("invoices:send", args=[i]),
        reverse("invoices:void", args=[i]),
        reverse("invoices:uncollectible", args=[i]),
        reverse("invoices:revoke_link", args=[i]),
        reverse("invoices:duplicate", args=[i]),
        reverse("invoices:delete_draft", args=[d]),
        reverse("invoices:record_payment", args=[i]),
        reverse("invoices:refund", args=[i, p]),
        reverse("invoices:reverse_payment", args=[i, p]),
        reverse("invoices:new_credit_note", args=[i]),
        reverse("invoices:resolve_flag", args=[i, f]),
        reverse("invoices:profile"),
        reverse("customers:create"),
        reverse("customers:edit", args=[c]),
        reverse("customers:statement_email", args=[c]),
        reverse("customers:archive", args=[c]),
        reverse("customers:restore", args=[c]),
        reverse("customers:delete", args=[c]),
    ]


def test_it_shows_every_page_to_staff(staff_client, objects):
    for url in get_urls(objects):
        response = staff_client.get(url)
        assert response.status_code == 200, url


def test_it_refuses_strangers(stranger_client, objects):
    for url in get_urls(objects):
        assert stranger_client.get(url).status_code == 403, url
    for url in post_urls(objects):
        assert stranger_client.post(url).status_code == 403, url


def test_it_sends_anonymous_visitors_to_login(client, objects):
    responses = [(url, client.get(url)) for url in get_urls(objects)]
    responses += [(url, client.post(url)) for url in post_urls(objects)]
    for url, response in responses:
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_it_refuses_posts_without_csrf(staff, objects):
    staff.is_superuser = True
    staff.save()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff)
    for url in post_urls(objects):
        assert csrf_client.post(url).status_code == 403, url
    objects["draft"].refresh_from_db()
    assert objects["draft"].status == "draft"


def test_it_refuses_get_on_post_only_actions(staff_client, objects):
    i = objects["invoice"].pk
    for name in ("send", "duplicate", "finalize"):
        assert staff_client.get(reverse(f"invoices:{name}", args=[i])).status_code == 405


def test_it_lets_only_superusers_edit_the_business_profile(staff_client, staff):
    assert staff_client.get(reverse("invoices:profile")).status_code == 403
    staff.is_superuser = True
    staff.save()
    assert staff_client.get(reverse("invoices:profile")).status_code == 200
