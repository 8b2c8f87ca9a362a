from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import CustomerFactory, StaffFactory, UserFactory
from tests.servers import free_port, settle_webhooks

pytest_plugins = ["tests.plugins.simulator"]


def pytest_configure(config: pytest.Config) -> None:
    """The .mo catalogs are built, not committed: compile any that are stale
    (`make test` has already done so; a bare `pytest` must not test stale text)."""
    from portal.translations import compile_all

    compile_all()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def system_chromium() -> str | None:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    return path if Path(path).exists() else None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright: the system Chromium when there is one, Playwright's own elsewhere."""
    path = system_chromium()
    if path is None:
        return browser_type_launch_args
    return {**browser_type_launch_args, "executable_path": path, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def fresh_cache():
    """Cached pieces (dashboard totals, login rate limits) never leak between tests."""
    from django.core.cache import cache

    from portal import timezones

    cache.clear()
    timezones.assume_default()  # each test starts from a database without a profile
    yield
    cache.clear()


@pytest.fixture
def staff(db):
    return StaffFactory(username="staffer")


@pytest.fixture
def stranger(db):
    """Signed in, but not staff: must be refused everywhere staff-only."""
    return UserFactory(username="stranger")


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def stranger_client(stranger) -> Client:
    client = Client()
    client.force_login(stranger)
    return client


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def stripe_env(sim, settings):
    """The portal wired to the test session's simulator (fresh state per test)."""
    settings.STRIPE_API_BASE = sim.api_base
    settings.STRIPE_SECRET_KEY = sim.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = sim.publishable_key
    settings.STRIPE_JS_URL = sim.js_url
    settings.STRIPE_WEBHOOK_SECRETS = [sim.webhook_secret]
    return sim


@pytest.fixture
def wired(stripe_env, live_server):
    """The simulator delivering its signed webhooks to this test's live server by real
    HTTP, asynchronously; the teardown waits for every one under way, so none lands
    in the next test's database."""
    stripe_env.configure(
        webhook_endpoints=[f"{live_server.url}/invoices/wh/"], delivery_enabled=True
    )
    yield stripe_env
    settle_webhooks(stripe_env)


@pytest.fixture
def redis_down(settings):
    """The cache and the live bus point at a port where nothing listens."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.REDIS_URL = dead
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    return dead
