from __future__ import annotations

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests.factories import StaffFactory


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def person(db):
    return StaffFactory(username="ada", email="ada@example.com")


def sign_in(client, password: str, username: str = "ada", ip: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_it_signs_in(client, person):
    response = sign_in(client, "password")
    assert response.status_code == 302
    assert response["Location"] == reverse("invoices:dashboard")


def test_it_rejects_a_wrong_password(client, person):
    response = sign_in(client, "nope")
    assert response.status_code == 200
    assert "correct username and password" in response.text


def test_it_blocks_a_username_after_five_failures(client, person):
    for _ in range(5):
        sign_in(client, "wrong")
    # Even the right password is refused now, from any address.
    response = sign_in(client, "password", ip="10.9.9.9")
    assert response.status_code == 200
    assert "Too many failed attempts, try again in 15 minutes" in response.text
    assert "_auth_user_id" not in client.session


def test_it_lets_the_username_in_again_after_the_window(client, person):
    with time_machine.travel("2026-01-01 10:00", tick=False) as traveller:
        for _ in range(5):
            sign_in(client, "wrong")
        traveller.shift(60 * 10)
        assert "try again in 5 minutes" in sign_in(client, "password").text
        traveller.shift(60 * 6)
        assert sign_in(client, "password").status_code == 302


def test_it_blocks_an_address_guessing_many_usernames(client, person):
    for n in range(20):
        sign_in(client, "wrong", username=f"someone{n}")
    response = sign_in(client, "password")
    assert "Too many failed attempts" in response.text
    assert sign_in(client, "password", ip="10.0.0.2").status_code == 302


def test_it_forgets_failures_after_a_success(client, person):
    for _ in range(4):
        sign_in(client, "wrong")
    assert sign_in(client, "password").status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, "wrong")
    assert sign_in(client, "password").status_code == 302


def test_it_emails_a_password_reset_link(client, person):
    response = client.post(reverse("password_reset"), {"email": "ada@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body
    assert client.get(reverse("password_reset_done")).status_code == 200


def test_it_changes_a_password(staff_client):
    response = staff_client.post(
        reverse("password_change"),
        {
            "old_password": "password",
            "new_password1": "a-much-longer-passphrase-42",
            "new_password2": "a-much-longer-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert staff_client.get(response["Location"]).status_code == 200
