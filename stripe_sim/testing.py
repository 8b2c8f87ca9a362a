"""Run the simulator as a subprocess from tests and drive its ``/_sim`` controls.

Example::

    with SimulatorProcess(webhook_urls=[url]) as sim:
        client = sim.client()  # a stripe.StripeClient pointed at the simulator
        ...
        sim.wait_for_delivery(event_type="payment_intent.succeeded")
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from stripe_sim import config as defaults

if TYPE_CHECKING:
    import stripe

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class SimulatorError(RuntimeError):
    pass


class SimulatorProcess:
    """A ``python -m stripe_sim`` child process on a free loopback port.

    Attributes: ``api_base`` (e.g. ``http://127.0.0.1:53123``), ``js_url`` (``<api_base>/v3/``),
    ``secret_key``, ``publishable_key``, ``webhook_secret``, ``log_path`` (its stderr, removed on
    ``stop()`` unless ``keep_log=True``).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        secret_key: str = defaults.DEFAULT_SECRET_KEY,
        publishable_key: str = defaults.DEFAULT_PUBLISHABLE_KEY,
        webhook_secret: str = defaults.DEFAULT_WEBHOOK_SECRET,
        webhook_urls: Iterable[str] = (),
        delivery_enabled: bool = True,
        hold: bool = False,
        processing_delay: float = 3.0,
        refund_delay: float = 3.0,
        settle_delay: float = 3.0,
        clock_offset: float = 0.0,
        payment_methods: Iterable[str] = ("card",),
        account: str | None = None,
        retry_base: float = 1.0,
        max_attempts: int = 5,
        webhook_timeout: float = 10.0,
        quiet: bool = False,
        startup_timeout: float = 15.0,
        keep_log: bool = False,
        python: str = sys.executable,
    ) -> None:
        self.host = host
        self.port = port
        self.secret_key = secret_key
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        self.api_base = ""
        self.startup_timeout = startup_timeout
        self.keep_log = keep_log
        self._proc: subprocess.Popen[str] | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the process
            prefix="stripe_sim-", suffix=".log", delete=False
        )
        self.log_path = Path(self._log.name)
        self._args = [
            python,
            "-m",
            "stripe_sim",
            f"--host={host}",
            f"--port={port}",
            f"--secret-key={secret_key}",
            f"--publishable-key={publishable_key}",
            f"--webhook-secret={webhook_secret}",
            f"--processing-delay={processing_delay}",
            f"--refund-delay={refund_delay}",
            f"--settle-delay={settle_delay}",
            f"--clock-offset={clock_offset}",
            f"--payment-methods={','.join(payment_methods)}",
            *([f"--account={account}"] if account else []),
            f"--retry-base={retry_base}",
            f"--max-attempts={max_attempts}",
            f"--webhook-timeout={webhook_timeout}",
            *(f"--webhook-url={url}" for url in webhook_urls),
            *(["--no-delivery"] if not delivery_enabled else []),
            *(["--hold"] if hold else []),
            *(["--quiet"] if quiet else []),
        ]

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> SimulatorProcess:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")])
        )
        env["PYTHONUNBUFFERED"] = "1"
        self._proc = subprocess.Popen(
            self._args,
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert self._proc.stdout is not None
        # The first stdout line names the bound address; reading it avoids guessing a free port.
        ready, _, _ = select.select([self._proc.stdout], [], [], self.startup_timeout)
        line = self._proc.stdout.readline() if ready else ""
        found = re.search(r"listening on (http://\S+)", line)
        try:
            if not found:
                raise SimulatorError(f"stripe_sim did not start: {line!r}\n{self.logs()}")
            self.api_base = found.group(1)
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                self.get("/_sim/healthz")
                return
            except (OSError, SimulatorError):
                if time.monotonic() > deadline or (self._proc and self._proc.poll() is not None):
                    raise SimulatorError(
                        f"stripe_sim never became healthy\n{self.logs()}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc.stdout:
            proc.stdout.close()
        self._log.close()
        if not self.keep_log:
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def js_url(self) -> str:
        return f"{self.api_base}/v3/"

    def logs(self) -> str:
        """The simulator's stderr so far: one line per request, plus any traceback."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    # -- HTTP helpers -----------------------------------------------------------------------

    def request(self, method: str, path: str, data: Any = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(self.api_base + path, data=body, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            raise SimulatorError(f"{method} {path} -> {exc.code}: {exc.read().decode()}") from exc

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, data: Any = None) -> Any:
        return self.request("POST", path, {} if data is None else data)

    def client(self, **kwargs: Any) -> stripe.StripeClient:
        """A ``stripe.StripeClient`` using the secret key and pointed at this simulator."""
        import stripe

        kwargs.setdefault("base_addresses", {"api": self.api_base})
        return stripe.StripeClient(self.secret_key, **kwargs)

    # -- controls ---------------------------------------------------------------------------

    def reset(self, *, config: bool = True) -> None:
        """Forget every object, event and delivery. ``config=True`` also restores the settings
        the process started with, undoing earlier ``configure`` calls."""
        self.post("/_sim/reset", {"config": config})

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the simulator clock on; whatever falls due (debits settling, refunds) happens
        before this returns."""
        return self.post("/_sim/advance", {"seconds": seconds})

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change settings: ``webhook_endpoints=[url | {"url", "secret"}]``, ``delivery_enabled``,
        ``hold``, ``processing_delay``, ``settle_delay``, ``payment_methods``, ``refund_delay``,
        ``retry_base``, ``max_attempts``, ``webhook_timeout``, ``webhook_secret``, ``js_delay``,
        ``js_unavailable``, ``account``
        (switching it hides every object of the previous account, as a key switch would)."""
        return self.post("/_sim/config", settings)

    def config(self) -> dict[str, Any]:
        return self.get("/_sim/config")

    def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        """Every webhook attempt so far, oldest first; filter by event_id, type or endpoint."""
        query = "&".join(f"{key}={value}" for key, value in filters.items())
        return self.get("/_sim/deliveries" + (f"?{query}" if query else ""))["data"]

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Every event so far, oldest first."""
        return self.get("/_sim/events" + (f"?type={event_type}" if event_type else ""))["data"]

    def redeliver(self, event: str | dict[str, Any]) -> None:
        event_id = event if isinstance(event, str) else event["id"]
        self.post(f"/_sim/events/{event_id}/redeliver")

    def release(self, order: str = "created") -> int:
        return self.post("/_sim/release", {"order": order})["released"]

    def succeed(self, payment_intent_id: str) -> dict[str, Any]:
        return self.post(f"/_sim/payment_intents/{payment_intent_id}/succeed")

    def dispute(self, payment_intent_id: str, **options: Any) -> dict[str, Any]:
        return self.post(f"/_sim/payment_intents/{payment_intent_id}/dispute", options)

    def settle_refund(self, refund_id: str, outcome: str) -> dict[str, Any]:
        """Finish a refund now: ``outcome`` is ``succeed`` (a pending one) or ``fail``."""
        return self.post(f"/_sim/refunds/{refund_id}/{outcome}")

    def close_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        return self.post(f"/_sim/disputes/{dispute_id}/close", {"status": status})

    def wait_for(
        self, condition: Callable[[], Any], *, timeout: float = 10.0, what: str = ""
    ) -> Any:
        """Poll ``condition`` until it returns something truthy, and return that."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what or condition}")
            time.sleep(0.02)

    def wait_for_deliveries(
        self,
        count: int = 1,
        *,
        timeout: float = 10.0,
        ok: bool | None = None,
        **filters: str,
    ) -> list[dict[str, Any]]:
        """Wait until at least ``count`` attempts match (``ok=True`` counts only 2xx answers)."""

        def matching() -> list[dict[str, Any]] | None:
            items = [d for d in self.deliveries(**filters) if ok is None or d["ok"] == ok]
            return items if len(items) >= count else None

        return self.wait_for(matching, timeout=timeout, what=f"{count} deliveries {filters}")

    def wait_for_delivery(self, *, timeout: float = 10.0, **filters: str) -> dict[str, Any]:
        """The first successful delivery matching ``filters`` (event_id, type, endpoint)."""
        return self.wait_for_deliveries(1, timeout=timeout, ok=True, **filters)[0]
