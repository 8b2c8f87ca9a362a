"""Run the portal as real server processes (uvicorn, the production stack) for
tests that cross process boundaries: live updates, scale-out, the browser suite.

A `Deployment` is a database of its own (a SQLite file, or a fresh PostgreSQL
database when the tests run on PostgreSQL) plus the environment every process
of it shares; `PortalServer` is one ASGI server process of a deployment.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url() -> str | None:
    """The Redis the suite may use: REDIS_URL, or a local one if it answers."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        return None
    return url


DEPLOYMENT_PORTAL_ID = "tests-deployment"


class Deployment:
    """One database and one environment, shared by every process started from it."""

    def __init__(self, tmp: Path, *, redis: str | None = None, **env: str) -> None:
        self.tmp = tmp
        self.mail_dir = tmp / "mail"  # EMAIL_URL: one .log file per connection, raw messages
        self._pg_name: str | None = None
        base = os.environ.get("DATABASE_URL", "")
        if base.startswith(("postgres://", "postgresql://")):
            self._pg_name = f"portal_srv_{uuid.uuid4().hex[:10]}"
            self._pg_admin("CREATE DATABASE {}")
            parts = urlsplit(base)
            database_url = parts._replace(path=f"/{self._pg_name}").geturl()
        else:
            database_url = f"sqlite:///{tmp}/portal.sqlite3"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))},
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "true",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis or "",
            # Four slashes before the absolute path: django-environ drops the path's first
            # slash, so filemail:///tmp/x would write to tmp/x under the working directory.
            "EMAIL_URL": f"filemail:///{self.mail_dir}",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # Every process of one deployment stamps and accepts the same PaymentIntents.
            "PORTAL_ID": DEPLOYMENT_PORTAL_ID,
            **env,
        }
        self.manage("migrate", "--no-input", "-v0")

    def _pg_admin(self, statement: str) -> None:
        import psycopg

        base = os.environ["DATABASE_URL"]
        admin = urlsplit(base)._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(statement.format(self._pg_name))

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def run_python(self, code: str) -> Any:
        """Run Django code in this deployment; the code's last line assigns `result`."""
        script = "import json\n" + code + "\nprint('RESULT=' + json.dumps(result))"
        output = self.manage("shell", "-c", script)
        line = next(x for x in output.splitlines() if x.startswith("RESULT="))
        return json.loads(line.removeprefix("RESULT="))

    def shell(self) -> DjangoShell:
        """A Django process of this deployment that stays up, for many quick `run()`s."""
        return DjangoShell(self)

    def close(self) -> None:
        if self._pg_name:
            self._pg_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            self._pg_name = None


class DjangoShell:
    """`Deployment.run_python` without Django's start-up on every call: one
    `manage.py shell` that runs each snippet sent to it, in a fresh namespace, and
    answers with its `result` (JSON). Not thread-safe; `close()` when done."""

    LOOP = r"""
import contextlib, json, sys, traceback
from django.db import close_old_connections
for line in sys.stdin:
    scope = {"json": json}
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the answers
            exec(json.loads(line), scope)
        reply = {"result": scope.get("result")}
    except BaseException:
        reply = {"error": traceback.format_exc()}
    finally:
        close_old_connections()
    sys.__stdout__.write("RESULT=" + json.dumps(reply) + "\n")
    sys.__stdout__.flush()
"""

    def __init__(self, deployment: Deployment, timeout: float = 60) -> None:
        self.timeout = timeout
        self.log_path = deployment.tmp / "shell.log"
        self._log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", self.LOOP],
            cwd=ROOT,
            env=deployment.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._answers: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("RESULT="):
                self._answers.put(line.removeprefix("RESULT="))
        self._answers.put("")  # the process exited

    def run(self, code: str) -> Any:
        """Run Django code in the deployment; the code assigns `result` (JSON-able)."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(code) + "\n")
        self.process.stdin.flush()
        try:
            answer = self._answers.get(timeout=self.timeout)
        except queue.Empty:
            raise TimeoutError(f"the Django shell did not answer in {self.timeout}s") from None
        if not answer:
            raise RuntimeError(f"the Django shell exited; see {self.log_path}")
        reply = json.loads(answer)
        if "error" in reply:
            raise RuntimeError(f"Django shell code failed:\n{reply['error']}")
        return reply["result"]

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class PortalServer:
    """`uvicorn portal.asgi:application` on a free loopback port."""

    def __init__(
        self, deployment: Deployment, *, workers: int = 1, port: int | None = None, **env: str
    ) -> None:
        # `port`: when the deployment's environment must name the URL before the server
        # starts (SITE_URL with DEBUG=false, a webhook endpoint); else a free one.
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = deployment.tmp / f"server-{self.port}.log"
        self.env = {**deployment.env, "SITE_URL": self.url, **env}
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "portal.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "1",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer /healthz in {timeout}s:\n{self.logs()}")

    def logs(self, since: int = 0) -> str:
        """The server's output; `since`: a `log_size()` taken earlier, for what came after."""
        self._log.flush()
        with self.log_path.open("rb") as log:
            log.seek(since)
            return log.read().decode("utf-8", errors="replace")

    def log_size(self) -> int:
        self._log.flush()
        return self.log_path.stat().st_size

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@dataclass
class SSEEvent:
    event: str
    data: str
    id: str = ""


