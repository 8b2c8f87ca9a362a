from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.core import mail
from django.db import connections
from django.test import Client
from django.urls import reverse

from portal.models import RateCounter
from tests.factories import StaffFactory


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


def test_it_never_locks_the_account_for_the_right_password_elsewhere(client, person):
    for _ in range(40):
        sign_in(client, "wrong", ip="10.6.6.6")
    response = sign_in(client, "password", ip="10.9.9.9")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)


def test_it_slows_the_guessing_address_with_exponential_back_off(client, person):
    with time_machine.travel("2026-01-01 10:00", tick=False) as traveller:
        for _ in range(5):
            assert "correct username and password" in sign_in(client, "wrong").text
        # The sixth try waits 1 s, the seventh 2 s, the eighth 4 s ...
        assert "try again in 1 second." in sign_in(client, "password").text
        for wait in (1, 2, 4, 8):
            traveller.shift(wait)
            assert "correct username and password" in sign_in(client, "wrong").text
            refused = sign_in(client, "password").text
            assert f"try again in {wait * 2} seconds" in refused
        traveller.shift(16)
        # Waiting always works: the right password gets in and clears the count.
        assert sign_in(client, "password").status_code == 302
        client.logout()
        assert "correct username and password" in sign_in(client, "wrong").text


def test_it_caps_the_back_off_at_fifteen_minutes(client, person):
    with time_machine.travel("2026-01-01 10:00", tick=False) as traveller:
        for n in range(30):
            traveller.shift(min(2**n, 15 * 60))
            sign_in(client, "wrong")
        assert "try again in 15 minutes" in sign_in(client, "password").text
        traveller.shift(15 * 60)
        assert sign_in(client, "password").status_code == 302


@pytest.mark.parametrize("store", ["default", "database"])
def test_it_counts_a_burst_of_parallel_tries_as_a_sequence(
    transactional_db, person, settings, store
):
    """The number is taken before the password is checked: 12 tries at once
    cannot all slip through before the first failure is recorded."""
    # "default" is Redis when REDIS_URL is set (CI's second pass), else the database.
    settings.RATE_COUNTERS = store
    barrier = threading.Barrier(12)

    def attempt(_: int) -> str:
        client = Client()
        barrier.wait()
        try:
            return sign_in(client, "wrong").text
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(attempt, range(12)))
    checked = [a for a in answers if "correct username and password" in a]
    refused = [a for a in answers if "Too many failed attempts" in a]
    assert len(checked) <= 5
    assert len(checked) + len(refused) == 12


def test_it_blocks_an_address_guessing_many_usernames(client, person):
    for n in range(20):
        sign_in(client, "wrong", username=f"someone{n}")
    response = sign_in(client, "password")
    assert "Too many failed attempts" in response.text
    assert "_auth_user_id" not in client.session
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


def test_it_sends_a_few_reset_emails_not_one_per_request(client, person):
    for _ in range(30):
        response = client.post(reverse("password_reset"), {"email": "ada@example.com"})
        assert response.status_code == 302  # the same answer, limited or not
    assert len(mail.outbox) == 3


def test_it_limits_reset_requests_per_address(client, db):
    for n in range(12):
        StaffFactory(username=f"p{n}", email=f"p{n}@example.com")
        client.post(
            reverse("password_reset"), {"email": f"p{n}@example.com"}, REMOTE_ADDR="10.1.1.1"
        )
    assert len(mail.outbox) == 10
    client.post(reverse("password_reset"), {"email": "p11@example.com"}, REMOTE_ADDR="10.1.1.2")
    assert len(mail.outbox) == 11


def test_it_ignores_a_forwarded_for_header_from_an_untrusted_peer(client, person, settings):
    settings.TRUSTED_PROXIES = []
    for n in range(25):
        # A client cannot pick a fresh address per try by writing the header itself.
        client.post(
            reverse("login"),
            {"username": f"x{n}", "password": "wrong"},
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
    response = sign_in(client, "password", ip="203.0.113.9")
    assert "Too many failed attempts" in response.text


def test_it_believes_the_trusted_proxy_about_the_client(client, person, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for _ in range(25):
        client.post(
            reverse("login"),
            {"username": "ada", "password": "wrong"},
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.7",
        )
    # Another client behind the same proxy is not slowed by that one.
    response = client.post(
        reverse("login"),
        {"username": "ada", "password": "password"},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert response.status_code == 302


def test_a_post_without_a_password_does_not_clear_the_count(client, person):
    with time_machine.travel("2026-01-01 10:00", tick=False) as traveller:
        for _ in range(5):
            sign_in(client, "wrong")
        traveller.shift(1)
        client.post(reverse("login"), {"username": "ada", "password": ""}, REMOTE_ADDR="10.0.0.1")
        assert "correct username and password" in sign_in(client, "wrong").text
        assert "Too many failed attempts" in sign_in(client, "password").text


def test_the_counters_stay_shared_when_redis_is_unreachable(client, person, settings):
    """A Redis that is down falls back to the database counters, not to no limit."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with time_machine.travel("2026-01-01 10:00", tick=False):
        for _ in range(5):
            sign_in(client, "wrong")
        assert "Too many failed attempts" in sign_in(client, "password").text
    assert RateCounter.objects.exists()
