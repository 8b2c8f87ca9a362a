"""Fault injection with real processes: a throwaway Redis, a local SMTP sink, the
task worker, the portal server and the Stripe simulator, each stopped, killed or
made to fail on purpose.

The suite runs in CI's PostgreSQL + Redis pass (`-m faults` selects it alone);
without PostgreSQL or `redis-server` it skips.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import stripe_events as se
from tests.servers import DEPLOYMENT_PORTAL_ID, ROOT, Deployment, PortalServer, free_port

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    skip = None
    if not ON_POSTGRES:
        skip = pytest.mark.skip(reason="fault suite runs on PostgreSQL (CI's second pass)")
    elif shutil.which("redis-server") is None:
        skip = pytest.mark.skip(reason="fault suite needs redis-server")
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.faults)
            if skip is not None:
                item.add_marker(skip)


def wait_until(check: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class Managed:
    """One child process with its output in a log file."""

    def __init__(self, name: str, log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def spawn(self, args: list[str], env: dict[str, str] | None = None) -> None:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.running:
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class RedisServer(Managed):
    def __init__(self, log_dir: Path) -> None:
        super().__init__("redis", log_dir)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.spawn(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ]
        )
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(answers, 10, "redis-server")
        return self


class SmtpSink(Managed):
    def __init__(self, log_dir: Path) -> None:
        super().__init__("smtp", log_dir)
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.directory = log_dir / "mailbox"

    def start(self, *, reject_first: int = 0, hold: float = 0) -> SmtpSink:
        self.spawn(
            [
                *(sys.executable, "-m", "tests.faults.smtp_sink", "--port", str(self.port)),
                *("--dir", str(self.directory), "--reject-first", str(reject_first)),
                *("--hold", str(hold)),
            ]
        )
        wait_until(lambda: "ready" in self.logs(), 10, "the SMTP sink")
        return self

    def messages(self) -> list[Message]:
        if not self.directory.exists():
            return []
        files = sorted(self.directory.glob("*.eml"), key=lambda p: int(p.stem))
        return [email.message_from_bytes(path.read_bytes()) for path in files]

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages() if address in (m["To"] or "")]


class Worker(Managed):
    def __init__(self, deployment: Deployment, log_dir: Path, **env: str) -> None:
        super().__init__(f"worker-{free_port()}", log_dir)
        self.env = {**deployment.env, **env}

    def start(self) -> Worker:
        self.spawn(
            [
                *(sys.executable, "manage.py", "run_worker", "--interval", "0.2"),
                *("--no-startup-delay", "--no-reload"),
            ],
            self.env,
        )
        return self


SETUP = """
from tests.factories import make_open
from invoices.models import Payment
invoices = [make_open() for _ in range({count})]
# Stored as the portal stores the PaymentIntents it creates (see payment_event).
for i in invoices:
    Payment.objects.create(invoice=i, amount=i.total, currency=i.currency,
                           stripe_payment_intent_id=f"pi_fault_{{i.pk}}")
result = [
    {{"id": i.pk, "token": i.pay_token, "total": i.total, "email": i.customer.email}}
    for i in invoices
]
"""


def make_invoices(deployment: Deployment, count: int = 1) -> list[dict[str, Any]]:
    return deployment.run_python(SETUP.format(count=count))


def payment_event(invoice: dict[str, Any]) -> bytes:
    intent = {
        "id": f"pi_fault_{invoice['id']}",
        "object": "payment_intent",
        "amount": invoice["total"],
        "amount_received": invoice["total"],
        "currency": "usd",
        "status": "succeeded",
        "metadata": {"portal": DEPLOYMENT_PORTAL_ID, "invoice_id": str(invoice["id"])},
        "latest_charge": None,
    }
    return json.dumps(se.event("payment_intent.succeeded", intent)).encode()


def deliver(server: PortalServer, payload: bytes, timeout: float = 15) -> httpx.Response:
    return httpx.post(
        f"{server.url}/invoices/wh/",
        content=payload,
        headers={"Stripe-Signature": se.signature(payload), "Content-Type": "application/json"},
        timeout=timeout,
    )


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def processes(request: pytest.FixtureRequest, log_dir: Path):
    """Everything a test starts is stopped at its end; logs are shown when it fails."""
    started: list[Managed | PortalServer] = []
    yield started
    for process in reversed(started):
        process.stop()
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        for path in sorted(log_dir.glob("*.log")):
            print(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
