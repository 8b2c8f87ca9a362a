"""The emailed one-time code some account pages ask for: wrong, expired, used up,
rate limited, bound to the session, staff-only to switch on."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from customers.models import Customer
from invoices.models import AccountActivity, AccountCode
from tests.factories import CustomerFactory, make_open
from tests.test_account_page import FUZZ, page_url
from tests.test_fuzz_inputs import HOSTILE

pytestmark = pytest.mark.django_db


@pytest.fixture
def guarded(staff_client) -> Customer:
    customer = CustomerFactory(email="guarded@example.com")
    make_open(customer=customer)
    url = reverse("customers:account_link_code", args=[customer.pk])
    assert staff_client.post(url, {"required": "1"}).status_code == 302
    customer.refresh_from_db()
    assert customer.account_requires_code
    return customer


def ask_for_code(client: Client, customer: Customer, capture) -> str:
    with capture(execute=True):
        response = client.post(reverse("account:send_code", args=[customer.account_token]))
    assert response.status_code == 200
    (email,) = [m for m in mail.outbox if m.to == [customer.email]][-1:]
    code = re.search(r"\b(\d{6})\b", email.body).group(1)
    assert code in email.alternatives[0][0]
    return code


def check(client: Client, customer: Customer, code: str):
    return client.post(reverse("account:check_code", args=[customer.account_token]), {"code": code})


def test_a_guarded_page_opens_only_with_the_emailed_code(
    client, guarded, django_capture_on_commit_callbacks
):
    page = client.get(page_url(guarded))
    assert page.status_code == 200
    assert "Open invoices" not in page.content.decode()
    assert "Email me a code" in page.content.decode()
    for name in ("account:invoices", "account:statement_pdf"):
        assert client.get(reverse(name, args=[guarded.account_token])).status_code == 403
    code = ask_for_code(client, guarded, django_capture_on_commit_callbacks)
    stored = AccountCode.objects.get()
    assert code not in str(list(AccountCode.objects.values()))  # never stored as such
    assert stored.code == code
    response = check(client, guarded, code)
    assert response.status_code == 302
    assert "Open invoices" in client.get(page_url(guarded)).content.decode()
    # The same browser session only: another visitor still needs a code.
    assert "Open invoices" not in Client().get(page_url(guarded)).content.decode()
    # Used once: it cannot open a second session.
    other = Client()
    assert check(other, guarded, code).status_code == 400


def test_a_wrong_code_is_refused_and_five_tries_use_the_code_up(
    client, guarded, django_capture_on_commit_callbacks
):
    code = ask_for_code(client, guarded, django_capture_on_commit_callbacks)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        response = check(client, guarded, wrong)
        assert response.status_code == 400
        assert f"{left} tries left" in response.content.decode()
    assert "Too many wrong codes" in check(client, guarded, wrong).content.decode()
    # Even the right code no longer opens it: ask for a new one.
    assert "Too many wrong codes" in check(client, guarded, code).content.decode()
    assert "Open invoices" not in client.get(page_url(guarded)).content.decode()


def test_an_expired_code_is_refused(client, guarded, django_capture_on_commit_callbacks):
    code = ask_for_code(client, guarded, django_capture_on_commit_callbacks)
    AccountCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = check(client, guarded, code)
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_a_new_code_replaces_the_old_one(client, guarded, django_capture_on_commit_callbacks):
    first = ask_for_code(client, guarded, django_capture_on_commit_callbacks)
    second = ask_for_code(client, guarded, django_capture_on_commit_callbacks)
    if first != second:
        assert check(client, guarded, first).status_code == 400
    assert check(client, guarded, second).status_code == 302


def test_asking_for_codes_is_rate_limited(client, guarded, django_capture_on_commit_callbacks):
    for _ in range(3):
        ask_for_code(client, guarded, django_capture_on_commit_callbacks)
    url = reverse("account:send_code", args=[guarded.account_token])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 429
    assert AccountCode.objects.count() == 3
    assert len(mail.outbox) == 3


@pytest.mark.parametrize("answer", ["", "12345", "1234567", "١٢٣٤٥٦", "²²²²²²", "abcdef"])
def test_malformed_codes_are_refused_calmly(client, guarded, answer):
    AccountCode.objects.create(customer=guarded, expires_at=timezone.now() + timedelta(minutes=5))
    response = check(client, guarded, answer)
    assert response.status_code == 400
    assert "Open invoices" not in client.get(page_url(guarded)).content.decode()


def test_revoking_the_link_closes_an_opened_session(
    client, guarded, staff_client, django_capture_on_commit_callbacks
):
    code = ask_for_code(client, guarded, django_capture_on_commit_callbacks)
    check(client, guarded, code)
    staff_client.post(reverse("customers:account_link_issue", args=[guarded.pk]))
    guarded.refresh_from_db()
    assert "Open invoices" not in client.get(page_url(guarded)).content.decode()


def test_the_code_setting_is_staff_only_and_leaves_a_trail(stranger_client, staff_client, staff):
    customer = CustomerFactory()
    url = reverse("customers:account_link_code", args=[customer.pk])
    assert stranger_client.post(url, {"required": "1"}).status_code == 403
    customer.refresh_from_db()
    assert not customer.account_requires_code
    staff_client.post(url, {"required": "1"})
    staff_client.post(url, {"required": "0"})
    kinds = list(
        AccountActivity.objects.filter(customer=customer)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    )
    assert kinds == [AccountActivity.Kind.CODE_REQUIRED, AccountActivity.Kind.CODE_NOT_REQUIRED]


@FUZZ
@given(answer=st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30)))
def test_the_code_form_survives_hostile_values(client, answer):
    """Never a 5xx, never opened by a wrong answer (each counts as a try)."""
    customer = Customer.objects.filter(account_requires_code=True).first()
    if customer is None:
        customer = CustomerFactory()
        customer.account_requires_code = True
        customer.save()
    with transaction.atomic():
        AccountCode.objects.create(customer=customer, expires_at=timezone.now() + timedelta(1))
        response = check(client, customer, answer)
        assert response.status_code < 500
        assert "Open invoices" not in client.get(page_url(customer)).content.decode()
        transaction.set_rollback(True)


def test_the_code_email_is_in_the_customers_language(django_capture_on_commit_callbacks):
    from invoices.account import codes

    customer = CustomerFactory(language="fr", email="fr@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert codes.send_code(customer, "192.0.2.1")
    (email,) = mail.outbox
    assert "Votre code" in email.subject
    assert AccountCode.objects.get().code in email.body
