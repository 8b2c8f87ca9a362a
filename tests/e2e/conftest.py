"""The browser suite's stack: one portal deployment and one Stripe simulator per test run.

- Session: a fresh database (`Deployment`) seeded with the QA staff user and the business
  profile; the Stripe simulator as a subprocess (`SimulatorProcess`), delivering signed
  webhooks to the portal; the portal as a uvicorn subprocess (`PortalServer`) with
  DEBUG=false (the production stack: WhiteNoise, manifest static files, CSP), emails
  written to a folder (`EMAIL_URL=filemail://...`).
- Each test: its own customer and invoice (`helpers.make_open_invoice`), since the
  simulator cannot be reset while the portal holds its ids; the simulator's settings are
  put back after every test.
- On failure: Playwright's trace and screenshot, plus the portal's and the simulator's log
  lines from that test and the simulator's webhook deliveries, in
  test-results/e2e/<test>/ (see README.md).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from stripe_sim.testing import SimulatorProcess
from tests.e2e import helpers
from tests.servers import Deployment, PortalServer, free_port

# The simulator's processing card stays "processing" this long (scenario 5): long enough
# for the page to show it, short enough not to slow the suite.
PROCESSING_DELAY = 3.0

SIM_SETTINGS = {
    "delivery_enabled": True,
    "hold": False,
    "processing_delay": PROCESSING_DELAY,
    "settle_delay": 3.0,  # a bank debit's days; tests that need them set and advance them
    "retry_base": 0.2,
    "max_attempts": 5,
    "webhook_timeout": 10.0,
    "js_delay": 0.0,
    "js_unavailable": False,
}

SEED = f"""
from django.contrib.auth import get_user_model
from invoices.models import BusinessProfile
user = get_user_model().objects.create_user(
    {helpers.STAFF_USERNAME!r}, email={helpers.STAFF_EMAIL!r},
    password={helpers.STAFF_PASSWORD!r}, is_staff=True,
)
profile = BusinessProfile.load()
profile.name = {helpers.BUSINESS_NAME!r}
profile.email = {helpers.BUSINESS_EMAIL!r}
profile.address = "1 Market Street\\nSan Francisco, CA 94105"
profile.number_prefix = "QA-"
profile.save()
result = user.pk
"""


def pytest_configure(config: pytest.Config) -> None:
    """Defaults for pytest-playwright's artifacts, unless given on the command line:
    keep a trace and a screenshot of each failed test in test-results/e2e/<test>/."""
    if config.getoption("--output", default=None) == "test-results":
        config.option.output = "test-results/e2e"
    if config.getoption("--tracing", default=None) == "off":
        config.option.tracing = "retain-on-failure"
    if config.getoption("--screenshot", default=None) == "off":
        config.option.screenshot = "only-on-failure"
    # pytest-playwright's own base_url fixture trips a pytest deprecation: not ours to fix.
    warning = "Session-scoped fixtures defined as instance methods"
    config.addinivalue_line("filterwarnings", f"ignore:{warning}:pytest.PytestRemovedIn10Warning")


@pytest.fixture(scope="session", autouse=True)
def e2e_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[helpers.Stack]:
    tmp = tmp_path_factory.mktemp("e2e")
    runtime_only = ("hold", "js_delay", "js_unavailable")  # set through configure() below
    sim = SimulatorProcess(**{k: v for k, v in SIM_SETTINGS.items() if k not in runtime_only})
    sim.start()
    deployment = portal = shell = None
    try:
        port = free_port()
        site_url = f"http://127.0.0.1:{port}"
        deployment = Deployment(
            tmp,
            DJANGO_SETTINGS_MODULE="tests.e2e.production_settings",
            E2E_STATIC_ROOT=str(tmp / "static"),
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SITE_URL=site_url,
            REDIS_URL="",  # one server process: the in-process live-update hub
            TASKS_BACKEND="",  # emails are sent in the request, right after commit
            LOG_LEVEL="INFO",  # webhook outcomes and sent emails appear in the log
            DEFAULT_FROM_EMAIL=helpers.BUSINESS_EMAIL,
            STRIPE_SECRET_KEY=sim.secret_key,
            STRIPE_PUBLISHABLE_KEY=sim.publishable_key,
            STRIPE_WEBHOOK_SECRET=sim.webhook_secret,
            STRIPE_API_BASE=sim.api_base,
            STRIPE_JS_URL=sim.js_url,
        )
        # The admin's files are left out (the suite never opens /admin/): half the time.
        deployment.manage("collectstatic", "--no-input", "-v0", "--ignore", "admin")
        shell = deployment.shell()
        shell.run(SEED)
        portal = PortalServer(deployment, port=port)
        stack = helpers.Stack(deployment, portal, sim, deployment.mail_dir, shell)
        sim.configure(webhook_endpoints=[stack.webhook_url], **SIM_SETTINGS)
        helpers.use(stack)
        yield stack
    finally:
        helpers.use(None)
        if shell is not None:
            shell.close()
        if portal is not None:
            portal.stop()
        sim.stop()
        if deployment is not None:
            deployment.close()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict, e2e_stack: helpers.Stack) -> dict:
    """Every browser context opens relative URLs on the portal: page.goto("/pay/...")."""
    return {**browser_context_args, "base_url": e2e_stack.portal.url}


@pytest.fixture(scope="session")
def staff_storage_state(
    browser: Browser, browser_context_args: dict, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Signed in once per run through the login form; staff browsers start from here."""
    context = browser.new_context(**browser_context_args)
    try:
        helpers.sign_in(context.new_page())
        state = tmp_path_factory.mktemp("staff") / "state.json"
        context.storage_state(path=state)
        return state
    finally:
        context.close()


@pytest.fixture
def staff_page(new_context: Callable[..., BrowserContext], staff_storage_state: Path) -> Page:
    """A page in a second browser, already signed in as the staff user (traced like `page`)."""
    page = new_context(storage_state=staff_storage_state).new_page()
    page.goto("/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


@pytest.fixture
def portal(e2e_stack: helpers.Stack) -> PortalServer:
    return e2e_stack.portal


@pytest.fixture
def simulator(e2e_stack: helpers.Stack) -> SimulatorProcess:
    """The Stripe simulator. Tests may `configure(hold=True, ...)`: it is put back after."""
    return e2e_stack.sim


@pytest.fixture(autouse=True)
def _per_test(
    request: pytest.FixtureRequest, e2e_stack: helpers.Stack, output_path: str
) -> Iterator[None]:
    sim, portal = e2e_stack.sim, e2e_stack.portal
    portal_start = portal.log_size()
    sim_start = sim.log_path.stat().st_size
    deliveries_before = len(sim.deliveries())
    yield
    failed = any(
        getattr(getattr(request.node, f"rep_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    if failed:
        folder = Path(output_path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "portal.log").write_text(portal.logs(since=portal_start))
        with sim.log_path.open("rb") as log:
            log.seek(sim_start)
            (folder / "stripe_sim.log").write_bytes(log.read())
        deliveries = sim.deliveries()[deliveries_before:]
        (folder / "webhook-deliveries.json").write_text(json.dumps(deliveries, indent=2))
    # Undo a test's simulator settings (e.g. hold) and deliver anything it left held.
    sim.configure(webhook_endpoints=[e2e_stack.webhook_url], **SIM_SETTINGS)
    sim.release()
