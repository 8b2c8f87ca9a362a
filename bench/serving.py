"""The serving options side by side: same app, same database, one worker each.

Each candidate is started on a free port, loaded with `wrk -t1 -c8` on `/healthz`
and on a pay page, and stopped, so the table in docs/benchmarks.md is
re-measured on every run instead of quoted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

Command = Callable[[int], list[str]]


def _uvicorn(app: str, *extra: str) -> Command:
    return lambda port: [
        sys.executable, "-m", "uvicorn", app, *extra, "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def _granian(interface: str, app: str, *extra: str) -> Command:
    return lambda port: [
        str(BIN / "granian"), "--interface", interface, "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1", "--log-level", "warning", *extra, app,
    ]  # fmt: skip


def _gunicorn(port: int) -> list[str]:
    return [
        str(BIN / "gunicorn"), "portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--log-level", "warning",
    ]  # fmt: skip


# name -> (command, serves the SSE streams too?)
CANDIDATES: dict[str, tuple[Command, bool]] = {
    "uvicorn, Django ASGI for everything (before)": (
        _uvicorn("django.core.asgi:get_asgi_application", "--factory"),
        True,
    ),
    "granian, Django ASGI for everything": (
        _granian("asgi", "django.core.asgi:get_asgi_application", "--factory"),
        True,
    ),
    "uvicorn, portal.asgi: pages on WSGI threads, streams ASGI (now)": (
        _uvicorn("portal.asgi:application"),
        True,
    ),
    "granian ASGI, portal.asgi": (_granian("asgi", "portal.asgi:application"), True),
    "gunicorn sync, Django WSGI (no streams)": (_gunicorn, False),
    "granian WSGI, Django WSGI (no streams)": (_granian("wsgi", "portal.wsgi:application"), False),
}


def _start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    # Never a pipe: unread, it would block the server once it fills.
    # A session of its own: stop() ends the server's worker processes with it.
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"{command} exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command[:3]} did not start")


def stop(process: subprocess.Popen) -> None:
    """The server and its workers (some servers leave a worker behind on SIGTERM)."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # workers that outlived their master


def compare(
    env: dict[str, str],
    pay_path: str,
    wrk: Callable[..., dict[str, float]],
    free_port: Callable[[], int],
    log: Callable[[str], None],
) -> list[tuple[str, bool, dict[str, float], dict[str, float]]]:
    """Each candidate's (name, streams, healthz result, pay page result)."""
    rows = []
    for name, (command, streams) in CANDIDATES.items():
        log(f"serving: {name}")
        port = free_port()
        process = _start(command(port), env, port)
        try:
            base = f"http://127.0.0.1:{port}"
            health = wrk(f"{base}/healthz", connections=8, threads=1)
            pay = wrk(f"{base}{pay_path}", connections=8, threads=1)
        finally:
            stop(process)
        rows.append((name, streams, health, pay))
    return rows


def table(rows: list[tuple[str, bool, dict[str, float], dict[str, float]]]) -> str:
    lines = [
        "| server, 1 worker | SSE streams | `/healthz` req/s | p99 ms | pay page req/s | p99 ms |",
        "|---|:-:|---:|---:|---:|---:|",
    ]
    for name, streams, health, pay in rows:
        lines.append(
            f"| {name} | {'yes' if streams else 'no'} | {health['rps']:.0f} "
            f"| {health['p99']:.1f} | {pay['rps']:.0f} | {pay['p99']:.1f} |"
        )
    return "\n".join(lines)
