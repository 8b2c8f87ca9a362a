"""HTTP front end: a threading stdlib server that hands each request to ``Simulator.handle``."""

from __future__ import annotations

import socket
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast

from stripe_sim.app import Simulator
from stripe_sim.config import SimConfig
from stripe_sim.wire import Request, Response


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    sim: Simulator

    def __init__(self, config: SimConfig) -> None:
        host = "127.0.0.1" if config.host == "localhost" else config.host
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, config.port), Handler)
        config.port = self.server_address[1]
        self.sim = Simulator(config)

    @property
    def base_url(self) -> str:
        host = self.sim.config.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.sim.config.port}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The SDK keeps connections alive; without TCP_NODELAY a response written in two
    # sends waits for the client's delayed ACK (~40 ms a call).
    disable_nagle_algorithm = True
    server_version = "StripeSimulator"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def _serve(self) -> None:
        started = time.perf_counter()
        sim = cast(SimulatorServer, self.server).sim
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        method = "GET" if self.command == "HEAD" else self.command
        request = Request(method, self.path, headers, body)
        try:
            response = sim.handle(request)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = Response.json(
                500,
                {"error": {"message": "The simulator hit an internal error.", "type": "api_error"}},
            )
        # Logged before answering, so a client that reads the log after its answer finds the line.
        if not sim.config.quiet:
            elapsed = (time.perf_counter() - started) * 1000
            request_id = f" {response.request_id}" if response.request_id else ""
            sys.stderr.write(
                f'{self.client_address[0]} "{self.command} {self.path}" {response.status} '
                f"{elapsed:.1f}ms{request_id}\n"
            )
            sys.stderr.flush()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        # Headers and body leave in one write (see disable_nagle_algorithm).
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(response.body)
        self.flush_headers()

    def log_message(self, format: str, *args: object) -> None:
        # Requests are logged once, with timing, in _serve; drop http.server's own lines.
        return
