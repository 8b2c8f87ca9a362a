"""The Stripe.js stand-in in a real browser, on a page with a strict Content-Security-Policy.

The card fields live in a cross-origin frame (the simulator's frame origin), as Stripe's do:
tests reach them through `card_frame(page)`, and a policy without that origin in frame-src
keeps the element from loading."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    FrameLocator,
    Page,
    expect,
    sync_playwright,
)

from stripe_sim.origins import frame_origin
from stripe_sim.testing import SimulatorProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

APP_JS = """
const form = document.getElementById("payment-form");
const message = document.getElementById("payment-message");
const stripe = Stripe(form.dataset.publishableKey);
const elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
const payment = elements.create("payment");
payment.on("ready", () => { form.dataset.ready = "true"; });
payment.on("loaderror", (event) => {
  form.dataset.loadError = event.error.type;
  message.textContent = "The payment form could not load.";
});
payment.on("change", (event) => { form.dataset.complete = String(event.complete); });
payment.mount("#payment-element");
window.checkout = { stripe, elements };
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  const { error } = await stripe.confirmPayment({
    elements,
    confirmParams: { return_url: form.dataset.returnUrl },
  });
  if (error) {
    message.textContent = error.message;
    form.dataset.errorType = error.type;
    button.disabled = false;
  }
});
"""

APP_CSS = """
.SimElement-input { font-size: 16px; padding: 8px; border: 1px solid #8792a2; }
.SimElement-input--invalid { border-color: #df1b41; }
"""


class PageServer:
    """Serves a checkout page from its own origin with a strict CSP naming the simulator."""

    def __init__(self, sim: SimulatorProcess) -> None:
        self.sim = sim
        self.client_secret = ""
        server_ref = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/checkout":
                    body, kind = server_ref.checkout_html(), "text/html"
                elif path == "/app.js":
                    body, kind = APP_JS, "application/javascript"
                elif path == "/app.css":
                    body, kind = APP_CSS, "text/css"
                elif path == "/favicon.ico":
                    body, kind = "", "image/x-icon"
                elif path == "/done":
                    body, kind = "<!doctype html><title>Done</title><h1>Thanks</h1>", "text/html"
                else:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Security-Policy", server_ref.csp)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.csp = self.policy(frame_src=frame_origin(sim.api_base))
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def policy(self, *, frame_src: str) -> str:
        api = self.sim.api_base
        return (
            f"default-src 'self'; script-src 'self' {api}; connect-src {api}; "
            f"style-src 'self'; img-src 'self'; frame-src {frame_src}"
        )

    def checkout_html(self) -> str:
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pay invoice</title>
<link rel="stylesheet" href="/app.css">
<script src="{self.sim.js_url}"></script>
<script src="/app.js" defer></script></head>
<body><main><h1>Pay invoice</h1>
<form id="payment-form" data-publishable-key="{self.sim.publishable_key}"
      data-client-secret="{self.client_secret}" data-return-url="{self.origin}/done">
  <div id="payment-element">Loading…</div>
  <button type="submit">Pay</button>
  <p id="payment-message" role="status"></p>
</form></main></body></html>"""

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def chromium(request: pytest.FixtureRequest) -> Iterator[Browser]:
    try:
        asyncio.get_running_loop()
        # pytest-playwright's session instance is already running; a second would refuse.
        playwright, own = request.getfixturevalue("playwright"), None
    except RuntimeError:
        own = sync_playwright()
        playwright = own.start()
    if CHROMIUM.exists():
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    else:
        browser = playwright.chromium.launch()
    yield browser
    browser.close()
    if own is not None:
        playwright.stop()


@pytest.fixture
def shop(sim: SimulatorProcess) -> Iterator[PageServer]:
    server = PageServer(sim)
    yield server
    server.close()


@pytest.fixture
def allowed_errors() -> list[str]:
    """Console messages a test expects (substrings), e.g. the browser's CSP refusal."""
    return []


@pytest.fixture
def sim_page(chromium: Browser, allowed_errors: list[str]) -> Iterator[Page]:
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []

    def record(message: ConsoleMessage) -> None:
        # 402s from declines are logged by the browser as failed loads, as with Stripe.js.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", record)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    yield page
    context.close()
    unexpected = [p for p in problems if not any(allowed in p for allowed in allowed_errors)]
    assert not unexpected, f"browser console errors: {unexpected}"


def open_checkout(
    page: Page, shop: PageServer, sim: SimulatorProcess, amount: int = 4500, *, ready: bool = True
) -> str:
    pi = sim.client().v1.payment_intents.create(
        params={"amount": amount, "currency": "usd", "metadata": {"invoice": "INV-9"}}
    )
    shop.client_secret = pi.client_secret
    page.goto(f"{shop.origin}/checkout")
    if ready:
        expect(page.locator("#payment-form")).to_have_attribute("data-ready", "true")
    return pi.id


def card_frame(page: Page) -> FrameLocator:
    return page.frame_locator("iframe[title='Secure payment input frame']")


def fill_card(page: Page, number: str, expiry: str = "12 / 34", cvc: str = "123") -> None:
    frame = card_frame(page)
    frame.get_by_label("Card number").fill(number)
    frame.get_by_label("Expiration date").fill(expiry)
    frame.get_by_label("Security code").fill(cvc)


def test_it_pays_with_the_payment_element_under_a_strict_csp(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    pi_id = open_checkout(page, shop, sim)
    frame = card_frame(page)
    number = frame.get_by_label("Card number")
    expect(number).to_have_attribute("autocomplete", "cc-number")
    expect(number).to_have_attribute("inputmode", "numeric")
    expect(frame.get_by_label("Expiration date")).to_have_attribute("placeholder", "MM / YY")
    expect(frame.get_by_label("Security code")).to_have_attribute("autocomplete", "cc-csc")
    # The fields are not in the page: a script there cannot read the card number.
    expect(page.get_by_label("Card number")).to_have_count(0)
    src = page.locator("iframe").get_attribute("src") or ""
    assert src.startswith(frame_origin(sim.api_base) + "/v3/")
    assert frame_origin(sim.api_base) != sim.api_base

    number.press_sequentially("4242424242424242")
    expect(number).to_have_value("4242 4242 4242 4242")
    frame.get_by_label("Expiration date").press_sequentially("1234")
    expect(frame.get_by_label("Expiration date")).to_have_value("12 / 34")
    frame.get_by_label("Security code").fill("123")
    expect(page.locator("#payment-form")).to_have_attribute("data-complete", "true")
    page.get_by_role("button", name="Pay").click()

    page.wait_for_url(re.compile(r"/done\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["redirect_status"] == ["succeeded"]
    assert query["payment_intent"] == [pi_id]
    assert sim.client().v1.payment_intents.retrieve(pi_id).status == "succeeded"


def test_it_shows_a_decline_without_navigating(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    pi_id = open_checkout(page, shop, sim)
    checkout_url = page.url
    fill_card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay").click()

    expect(page.get_by_text("Your card was declined.")).to_be_visible()
    expect(page.locator("#payment-form")).to_have_attribute("data-error-type", "card_error")
    expect(page.get_by_role("button", name="Pay")).to_be_enabled()
    assert page.url == checkout_url
    pi = sim.client().v1.payment_intents.retrieve(pi_id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.decline_code == "generic_decline"


def test_it_completes_3d_secure_and_returns(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    pi_id = open_checkout(page, shop, sim)
    fill_card(page, "4000 0025 0000 3155")
    page.get_by_role("button", name="Pay").click()

    page.wait_for_url(re.compile(rf"/_sim/3ds/{pi_id}"))
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(re.compile(r"/done\?.*redirect_status=succeeded"))
    assert sim.client().v1.payment_intents.retrieve(pi_id).status == "succeeded"


def test_it_validates_like_stripe_js_before_calling_the_api(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    open_checkout(page, shop, sim)
    alert = card_frame(page).locator("[role=alert]")
    page.get_by_role("button", name="Pay").click()
    expect(alert).to_have_text("Your card number is incomplete.")
    expect(card_frame(page).get_by_label("Card number")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#payment-form")).to_have_attribute("data-error-type", "validation_error")

    fill_card(page, "4242 4242 4242 4242", expiry="01 / 20")
    page.get_by_role("button", name="Pay").click()
    expect(alert).to_have_text("Your card's expiration year is in the past.")

    fill_card(page, "4242 4242 4242 4242", cvc="1")
    page.get_by_role("button", name="Pay").click()
    expect(alert).to_have_text("Your card's security code is incomplete.")
    assert sim.events("payment_intent.payment_failed") == []


def test_it_returns_with_processing_for_the_processing_card(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    sim.configure(processing_delay=0.2)
    pi_id = open_checkout(page, shop, sim)
    fill_card(page, "4000 0099 9900 0006")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(r"/done\?.*redirect_status=processing"))
    sim.wait_for(
        lambda: sim.client().v1.payment_intents.retrieve(pi_id).status == "succeeded",
        what="the processing payment to succeed",
    )


def test_it_never_loads_the_card_frame_when_the_csp_lacks_its_origin(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess, allowed_errors: list[str]
) -> None:
    allowed_errors.append('violates the following Content Security Policy directive: "frame-src')
    shop.csp = shop.policy(frame_src="'self'")
    page = sim_page
    open_checkout(page, shop, sim, ready=False)
    form = page.locator("#payment-form")
    expect(form).to_have_attribute("data-load-error", "invalid_request_error")
    expect(page.get_by_text("The payment form could not load.")).to_be_visible()
    assert form.get_attribute("data-ready") is None
    expect(card_frame(page).get_by_label("Card number")).to_have_count(0)


def test_it_emits_loaderror_for_a_payment_intent_it_cannot_find(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    shop.client_secret = "pi_3MissingIntent000000000_secret_abcdefghijklmnop"
    page.goto(f"{shop.origin}/checkout")
    form = page.locator("#payment-form")
    expect(form).to_have_attribute("data-load-error", "invalid_request_error")
    assert form.get_attribute("data-ready") is None


def test_it_throws_integration_errors_as_stripe_js_does(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    open_checkout(page, shop, sim)
    created = page.evaluate(
        """() => {
        try { Stripe(document.forms[0].dataset.publishableKey).elements({}).create("payment"); }
        catch (e) { return [e.name, e.message]; }
      }"""
    )
    assert created[0] == "IntegrationError"
    assert created[1].startswith(
        "In order to create a payment element, you must pass a clientSecret or mode"
    )
    bad_secret = page.evaluate(
        """() => {
        try { Stripe(document.forms[0].dataset.publishableKey).elements({clientSecret: "nope"}); }
        catch (e) { return e.name; }
      }"""
    )
    assert bad_secret == "IntegrationError"
    # confirmPayment rejects (it does not resolve {error}) for a mistake in the integration.
    rejected = page.evaluate(
        """() => window.checkout.stripe.confirmPayment({ elements: window.checkout.elements })
              .then(() => "resolved", (e) => e.name + ": " + e.message)"""
    )
    assert rejected.startswith(
        "IntegrationError: stripe.confirmPayment(): the `confirmParams.return_url` argument"
    )


def test_it_resolves_an_error_for_a_payment_intent_that_cannot_be_confirmed(
    sim_page: Page, shop: PageServer, sim: SimulatorProcess
) -> None:
    page = sim_page
    pi_id = open_checkout(page, shop, sim)
    sim.client().v1.payment_intents.cancel(pi_id)
    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay").click()
    form = page.locator("#payment-form")
    expect(form).to_have_attribute("data-error-type", "invalid_request_error")
    expect(page.locator("#payment-message")).to_contain_text("status of canceled")
