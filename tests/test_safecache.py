"""The cache may fail: reads miss, writes are dropped, and what must stay shared
(login rate limits) moves to the database cache while Redis is down."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.urls import reverse

from portal.safecache import SafeCache
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_database_cache():
    caches["database"].clear()
    yield
    caches["database"].clear()


def test_it_answers_a_miss_and_drops_writes_when_redis_is_down(redis_down, caplog):
    cache = SafeCache("default")
    cache.set("k", 1, 30)
    assert cache.get("k", "missing") == "missing"
    assert cache.delete("k") is False
    assert cache.ping() is False
    assert "unavailable" in caplog.text


def test_it_falls_back_to_the_database_cache(redis_down):
    cache = SafeCache("default", fallback="database")
    cache.set("k", {"count": 2}, 30)
    assert cache.get("k") == {"count": 2}
    assert caches["database"].get("k") == {"count": 2}


def test_the_login_limit_holds_with_redis_down(client, redis_down):
    StaffFactory(username="ada")
    for _ in range(5):
        client.post(reverse("login"), {"username": "ada", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "ada", "password": "password"})
    assert response.status_code == 200
    assert "Too many failed attempts" in response.text
    assert "_auth_user_id" not in client.session
