"""Signed webhook delivery with retries, holding and redelivery.

Each endpoint has one worker thread that sends jobs in ``(due time, sequence)`` order, so events
reach an endpoint in the order they were created unless a retry or a reverse release says
otherwise. The delivery log records every attempt for ``GET /_sim/deliveries``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import hmac
import http.client
import itertools
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stripe_sim.config import Endpoint, SimConfig
from stripe_sim.objects import new_id

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def sign(body: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``body``, as Stripe computes it."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


@dataclass
class Job:
    event_id: str
    event_type: str
    body: str
    endpoint: Endpoint
    attempt: int
    redelivery: bool
    generation: int


class _Worker:
    def __init__(self, owner: Deliverer, url: str) -> None:
        self.owner = owner
        self.url = url
        self.queue: list[tuple[float, int, Job]] = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, name=f"webhook {url}", daemon=True)
        self.thread.start()

    def push(self, due: float, seq: int, job: Job) -> None:
        with self.cond:
            heapq.heappush(self.queue, (due, seq, job))
            self.cond.notify()

    def clear(self) -> None:
        with self.cond:
            self.queue.clear()

    def _next(self) -> Job | None:
        with self.cond:
            while not self.owner.stopped:
                if self.queue:
                    due = self.queue[0][0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self.queue)[2]
                    self.cond.wait(wait)
                else:
                    self.cond.wait()
            return None

    def _run(self) -> None:
        while (job := self._next()) is not None:
            self.owner.attempt(job)


class Deliverer:
    def __init__(self, config: Callable[[], SimConfig]) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._workers: dict[str, _Worker] = {}
        self._seq = itertools.count()
        self._held: list[tuple[str, str, str]] = []
        self._log: list[dict[str, Any]] = []
        self._pending: dict[str, set[str]] = {}
        self._generation = 0
        self.stopped = False

    # -- publishing -------------------------------------------------------------------------

    def publish(self, event_id: str, event_type: str, body: str) -> int:
        """Queue a new event; returns how many endpoints it is pending for."""
        config = self._config()
        if not config.delivery_enabled or not config.endpoints:
            return 0
        with self._lock:
            self._pending[event_id] = {e.url for e in config.endpoints}
            if config.hold:
                self._held.append((event_id, event_type, body))
                return len(config.endpoints)
        self._enqueue([(event_id, event_type, body)], config.endpoints, redelivery=False)
        return len(config.endpoints)

    def release(self, order: str = "created") -> int:
        with self._lock:
            held, self._held = self._held, []
        if order == "reverse":
            held.reverse()
        self._enqueue(held, self._config().endpoints, redelivery=False)
        return len(held)

    def redeliver(self, event_id: str, event_type: str, body: str) -> int:
        endpoints = self._config().endpoints
        with self._lock:
            self._pending.setdefault(event_id, set()).update(e.url for e in endpoints)
        self._enqueue([(event_id, event_type, body)], endpoints, redelivery=True)
        return len(endpoints)

    def _enqueue(
        self, items: list[tuple[str, str, str]], endpoints: list[Endpoint], *, redelivery: bool
    ) -> None:
        due = time.monotonic()
        with self._lock:
            generation = self._generation
            for event_id, event_type, body in items:
                for endpoint in endpoints:
                    job = Job(event_id, event_type, body, endpoint, 1, redelivery, generation)
                    self._worker(endpoint.url).push(due, next(self._seq), job)

    def _worker(self, url: str) -> _Worker:
        worker = self._workers.get(url)
        if worker is None:
            worker = self._workers[url] = _Worker(self, url)
        return worker

    # -- sending ----------------------------------------------------------------------------

    def attempt(self, job: Job) -> None:
        config = self._config()
        started = time.time()
        status, error, response = _post(job, config.webhook_timeout)
        ok = status is not None and 200 <= status < 300
        with self._lock:
            if job.generation != self._generation:
                return
            self._log.append(
                {
                    "id": new_id("whdel", 16),
                    "event_id": job.event_id,
                    "event_type": job.event_type,
                    "endpoint": job.endpoint.url,
                    "attempt": job.attempt,
                    "status_code": status,
                    "ok": ok,
                    "error": error,
                    "response_body": response,
                    "redelivery": job.redelivery,
                    "created": started,
                    "duration_ms": round((time.time() - started) * 1000, 1),
                }
            )
            if ok:
                self._pending.get(job.event_id, set()).discard(job.endpoint.url)
                return
            if job.attempt >= config.max_attempts:
                return
            delay = config.retry_base * 2 ** (job.attempt - 1)
            retry = dataclasses.replace(job, attempt=job.attempt + 1)
            self._worker(job.endpoint.url).push(time.monotonic() + delay, next(self._seq), retry)

    # -- inspection and lifecycle -----------------------------------------------------------

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._log]

    def held(self) -> list[str]:
        with self._lock:
            return [event_id for event_id, _, _ in self._held]

    def pending_for(self, event_id: str) -> int:
        with self._lock:
            return len(self._pending.get(event_id, ()))

    def queued(self) -> int:
        with self._lock:
            return sum(len(worker.queue) for worker in self._workers.values())

    def reset(self) -> None:
        with self._lock:
            self._generation += 1
            self._held.clear()
            self._log.clear()
            self._pending.clear()
            for worker in self._workers.values():
                worker.clear()

    def stop(self) -> None:
        self.stopped = True
        for worker in list(self._workers.values()):
            with worker.cond:
                worker.cond.notify_all()


def _post(job: Job, timeout: float) -> tuple[int | None, str | None, str | None]:
    """POST one signed event; returns (status, error, start of the response body)."""
    url = urllib.parse.urlsplit(job.endpoint.url)
    conn_class = (
        http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    )
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    body = job.body.encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": sign(job.body, job.endpoint.secret),
        "User-Agent": USER_AGENT,
        "Accept": "*/*; q=0.5, application/xml",
        "Cache-Control": "no-cache",
        "Content-Length": str(len(body)),
    }
    try:
        conn = conn_class(url.hostname or "127.0.0.1", url.port, timeout=timeout)
        try:
            # Stripe does not follow redirects for webhooks; neither does http.client.
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read(2048).decode("utf-8", "replace")
            return response.status, None, text[:500]
        finally:
            conn.close()
    except TimeoutError:
        return None, f"timed out after {timeout:g}s", None
    except OSError as exc:
        return None, f"{type(exc).__name__}: {exc}", None
    except http.client.HTTPException as exc:
        return None, f"{type(exc).__name__}: {exc}", None
