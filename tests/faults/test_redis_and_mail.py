"""Redis stopped during a payment; the mail server refusing, then accepting."""

from __future__ import annotations

import pytest

from tests.faults.conftest import (
    RedisServer,
    SmtpSink,
    Worker,
    deliver,
    make_invoices,
    payment_event,
    wait_until,
)
from tests.servers import Deployment, PortalServer, SSEListener

EMAILS = """
from invoices.models import EmailLog
result = sorted(
    [e.kind, e.status, e.attempts] for e in EmailLog.objects.filter(invoice_id={id})
)
"""


@pytest.fixture
def deployment(tmp_path):
    built = []

    def make(**env: str) -> Deployment:
        deployment = Deployment(tmp_path, TASKS_BACKEND="database", **env)
        built.append(deployment)
        return deployment

    yield make
    for deployment in built:
        deployment.close()


def test_it_books_the_payment_and_sends_the_receipt_with_redis_stopped(
    deployment, processes, log_dir
):
    redis = RedisServer(log_dir).start()
    sink = SmtpSink(log_dir).start()
    processes += [redis, sink]
    portal = deployment(REDIS_URL=redis.url, EMAIL_URL=sink.url, LIVE_DEGRADED_REFRESH_SECONDS="1")
    (invoice,) = make_invoices(portal)
    server = PortalServer(portal)
    processes.append(server)
    stream = f"{server.url}/pay/{invoice['token']}/events/"
    listener = SSEListener(stream)
    assert "Amount due" in listener.next().data

    redis.stop()
    payload = payment_event(invoice)
    response = deliver(server, payload)

    assert response.status_code == 200
    assert response.text == "processed"
    assert server.process.poll() is None
    # No bus, so the open page's stream ends; the reconnect is told the invoice is paid.
    listener._thread.join(10)
    assert not listener._thread.is_alive()
    assert "Paid" in SSEListener(stream).next().data
    # Pages still work.
    assert server.process.poll() is None

    worker = Worker(portal, log_dir).start()
    processes.append(worker)
    wait_until(lambda: sink.to(invoice["email"]), 30, "the receipt")
    wait_until(lambda: len(sink.messages()) == 2, 30, "the staff notice")

    again = deliver(server, payload)
    assert again.status_code == 200
    assert again.text == "duplicate"
    receipts = sink.to(invoice["email"])
    assert len(receipts) == 1
    assert "receipt" in receipts[0]["Subject"].lower()
    assert portal.run_python(EMAILS.format(id=invoice["id"])) == [
        ["notice", "sent", 1],
        ["receipt", "sent", 1],
    ]


def test_it_delivers_once_after_the_mail_server_refused_then_accepted(
    deployment, processes, log_dir
):
    sink = SmtpSink(log_dir)  # not started: connections are refused
    processes.append(sink)
    portal = deployment(EMAIL_URL=sink.url, EMAIL_RETRY_DELAYS="3,3,3,3,3")
    (invoice,) = make_invoices(portal)
    server = PortalServer(portal)
    worker = Worker(portal, log_dir).start()
    shell = portal.shell()
    processes += [server, worker]

    def emails() -> list[list]:
        return shell.run(EMAILS.format(id=invoice["id"]))

    try:
        assert deliver(server, payment_event(invoice)).status_code == 200
        wait_until(
            lambda: any(kind == "receipt" and tries >= 1 for kind, _, tries in emails()),
            30,
            "a refused first attempt",
        )
        assert sink.messages() == []
        # The server comes back but turns the next message away (451) once more.
        sink.start(reject_first=1)
        wait_until(lambda: all(e[1] == "sent" for e in emails()), 60, "both emails sent")
        attempts = {kind: tries for kind, _, tries in emails()}
    finally:
        shell.close()

    assert len(sink.to(invoice["email"])) == 1
    assert attempts["receipt"] >= 2
    assert len(sink.messages()) == 2  # the receipt and the staff notice, once each
