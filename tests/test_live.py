"""Live updates over Server-Sent Events, against real uvicorn processes."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from invoices.live import Hub, Message, changed, notes_channel
from tests import stripe_events as se
from tests.servers import (
    DEPLOYMENT_PORTAL_ID,
    Deployment,
    PortalServer,
    SSEListener,
    redis_url,
)

SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from tests.factories import make_open
user = get_user_model().objects.create_user("live", password="x", is_staff=True)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
invoices = [make_open() for _ in range(4)]
from invoices.models import Payment
for i in invoices:
    Payment.objects.create(invoice=i, amount=i.total, currency=i.currency,
                           stripe_payment_intent_id=f"pi_live_{i.pk}")
result = [
    {"id": i.pk, "token": i.pay_token, "total": i.total, "session": session.session_key}
    for i in invoices
]
"""


def pay_webhook(server: PortalServer, invoice: dict) -> httpx.Response:
    intent = {
        "id": f"pi_live_{invoice['id']}",
        "object": "payment_intent",
        "amount": invoice["total"],
        "amount_received": invoice["total"],
        "currency": "usd",
        "status": "succeeded",
        "metadata": {"portal": DEPLOYMENT_PORTAL_ID, "invoice_id": str(invoice["id"])},
        "latest_charge": None,
    }
    payload = json.dumps(se.event("payment_intent.succeeded", intent)).encode()
    return httpx.post(
        f"{server.url}/invoices/wh/",
        content=payload,
        headers={"Stripe-Signature": se.signature(payload), "Content-Type": "application/json"},
    )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("live"))
    deployment.invoices = deployment.run_python(SETUP)
    yield deployment
    deployment.close()


@pytest.fixture(scope="module")
def server(deployment):
    server = PortalServer(deployment)
    yield server
    server.stop()


def test_the_customer_page_gets_the_current_state_then_the_change(deployment, server):
    invoice = deployment.invoices[0]
    listener = SSEListener(f"{server.url}/pay/{invoice['token']}/events/")
    first = listener.next()
    assert first.event == "status"
    assert "Amount due" in first.data
    assert pay_webhook(server, invoice).status_code == 200
    paid = listener.wait_for(lambda e: e.event == "status")
    assert "Paid" in paid.data
    assert 'id="pay-status"' in paid.data
    listener.close()


def test_the_staff_feed_flips_the_row_live_and_refuses_strangers(deployment, server):
    invoice = deployment.invoices[1]
    anonymous = httpx.get(f"{server.url}/live/staff/", follow_redirects=False)
    assert anonymous.status_code == 302
    since = int(time.time() * 1_000_000)
    listener = SSEListener(
        f"{server.url}/live/staff/?since={since}", cookies={"sessionid": invoice["session"]}
    )
    assert pay_webhook(server, invoice).status_code == 200
    # (the stream may first resend recent states, so wait for the paid one)
    row_event = f"invoice-{invoice['id']}-row"
    row = listener.wait_for(lambda e: e.event == row_event and "Paid" in e.data)
    assert f'id="invoice-row-{invoice["id"]}"' in row.data
    listener.close()


def test_a_reconnecting_staff_page_catches_up(deployment, server):
    invoice = deployment.invoices[2]
    since = int(time.time() * 1_000_000)
    assert pay_webhook(server, invoice).status_code == 200  # while nobody listens
    listener = SSEListener(
        f"{server.url}/live/staff/?since={since}", cookies={"sessionid": invoice["session"]}
    )
    row = listener.wait_for(lambda e: e.event == f"invoice-{invoice['id']}-row")
    assert "Paid" in row.data
    listener.close()


def test_a_webhook_on_one_process_reaches_a_listener_on_another(deployment):
    url = redis_url()
    if url is None:
        pytest.skip("needs Redis (REDIS_URL or 127.0.0.1:6379); CI runs it")
    first = PortalServer(deployment, REDIS_URL=url)
    second = PortalServer(deployment, REDIS_URL=url)
    try:
        invoice = deployment.invoices[3]
        listener = SSEListener(f"{second.url}/pay/{invoice['token']}/events/")
        assert "Amount due" in listener.next().data
        assert pay_webhook(first, invoice).status_code == 200
        paid = listener.wait_for(lambda e: e.event == "status")
        assert "Paid" in paid.data
        listener.close()
    finally:
        first.stop()
        second.stop()


def test_it_hands_one_encoded_message_to_every_listener_on_the_loop_or_from_a_thread(settings):
    settings.REDIS_URL = ""

    async def scenario() -> None:
        hub = Hub()
        async with hub.subscribe("c") as first, hub.subscribe("c", "d") as second:
            message = Message("status", "<p>a\nb</p>", "1")
            hub.dispatch("c", message)  # on the listeners' loop (the Redis reader): at once
            assert first.get_nowait() is message
            assert second.get_nowait() is message
            assert message.encode() == b"id: 1\nevent: status\ndata: <p>a\ndata: b</p>\n\n"
            later = Message("status", "x", "2")
            await asyncio.to_thread(hub.dispatch, "d", later)  # a request thread
            assert await asyncio.wait_for(second.get(), 5) is later
            assert first.empty()
        hub.dispatch("c", message)  # no listeners left: nothing to do, no error

    # On a thread of its own: the browser suite keeps a loop running on the main thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result()


def test_deployments_on_other_redis_indexes_do_not_hear_each_others_changes(settings):
    """Pub/sub channels ignore the database index: the notes' channel names it."""
    url = redis_url()
    if url is None:
        pytest.skip("needs Redis (REDIS_URL or 127.0.0.1:6379); CI runs it")
    import redis

    base = url.rsplit("/", 1)[0]
    ours, theirs = f"{base}/14", f"{base}/15"
    subscribers = {}
    for name, index_url in (("ours", ours), ("theirs", theirs)):
        settings.REDIS_URL = index_url
        pubsub = redis.Redis.from_url(index_url).pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(notes_channel())
        subscribers[name] = pubsub
    settings.REDIS_URL = ours
    changed("invoice", 7)

    def heard(pubsub) -> list[bytes]:
        messages, deadline = [], time.monotonic() + 1
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.1)
            if message:
                messages.append(message["data"])
        pubsub.close()
        return messages

    assert heard(subscribers["ours"]) == [b"invoice:7"]
    assert heard(subscribers["theirs"]) == []
