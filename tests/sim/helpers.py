"""Shared helpers for the simulator's own tests: shape checks and a scripted webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def as_dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


# Fields Stripe's examples show but the pinned API version only returns when asked for with
# expand[] (Charge.refunds since 2022-11-15).
INCLUDABLE = {"charge": {"refunds"}}


def assert_shaped(obj: Any, fixtures: dict[str, dict[str, Any]], name: str | None = None) -> None:
    """``obj`` has at least every top-level key of Stripe's example of the same object."""
    data = as_dict(obj)
    kind = name or data["object"]
    expected = set(fixtures[kind]) - INCLUDABLE.get(kind, set())
    missing = sorted(expected - set(data))
    assert not missing, f"{data.get('object')} {data.get('id')} lacks {missing}"
    assert data.get("livemode", False) is False


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records webhook posts; answers with ``statuses`` in turn, then 200 forever."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            ok = self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            assert ok, f"expected {count} webhook posts, got {len(self.received)}"
            return list(self.received)


@contextmanager
def webhook_receiver(statuses: list[int] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(statuses=list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.arrived:
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.received.append(Received(dict(self.headers.items()), body))
                receiver.arrived.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
