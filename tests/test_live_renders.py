"""A change is rendered where someone listens: once per process, off the request that made it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from invoices import live
from invoices.live import Follower, hub, invoice_channel
from invoices.models import Invoice
from tests import stripe_events as se
from tests.factories import make_open, open_with_intent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def in_process(settings):
    settings.REDIS_URL = ""


@pytest.fixture
def renders(monkeypatch):
    """Every render of the app's invoice followers, by name, as it happens."""
    seen: list[tuple[str, int]] = []

    def counted(name: str, follower: Follower) -> Follower:
        def render(pk: int) -> list[tuple[str, str]]:
            seen.append((name, pk))
            return follower.render(pk)

        return Follower(channel=follower.channel, render=render)

    followers = {name: counted(name, f) for name, f in live.followers("invoice").items()}
    monkeypatch.setitem(live._followers, "invoice", followers)
    return seen


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    # On a thread of its own: the browser suite keeps a loop running on the main thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result()


async def next_message(queue: asyncio.Queue[live.Message]) -> live.Message:
    while (message := await asyncio.wait_for(queue.get(), 10)) is live.TICK:
        pass
    return message


def deliver_on_a_thread(client, body: dict) -> object:
    try:
        return se.deliver(client, body)
    finally:
        connections.close_all()  # this thread's own connection, not the test's


def test_it_renders_nothing_in_the_webhooks_request_when_nobody_listens(client, renders):
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))
    assert se.deliver(client, body).status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert renders == []


def test_it_renders_a_change_once_for_every_listener_of_the_process(renders):
    invoice = make_open(lines=1)
    channel = invoice_channel(invoice.pk)

    async def scenario() -> None:
        async with hub.subscribe(channel) as first, hub.subscribe(channel) as second:
            # As the request that changed it does, after its commit, on its own thread.
            await asyncio.to_thread(live.changed, "invoice", invoice.pk)
            message = await next_message(first)
            assert await next_message(second) is message
            assert message.event == "status"
            assert 'id="pay-status"' in message.html
            assert "Amount due" in message.html

    run(scenario)
    # Only the customer's page listens here: the staff fragments are not rendered.
    assert renders == [("customer page", invoice.pk)]


def test_a_staff_page_gets_the_row_rendered_in_english(renders):
    invoice = make_open(lines=1)
    invoice.customer.language = "fr"
    invoice.customer.save()

    async def scenario() -> None:
        async with hub.subscribe(live.STAFF_CHANNEL) as staff:
            await asyncio.to_thread(live.changed, "invoice", invoice.pk)
            events = {}
            while len(events) < 3:
                message = await next_message(staff)
                events[message.event] = message.html
            assert f'id="invoice-row-{invoice.pk}"' in events[f"invoice-{invoice.pk}-row"]
            assert "Open" in events[f"invoice-{invoice.pk}-status"]

    run(scenario)
    assert renders == [("staff pages", invoice.pk)]


def test_changes_during_a_render_get_one_more_render_after_it(monkeypatch):
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def render(pk: int) -> list[tuple[str, str]]:
        calls.append(pk)
        if len(calls) == 1:
            started.set()
            release.wait(10)
        return [("status", f"state {len(calls)}")]

    follower = Follower(channel=lambda pk: f"thing:{pk}", render=render)
    monkeypatch.setitem(live._followers, "thing", {"page": follower})

    async def scenario() -> None:
        async with hub.subscribe("thing:1") as queue:
            live.changed("thing", 1)
            assert await asyncio.to_thread(started.wait, 10)
            live.changed("thing", 1)  # while the first render runs: one more after it,
            live.changed("thing", 1)  # shared by every note until it starts
            release.set()
            first, second = await next_message(queue), await next_message(queue)
            assert [first.html, second.html] == ["state 1", "state 2"]
            await asyncio.sleep(0.2)
            assert queue.empty()

    run(scenario)
    assert calls == [1, 1]


def test_a_render_that_fails_stops_neither_the_other_pages_nor_the_request(
    client, monkeypatch, caplog
):
    invoice = open_with_intent()

    def broken(pk: int) -> list[tuple[str, str]]:
        raise RuntimeError("template error")

    followers = {
        "broken": Follower(channel=invoice_channel, render=broken),
        **live.followers("invoice"),
    }
    monkeypatch.setitem(live._followers, "invoice", followers)

    async def scenario() -> None:
        async with hub.subscribe(invoice_channel(invoice.pk)) as queue:
            body = se.event("payment_intent.succeeded", se.intent(invoice))
            response = await asyncio.to_thread(deliver_on_a_thread, client, body)
            assert response.status_code == 200
            message = await next_message(queue)
            assert "Paid" in message.html

    run(scenario)
    assert "could not render broken for invoice" in caplog.text


def test_the_webhook_answers_200_when_redis_is_unreachable(client, settings, caplog, renders):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    invoice = open_with_intent()
    body = se.event("payment_intent.succeeded", se.intent(invoice))
    assert se.deliver(client, body).status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert "live: could not publish to redis" in caplog.text
    assert renders == []
