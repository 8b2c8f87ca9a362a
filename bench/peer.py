"""The peer in the benchmark: dj-stripe ingesting the same kind of webhooks beside the portal.

dj-stripe needs `stripe<16` and its own Django, so it runs from a virtualenv of its
own (bench/.peer-venv, created on first use from PyPI, git-ignored) with the minimal
project in bench/peer/: one WebhookEndpoint carrying the bench's signing secret,
PostgreSQL (a database of its own), the Stripe simulator as its API, served by the
same gunicorn sync worker as the portal's row.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import serving

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "peer"
VENV = Path(os.environ.get("BENCH_PEER_VENV", HERE / ".peer-venv"))
# The newest dj-stripe that installs beside Django 5.2 (its own pin: stripe>=15.0.1,<16).
REQUIREMENTS = ("dj-stripe==2.11.0", "stripe>=15.0.1,<16", "psycopg[binary]>=3.2", "gunicorn")
VERSION = REQUIREMENTS[0].split("==")[1]


def ensure_venv(log: Callable[[str], None]) -> tuple[Path, float]:
    """The peer's interpreter, its virtualenv created and filled on first use (and the
    seconds that took, 0 when it already existed)."""
    started = time.monotonic()
    python = VENV / "bin" / "python"
    stamp = VENV / "requirements.txt"
    if python.exists() and stamp.exists() and stamp.read_text() == "\n".join(REQUIREMENTS):
        return python, 0.0
    log(f"peer: creating {VENV} (dj-stripe {VERSION} from PyPI)")
    # venv from the bench's own interpreter: the same Python 3.13 the portal runs on.
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *REQUIREMENTS],
        check=True,
    )  # fmt: skip
    stamp.write_text("\n".join(REQUIREMENTS))
    return python, time.monotonic() - started


def environment(database_name: str, sim: Any, webhook_secret: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PEER_DB_NAME": database_name,
        "STRIPE_SECRET_KEY": sim.secret_key,
        "STRIPE_API_BASE": sim.api_base,
        "PEER_WEBHOOK_SECRET": webhook_secret,
    }


def _manage(python: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(python), "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"peer manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def prepare(python: Path, env: dict[str, str]) -> str:
    """Migrate the peer's database; the webhook endpoint's URL path."""
    _manage(python, env, "migrate", "--no-input", "-v0")
    output = _manage(python, env, "shell", "-c", (PROJECT / "endpoint.py").read_text())
    return next(x for x in output.splitlines() if x.startswith("ENDPOINT=")).split("=", 1)[1]


def succeeded_intents(sim: Any, count: int) -> list[dict[str, Any]]:
    """`count` succeeded PaymentIntents in the simulator: dj-stripe retrieves each event's
    PaymentIntent (and its PaymentMethod) from Stripe, so they must exist there."""
    intents = []
    auth = {"Authorization": f"Bearer {sim.secret_key}"}
    with httpx.Client(base_url=sim.api_base, headers=auth, timeout=30) as client:
        for n in range(count):
            response = client.post(
                "/v1/payment_intents",
                data={
                    "amount": str(1000 + n),
                    "currency": "usd",
                    "payment_method": "pm_card_visa",
                    "payment_method_types[]": "card",
                    "confirm": "true",
                },
            )
            response.raise_for_status()
            intents.append(response.json())
    return intents


def event(event_id: str, intent: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": "payment_intent.succeeded",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": intent},
    }


def start(python: Path, env: dict[str, str], port: int) -> subprocess.Popen:
    """The peer under gunicorn, one sync worker (as the portal's gunicorn row)."""
    gunicorn = python.parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--log-level", "warning"],
        cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"the peer exited with {process.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)  # any answer (404) means up
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the peer did not start")


def ratio(portal: dict[str, float], peer: dict[str, float]) -> float:
    """Portal events/s over the peer's (0 when the peer ingested nothing)."""
    return portal["rps"] / peer["rps"] if peer.get("rps") else 0.0


ROUNDS = int(os.environ.get("BENCH_PEER_ROUNDS", "3"))
WARM_UP = 20  # events each server ingests before its first measured row


def median_ratio(rows: dict[str, Any]) -> float:
    """The median of the rounds' portal / dj-stripe ratios (a round whose peer
    ingested nothing counts as 0)."""
    ratios = sorted(ratio(r["portal"], r["peer"]) for r in rows["rounds"])
    middle = len(ratios) // 2
    return ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2


def slices(items: list[str], count: int) -> list[list[str]]:
    """`items` cut into `count` disjoint runs of equal length."""
    size = len(items) // count
    return [items[n * size : (n + 1) * size] for n in range(count)]


def warm_up(base: str, path: str, items: list[str]) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        for item in items:
            signature, payload = item.split("\t", 1)
            response = client.post(
                path,
                content=payload,
                headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            )
            response.raise_for_status()


def side_by_side(
    portal_env: dict[str, str],
    peer_database: str,
    sim: Any,
    *,
    portal_items: list[str],
    signed: Callable[[dict[str, Any]], str],
    wrk: Callable[..., dict[str, float]],
    free_port: Callable[[], int],
    log: Callable[[str], None],
    rounds: int = ROUNDS,
) -> dict[str, Any]:
    """Distinct and duplicate events into the portal and dj-stripe, each under one
    gunicorn sync worker, `wrk -t1 -c8`, both servers up for the whole comparison.

    Distinct events are measured in `rounds` rounds, each the portal's row and the
    peer's (the portal first in even rounds, the peer first in odd ones), every row
    with events of its own, so a burst of other work on the machine weighs on one
    round rather than on one side; the 1-minute load average is taken
    before and after every row. `portal_items` are signed events the portal has not
    seen; the peer's are built here, one per succeeded simulator PaymentIntent.
    Duplicates (one event replayed) are measured once, after the rounds.
    """
    python, built = ensure_venv(log)
    env = environment(peer_database, sim, portal_env["STRIPE_WEBHOOK_SECRET"])
    log("peer: migrating dj-stripe's database")
    path = prepare(python, env)
    intents = succeeded_intents(sim, int(os.environ.get("BENCH_PEER_EVENTS", "2500")))
    peer_items = [signed(event(f"evt_peer_{n}", pi)) for n, pi in enumerate(intents)]
    # A warm-up run, then one run of fresh events per round, for each side.
    sides = {
        "portal": ("/invoices/wh/", slices(portal_items, rounds + 1)),
        "peer": (path, slices(peer_items, rounds + 1)),
    }
    load = {"connections": 8, "threads": 1, "kind": "webhook"}
    rows: dict[str, Any] = {"setup": {"venv_seconds": built}, "rounds": []}
    portal_port, peer_port = free_port(), free_port()
    servers = {
        "portal": serving._start(serving._gunicorn(portal_port), portal_env, portal_port),
        "peer": start(python, env, peer_port),
    }
    bases = {
        "portal": f"http://127.0.0.1:{portal_port}",
        "peer": f"http://127.0.0.1:{peer_port}",
    }
    try:
        for side, (hook, runs) in sides.items():
            warm_up(bases[side], hook, runs[0][:WARM_UP])

        def measure(side: str, items: list[str]) -> dict[str, float]:
            before = os.getloadavg()[0]
            row = wrk(bases[side], items=items, path=sides[side][0], **load)
            row.update(load_before=before, load_after=os.getloadavg()[0])
            return row

        for n in range(rounds):
            # Odd rounds go the other way round, so a steady drift in the machine's load
            # does not always fall on the same side.
            order = list(sides) if n % 2 == 0 else list(reversed(sides))
            log(f"side by side, round {n + 1} of {rounds}: {order[0]}, then {order[1]}")
            measured = {side: measure(side, sides[side][1][n + 1]) for side in order}
            rows["rounds"].append({side: measured[side] for side in sides})
            for side, row in rows["rounds"][-1].items():
                if row["requests"] > len(sides[side][1][n + 1]):
                    log(f"side by side: {side} ran out of fresh events and replayed some")
        log("side by side: duplicates")
        for side, (_, runs) in sides.items():
            rows[f"{side}, duplicates"] = measure(side, runs[0][:1])
    finally:
        for process in servers.values():
            serving.stop(process)
    return rows


def table(rows: dict[str, Any]) -> str:
    lines = [
        "| events, one gunicorn sync worker | portal events/s | p99 ms "
        f"| dj-stripe {VERSION} events/s | p99 ms | portal / dj-stripe | non-2xx (portal, peer) "
        "| load before / after (portal row; peer row) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]

    def line(name: str, ours: dict[str, float], theirs: dict[str, float]) -> str:
        load = "; ".join(f"{r['load_before']:.1f} / {r['load_after']:.1f}" for r in (ours, theirs))
        return (
            f"| {name} | {ours['rps']:.1f} | {ours['p99']:.1f} | {theirs['rps']:.1f} "
            f"| {theirs['p99']:.1f} | {ratio(ours, theirs):.2f}x "
            f"| {ours['errors']}, {theirs['errors']} | {load} |"
        )

    for n, row in enumerate(rows["rounds"], start=1):
        lines.append(line(f"distinct, round {n}", row["portal"], row["peer"]))
    count = len(rows["rounds"])
    lines.append(
        f"| **distinct, median of {count} round{'s' if count > 1 else ''}** | | | | "
        f"| **{median_ratio(rows):.2f}x** | | |"
    )
    lines.append(line("duplicates", rows["portal, duplicates"], rows["peer, duplicates"]))
    return "\n".join(lines)