@dataclass
class SSEListener:
    """Reads a Server-Sent Events stream in a thread; `next()` waits for an event."""

    url: str
    cookies: dict[str, str] = field(default_factory=dict)
    events: queue.Queue[SSEEvent] = field(default_factory=queue.Queue)
    connected: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self.connected.wait(10):
            raise RuntimeError(f"could not connect to {self.url}")

    def _run(self) -> None:
        timeout = httpx.Timeout(5, read=None)
        with (
            httpx.Client(cookies=self.cookies, timeout=timeout) as client,
            client.stream("GET", self.url) as response,
        ):
            response.raise_for_status()
            self.connected.set()
            fields: dict[str, list[str]] = {}
            try:
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line == "":
                        if "event" in fields or "data" in fields:
                            self.events.put(
                                SSEEvent(
                                    event="".join(fields.get("event", ["message"])),
                                    data="\n".join(fields.get("data", [])),
                                    id="".join(fields.get("id", [])),
                                )
                            )
                        fields = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        fields.setdefault(name, []).append(value.removeprefix(" "))
            except httpx.HTTPError:
                return  # the server went away (stopped at the end of a test)

    def next(self, timeout: float = 10) -> SSEEvent:
        return self.events.get(timeout=timeout)

    def wait_for(self, predicate: Any, timeout: float = 10) -> SSEEvent:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching event from {self.url}")
            event = self.next(remaining)
            if predicate(event):
                return event

    def close(self) -> None:
        self._stop.set()


def webhooks_settled(sim: Any) -> bool:
    """Every webhook the simulator owes is answered, or given up on as Stripe would
    (every retry failed), or held until a release the test never made: nothing is
    still on its way to the portal."""
    answer = sim.get("/_sim/deliveries")
    held = set(answer["held"])
    max_attempts = sim.config()["max_attempts"]
    failed: dict[tuple[str, str], int] = {}
    for delivery in answer["data"]:
        if not delivery["ok"]:
            key = (delivery["event_id"], delivery["endpoint"])
            failed[key] = failed.get(key, 0) + 1
    for event in sim.events():
        if event["pending_webhooks"] == 0 or event["id"] in held:
            continue
        given_up = sum(
            1 for (eid, _), n in failed.items() if eid == event["id"] and n >= max_attempts
        )
        if event["pending_webhooks"] > given_up:
            return False
    return True


def settle_webhooks(sim: Any, timeout: float = 15) -> None:
    """Stop new deliveries and wait for those under way: a webhook landing after the
    test would be applied to the next test's database (the live server outlives tests)."""
    sim.configure(delivery_enabled=False)
    sim.wait_for(lambda: webhooks_settled(sim), timeout=timeout, what="every webhook delivered")
