"""The worker killed mid-task; PostgreSQL connections terminated mid-run."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from tests.faults.conftest import (
    SmtpSink,
    Worker,
    deliver,
    make_invoices,
    payment_event,
    wait_until,
)
from tests.servers import Deployment, PortalServer

STATE = """
from django_tasks_db.models import DBTaskResult
from invoices.models import EmailLog
result = {{
    "emails": sorted(
        [e.kind, e.status, e.attempts] for e in EmailLog.objects.filter(invoice_id={id})
    ),
    "tasks": sorted(DBTaskResult.objects.values_list("status", flat=True)),
}}
"""


@pytest.fixture
def portal(tmp_path):
    deployment = Deployment(tmp_path, TASKS_BACKEND="database", TASKS_LEASE_SECONDS="3")
    yield deployment
    deployment.close()


def test_a_task_whose_worker_was_killed_is_completed_once(portal, processes, log_dir):
    # The mail server holds every message for a minute: the worker is mid-send.
    slow = SmtpSink(log_dir).start(hold=60)
    processes.append(slow)
    portal.env["EMAIL_URL"] = slow.url
    (invoice,) = make_invoices(portal)
    server = PortalServer(portal)
    first = Worker(portal, log_dir).start()
    shell = portal.shell()
    processes += [server, first]
    try:
        assert deliver(server, payment_event(invoice)).status_code == 200
        wait_until(
            lambda: "sending" in {e[1] for e in shell.run(STATE.format(**invoice))["emails"]},
            30,
            "a delivery under way",
        )
        first.kill9()
        slow.kill9()
        stuck = shell.run(STATE.format(**invoice))
        assert "RUNNING" in stuck["tasks"]

        # The mail server is back (same address); a new worker takes the task up.
        sink = SmtpSink(log_dir)
        sink.port, sink.url, sink.directory = slow.port, slow.url, slow.directory
        sink.start()
        second = Worker(portal, log_dir).start()
        processes += [sink, second]

        def settled() -> bool:
            # The new worker may send the owed email through a fresh task before its
            # lease check (every TASKS_LEASE_SECONDS) has made the dead worker's task READY.
            state = shell.run(STATE.format(**invoice))
            return all(e[1] == "sent" for e in state["emails"]) and "RUNNING" not in state["tasks"]

        wait_until(settled, 60, "both emails sent and no task left running")
        final = shell.run(STATE.format(**invoice))
    finally:
        shell.close()

    assert len(sink.to(invoice["email"])) == 1
    assert len(sink.messages()) == 2
    assert "RUNNING" not in final["tasks"]
    assert set(final["tasks"]) == {"SUCCESSFUL"}
    # The interrupted email took a second attempt; the other went out at its first.
    assert sorted(e[2] for e in final["emails"]) in ([1, 2], [2, 2])


PAID = """
from django.db.models import Count, Q
from invoices.models import EmailLog, Invoice, Payment, StripeEvent
ids = {ids}
result = {{
    "invoices": sorted(
        [i.status, i.amount_paid == i.total, i.amount_due]
        for i in Invoice.objects.filter(pk__in=ids)
    ),
    "payments": Payment.objects.filter(invoice_id__in=ids, status="succeeded").count(),
    "receipts": EmailLog.objects.filter(invoice_id__in=ids, kind="receipt").count(),
    "events": StripeEvent.objects.filter(status="processed").count(),
}}
"""


def terminate_backends(database: str, rounds: int = 10, every: float = 0.5) -> int:
    """Kill every connection to `database` (but this one), in rounds, like a restart."""
    base = urlsplit(portal_database_url())._replace(path="/postgres").geturl()
    killed = 0
    with psycopg.connect(base, autocommit=True) as conn:
        for _ in range(rounds):
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchall()
            killed += sum(1 for (ok,) in rows if ok)
            time.sleep(every)
    return killed


def portal_database_url() -> str:
    import os

    return os.environ["DATABASE_URL"]


def deliver_until_acknowledged(server: PortalServer, payload: bytes) -> int:
    """What Stripe does: resend until a 2xx (here quickly, not over three days)."""
    for attempt in range(40):
        try:
            response = deliver(server, payload, timeout=20)
            if response.status_code < 300:
                return attempt + 1
        except httpx.HTTPError:
            pass
        time.sleep(0.1 * (attempt + 1))
    raise AssertionError("the webhook was never acknowledged")


def test_no_payment_is_lost_or_doubled_when_connections_are_terminated(portal, processes, log_dir):
    invoices = make_invoices(portal, 12)
    server = PortalServer(portal)
    worker = Worker(portal, log_dir).start()
    processes += [server, worker]
    database = urlsplit(portal.env["DATABASE_URL"]).path.lstrip("/")
    payloads = [payment_event(invoice) for invoice in invoices]

    with ThreadPoolExecutor(5) as pool:
        killer = pool.submit(terminate_backends, database)
        # Every event is delivered twice, as Stripe may, while connections die.
        attempts = list(pool.map(lambda p: deliver_until_acknowledged(server, p), payloads * 2))
        killed = killer.result()

    assert killed > 0
    assert all(attempts)
    # The pool reconnects: the portal answers again, and so does the worker.
    wait_until(lambda: httpx.get(f"{server.url}/healthz").status_code == 200, 20, "healthz")
    assert worker.running
    state = portal.run_python(PAID.format(ids=[i["id"] for i in invoices]))
    assert state["invoices"] == [["paid", True, 0]] * len(invoices)
    assert state["payments"] == len(invoices)
    assert state["receipts"] == len(invoices)
    assert state["events"] == len(invoices)
