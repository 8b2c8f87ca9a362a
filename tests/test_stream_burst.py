"""Many SSE streams opening at once (a deploy, a network blip: every open page
reconnects) against a real server process with a small connection pool: no stream
gets a 500, each gets its state or is told when to come back, and the ordinary
pages keep their connections meanwhile (invoices/stream_db.py)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from django.db import OperationalError
from django.test import RequestFactory

from invoices import stream_db
from tests.servers import Deployment, PortalServer

SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from tests.factories import make_open
user = get_user_model().objects.create_user("burst", password="x", is_staff=True)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
invoices = [make_open() for _ in range(3)]
result = {"tokens": [i.pay_token for i in invoices], "ids": [i.pk for i in invoices],
          "session": session.session_key}
"""

STREAMS = 240
SSE = {"Accept": "text/event-stream"}


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    # A loop on a thread of its own (the browser suite keeps one on the main thread).
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("burst"))
    deployment.seed = deployment.run_python(SETUP)
    yield deployment
    deployment.close()


@pytest.fixture(scope="module")
def server(deployment):
    # Three connections for the process: two page threads, one stream database thread.
    server = PortalServer(deployment, DATABASE_POOL_SIZE="3", WEB_THREADS="2")
    yield server
    server.stop()


async def first_words(client: httpx.AsyncClient, url: str, until: str) -> tuple[int, str]:
    """Status and text of a stream up to its first `until` event, or its end."""
    async with client.stream("GET", url, headers=SSE) as response:
        text = ""
        async for chunk in response.aiter_text():
            text += chunk
            if f"event: {until}" in text and text.endswith("\n\n"):
                break
        return response.status_code, text


async def listen(client: httpx.AsyncClient, url: str, until: str) -> dict[str, Any]:
    """Like a browser's EventSource: reconnect after the `retry:` a busy stream ends with."""
    answers = []
    for _attempt in range(10):
        status, text = await first_words(client, url, until)
        answers.append(status)
        if status != 200 or f"event: {until}" in text:
            return {"statuses": answers, "text": text}
        retry = re.search(r"^retry: (\d+)$", text, re.MULTILINE)
        assert retry, f"a stream that ended without its state must say when to retry: {text!r}"
        await asyncio.sleep(int(retry.group(1)) / 1000)
    return {"statuses": answers, "text": ""}


async def burst(server: PortalServer, seed: dict) -> tuple[list[dict], list[int]]:
    limits = httpx.Limits(max_connections=STREAMS + 20)
    timeout = httpx.Timeout(60)
    cookies = {"sessionid": seed["session"]}
    async with httpx.AsyncClient(limits=limits, timeout=timeout, cookies=cookies) as client:
        urls = [
            (f"{server.url}/pay/{seed['tokens'][n % 3]}/events/", "status")
            if n % 4
            else (f"{server.url}/live/staff/?since=1", f"invoice-{seed['ids'][0]}-row")
            for n in range(STREAMS)
        ]
        streams = [asyncio.create_task(listen(client, url, until)) for url, until in urls]
        pages = []
        for _ in range(10):  # ordinary pages while the streams open
            pages.append((await client.get(f"{server.url}/pay/{seed['tokens'][0]}/")).status_code)
        return await asyncio.gather(*streams), pages


def test_it_answers_a_burst_of_streams_without_a_500_and_pages_keep_working(deployment, server):
    since = server.log_size()
    results, pages = run(burst(server, deployment.seed))
    statuses = [status for result in results for status in result["statuses"]]
    assert set(statuses) == {200}, sorted(set(statuses))
    assert all("event: " in result["text"] for result in results)
    pay = [r["text"] for r in results if "event: status" in r["text"]]
    assert len(pay) == STREAMS - STREAMS // 4
    assert all("Amount due" in text for text in pay)
    assert pages == [200] * 10
    assert "Internal Server Error" not in server.logs(since)
    assert "PoolTimeout" not in server.logs(since)


def test_it_tells_a_stream_to_come_back_when_the_database_cannot_answer_in_time(
    deployment, server, monkeypatch
):
    if "postgres" not in deployment.env["DATABASE_URL"]:
        pytest.skip("locks a table on PostgreSQL")
    import psycopg

    token = deployment.seed["tokens"][1]
    locked = threading.Event()
    done = threading.Event()

    def hold_lock() -> None:
        with psycopg.connect(deployment.env["DATABASE_URL"]) as conn:
            conn.execute("LOCK TABLE invoices_invoice IN ACCESS EXCLUSIVE MODE")
            locked.set()
            done.wait(stream_db.STREAM_DB_WAIT_SECONDS + 5)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        response = httpx.get(f"{server.url}/pay/{token}/events/", headers=SSE, timeout=30)
        waited = time.monotonic() - started
    finally:
        done.set()
        holder.join()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    retry = re.search(r"^retry: (\d+)$", response.text, re.MULTILINE)
    assert retry
    assert 1000 <= int(retry.group(1)) <= 4000
    assert 1 <= int(response.headers["Retry-After"]) <= 4
    assert waited >= stream_db.STREAM_DB_WAIT_SECONDS - 0.5
    # Once the lock is gone the same stream opens with the current state.
    status, text = run(reopen(str(response.url)))
    assert status == 200
    assert "Amount due" in text


async def reopen(url: str) -> tuple[int, str]:
    async with httpx.AsyncClient(timeout=30) as client:
        return await first_words(client, url, "status")


def test_it_answers_a_client_that_is_not_an_event_source_with_a_503():
    def pool_timeout() -> None:
        raise OperationalError("couldn't get a connection after 10.00 sec")

    with pytest.raises(stream_db.Busy):
        run(stream_db.on_stream_db(pool_timeout))
    plain = stream_db.busy_response(RequestFactory().get("/pay/x/events/"))
    assert plain.status_code == 503
    assert 1 <= int(plain["Retry-After"]) <= 4
    browser = stream_db.busy_response(RequestFactory().get("/pay/x/events/", headers=SSE))
    assert browser.status_code == 200
    assert re.match(rb"retry: \d+\n", browser.content)
