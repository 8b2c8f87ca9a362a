"""`make bench`: the production stack on PostgreSQL + Redis, loaded over loopback.

Starts the Stripe simulator and the portal (uvicorn, WEB_CONCURRENCY workers,
DEBUG=false) against a fresh PostgreSQL database seeded with 100,000 invoices,
measures each request's cost in-process (bench/costs.py), drives the servers with
wrk (and a Python client for Server-Sent Events), and writes docs/benchmarks.md and
docs/benchmarks.png. Every figure comes from one run, so the ratios to the
`/healthz` baseline are fair. A full run takes about 10 minutes on a quiet machine (more
when other work shares the cores), `--scale` a few minutes more.

Parts of it, for a developer checking a change (docs/benchmarks.md is left alone;
the figures are printed as markdown):

    .venv/bin/python bench/run.py --only costs,peer
    BENCH_SECONDS=2 BENCH_LISTENERS=100 .venv/bin/python bench/run.py --only push

The parts are costs (in-process cost per request), pages (the wrk throughput rows),
crowd (BENCH_CROWD listeners across the workers), growth (the staff list at the
seeded size), push (BENCH_LISTENERS listeners on one worker), serving (the servers
side by side) and peer (webhook ingest beside dj-stripe, BENCH_PEER_ROUNDS rounds).
A partial run seeds BENCH_INVOICES=10000 unless set. BENCH_DB names the database
(portal_bench) and BENCH_REDIS_URL the Redis database, so runs can be kept apart.
`--scale` adds a million-invoice column to the growth table; `--scale-only` measures
only that column.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import os
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import growth  # noqa: E402
import peer  # noqa: E402
import push as live  # noqa: E402
import report  # noqa: E402
import serving  # noqa: E402

from stripe_sim.testing import SimulatorProcess  # noqa: E402
from tests.servers import free_port  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", "2"))
LISTENERS = int(os.environ.get("BENCH_LISTENERS", "500"))  # on one worker
CROWD = int(os.environ.get("BENCH_CROWD", "5000"))  # across WORKERS workers
# dj-stripe parses the key: sk_test_ and at least 24 letters or digits.
SIM_KEY = "sk_test_" + "bench" * 5
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
DB_NAME = os.environ.get("BENCH_DB", "portal_bench")
WEBHOOK_SECRET = "whsec_bench"
CSRF = "benchcsrf" + "0" * 23  # any 32-character token: cookie and header must match
HERE = Path(__file__).resolve().parent
LUA = HERE / "cycle.lua"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        return
    sys.exit("wrk is needed: apt-get install wrk")


def recreate_database(name: str = DB_NAME) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


# The stamp the benchmark's PaymentIntents carry (seed.py stores pi_bench_<id> as ours).
PORTAL_ID = "bench"


def environment(database_url: str, port: int, sim: SimulatorProcess) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_ID": PORTAL_ID,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "EMAIL_URL": "smtp://127.0.0.1:1",
        "TASKS_BACKEND": "database",
        "STRIPE_SECRET_KEY": sim.secret_key,
        "STRIPE_PUBLISHABLE_KEY": sim.publishable_key,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": sim.api_base,
        "STRIPE_JS_URL": sim.js_url,
        "WEB_CONCURRENCY": str(WORKERS),
        "LOG_LEVEL": "WARNING",
        "REQUEST_LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def shell(env: dict[str, str], script: Path | str, prefix: str) -> Any:
    text = script.read_text() if isinstance(script, Path) else script
    output = manage(env, "shell", "-c", text)
    line = next(x for x in output.splitlines() if x.startswith(prefix))
    return json.loads(line.removeprefix(prefix))


def start_portal(env: dict[str, str], port: int, workers: int = WORKERS) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "portal.asgi:application",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "1",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # serving.stop() ends its workers too
    )  # fmt: skip
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    sys.exit("the portal did not start")


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
LIGHT = {"connections": 2}


def wrk(
    url: str,
    *,
    connections: int = 32,
    seconds: int = SECONDS,
    headers: tuple[str, ...] = (),
    items: list[str] | None = None,
    kind: str = "get",
    threads: int = 2,
    path: str = "/invoices/wh/",
) -> dict[str, float]:
    """Run wrk; with `items`, each request takes the next item (cycle.lua)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    env = dict(os.environ)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(items or []) + "\n")
    if items is not None:
        command += ["-s", str(LUA)]
        env.update(BENCH_ITEMS=handle.name, BENCH_KIND=kind, BENCH_CSRF=CSRF)
        env.update(BENCH_WEBHOOK_PATH=path, BENCH_THREADS=str(threads))
        env.setdefault("BENCH_SIM_KEY", "sk_test_simulator")
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, env=env
    ).stdout
    os.unlink(handle.name)
    return parse_wrk(output)


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, p50 and p99 in ms, non-2xx count and total from `wrk --latency`."""
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for percent in ("50", "99"):
        value, unit = re.search(rf"\s{percent}%\s+([\d.]+)(us|ms|s)", output).groups()
        result[f"p{percent}"] = float(value) * UNITS[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["errors"] = int(errors.group(1)) if errors else 0
    result["requests"] = int(re.search(r"(\d+) requests in", output).group(1))
    return result


def raise_fd_limit() -> None:
    """Thousands of SSE streams: the client and servers (children inherit it) need an
    open file each, so the soft limit goes up to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < CROWD * 2 + 1000:
        log(f"open-file limit {hard} may be too low for {CROWD} listeners (ulimit -n)")


def failed_event(event_id: str, message: str, invoice_id: int) -> str:
    return signed(
        intent_event(
            event_id,
            invoice_id,
            100,
            status="requires_payment_method",
            last_payment_error={"message": message},
        )
    )


def signed(event: dict[str, Any]) -> str:
    payload = json.dumps(event, separators=(",", ":"))
    t = int(time.time())
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{t}.{payload}".encode(), hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}\t{payload}"


def intent_event(event_id: str, invoice_id: int, amount: int, **extra: Any) -> dict[str, Any]:
    intent = {
        "id": f"pi_bench_{invoice_id}",
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {"portal": PORTAL_ID, "invoice_id": str(invoice_id)},
        "latest_charge": None,
        **extra,
    }
    event_type = "payment_intent.payment_failed" if extra else "payment_intent.succeeded"
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": intent},
    }


SESSION_ONLY = """
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
user = get_user_model().objects.get(username="bench")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("SEED=" + json.dumps({"session": session.session_key}))
"""


def other_database(env: dict[str, str], size: int, port: int) -> dict[str, Any]:
    """A database of `size` invoices beside the main one, its portal started (growth table).

    BENCH_REUSE=1 keeps a database seeded by an earlier run (the million-invoice seed
    takes minutes) and only signs the bench's staff user in again.
    """
    name = f"{DB_NAME}_{size}"
    reuse = os.environ.get("BENCH_REUSE") == "1"
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}" if reuse else recreate_database(name)
    if not reuse:
        log(f"growth: seeding {size:,} invoices")
    small = {
        **env,
        "DATABASE_URL": url,
        "SITE_URL": f"http://127.0.0.1:{port}",
        "BENCH_INVOICES": str(size),
        "BENCH_PAY_TOKENS": "100",
        "BENCH_WEBHOOK_INVOICES": "100",
    }
    if reuse:
        seed = shell(small, "import json\n" + SESSION_ONLY, "SEED=")
    else:
        manage(small, "migrate", "--no-input", "-v0")
        seed = shell(small, Path(__file__).with_name("seed.py"), "SEED=")
    return {"env": small, "seed": seed, "portal": start_portal(small, port)}


def grow(env: dict[str, str], base: str, session: str) -> dict[str, dict[str, float]]:
    return growth.measure(
        base,
        (f"Cookie: sessionid={session}",),
        wrk,
        lambda: shell(env, growth.TOTALS_SCRIPT, "TOTALS="),
    )


def scale_only() -> None:
    """`bench/run.py --scale-only`: just the growth rows at 1,000,000 invoices (seeded by
    COPY into a database of their own), printed as a markdown table; the full run with
    `--scale` puts the same column in docs/benchmarks.md."""
    started = time.monotonic()
    ensure_wrk()
    raise_fd_limit()
    size = int(os.environ.get("BENCH_SCALE_INVOICES", "1000000"))
    with SimulatorProcess(delivery_enabled=False, secret_key=SIM_KEY) as sim:
        port = free_port()
        # Its own database (other_database creates it, or reuses it with BENCH_REUSE=1).
        env = environment(PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_NAME}_{size}", port, sim)
        manage(env, "collectstatic", "--no-input", "-v0")  # no database needed
        other = other_database(env, size, port)
        log(f"growth: measuring at {size:,} invoices")
        try:
            grown = {size: grow(other["env"], f"http://127.0.0.1:{port}", other["seed"]["session"])}
        finally:
            serving.stop(other["portal"])
    failed = {name: row["errors"] for name, row in grown[size].items() if row.get("errors")}
    if failed:
        sys.exit(f"non-2xx answers while measuring: {failed}")
    print(growth.table(grown))
    log(f"done in {time.monotonic() - started:.0f} s")


def requested_parts(argv: list[str]) -> tuple[str, ...]:
    """The parts `--only a,b` (or `--only=a,b`) names, in measuring order; () for a full run."""
    names: list[str] = []
    for n, arg in enumerate(argv):
        if arg == "--only":
            if n + 1 == len(argv):
                sys.exit(f"--only needs parts: {','.join(report.PARTS)}")
            names += argv[n + 1].split(",")
        elif arg.startswith("--only="):
            names += arg.removeprefix("--only=").split(",")
    names = [name.strip() for name in names if name.strip()]
    unknown = sorted(set(names) - set(report.PARTS))
    if unknown:
        sys.exit(f"unknown parts {', '.join(unknown)}: choose from {','.join(report.PARTS)}")
    if any(arg.startswith("--only") for arg in argv) and not names:
        sys.exit(f"--only needs parts: {','.join(report.PARTS)}")
    return tuple(part for part in report.PARTS if part in names)


def partial_seed() -> None:
    """A partial run's smaller seed (a full run keeps seed.py's 100,000 invoices): 10,000
    invoices unless BENCH_INVOICES says otherwise, a fifth of them for the pay rows and
    half for the webhook rows unless set."""
    invoices = int(os.environ.setdefault("BENCH_INVOICES", "10000"))
    os.environ.setdefault("BENCH_PAY_TOKENS", str(invoices // 5))
    os.environ.setdefault("BENCH_WEBHOOK_INVOICES", str(invoices // 2))


def costs(env: dict[str, str], seed: dict[str, Any]) -> dict[str, dict[str, float]]:
    """bench/costs.py in `manage.py shell`, its events signed here for the invoices
    seeded for it alone."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        for row in seed["cost_invoices"]:
            event = intent_event(f"evt_cost_{row['id']}", row["id"], row["amount"])
            handle.write(signed(event) + "\n")
    try:
        return shell({**env, "BENCH_COST_EVENTS": handle.name}, HERE / "costs.py", "COSTS=")
    finally:
        os.unlink(handle.name)


def pages(base: str, sim: SimulatorProcess, seed: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The throughput table's rows, wrk against the portal on WORKERS workers."""
    staff = (f"Cookie: sessionid={seed['session']}",)
    # The first half of the webhook invoices: the second is the peer comparison's.
    hooks = seed["webhook_invoices"][: len(seed["webhook_invoices"]) // 2]
    steps = {
        "healthz": lambda: wrk(f"{base}/healthz"),
        "pay page, 5 lines": lambda: wrk(f"{base}/pay/{seed['pay5']}/"),
        "pay page, 50 lines": lambda: wrk(f"{base}/pay/{seed['pay50']}/"),
        # Latency rows: a few staff at once, not a saturating crowd.
        "invoice list, first page": lambda: wrk(f"{base}/", headers=staff, **LIGHT),
        "invoice list, open tab": lambda: wrk(f"{base}/?status=open", headers=staff, **LIGHT),
        "invoice list, search": lambda: wrk(f"{base}/?q=customer42", headers=staff, **LIGHT),
        "invoice list, last page": lambda: wrk(f"{base}/?last=1", headers=staff, **LIGHT),
        "PaymentIntent via simulator only": lambda: wrk(
            f"{sim.api_base}/v1/payment_intents",
            connections=8,
            items=["amount=1000&currency=usd"],
            kind="sim",
        ),
        "PaymentIntent via portal": lambda: wrk(
            base, connections=8, items=seed["pay_tokens"], kind="pay"
        ),
        "webhook, distinct events": lambda: wrk(
            base,
            connections=16,
            items=[
                signed(intent_event(f"evt_bench_{row['id']}", row["id"], row["amount"]))
                for row in hooks
            ],
            kind="webhook",
        ),
        "webhook, duplicates": lambda: wrk(
            base, items=[signed(intent_event("evt_bench_dup", 1, 1))], kind="webhook"
        ),
    }
    results = {}
    for name, step in steps.items():
        log(name)
        results[name] = step()
    # The baseline is measured again last: a floor is what the server does at best, and
    # one 8 s row can land on a burst of other work (a checkpoint after the seed, say).
    log("healthz, again")
    again = steps["healthz"]()
    first = results["healthz"]
    runs = [first["rps"], again["rps"]]
    results["healthz"] = {**max(first, again, key=lambda row: row["rps"]), "runs_rps": runs}
    return results


def measure(
    parts: tuple[str, ...],
    env: dict[str, str],
    sim: SimulatorProcess,
    seed: dict[str, Any],
    port: int,
) -> dict[str, Any]:
    """The figures of `parts` (all of report.PARTS in a full run), keyed by part; the
    portal on WORKERS workers listens on `port`, its SITE_URL's."""
    figures: dict[str, Any] = {"parts": parts, "invoices": int(env["BENCH_INVOICES"])}
    invoice = seed["sse_invoice"]
    event = functools.partial(failed_event, invoice_id=invoice["id"])
    if "costs" in parts:
        log("in-process cost per request")
        figures["costs"] = costs(env, seed)
    if {"pages", "crowd", "growth"} & set(parts):
        portal = start_portal(env, port)
        base = f"http://127.0.0.1:{port}"
        try:
            if "pages" in parts:
                figures["pages"] = pages(base, sim, seed)
            # The list's latency rows before the crowd: thousands of streams closing at
            # once would still be winding down on the same cores.
            if "growth" in parts:
                log(f"growth: {figures['invoices']:,} invoices")
                figures["growth"] = {figures["invoices"]: grow(env, base, seed["session"])}
            if "crowd" in parts:
                log(f"live push: {CROWD} SSE listeners across {WORKERS} workers")
                figures["crowd"] = asyncio.run(
                    live.sse_benchmark(base, invoice, portal.pid, CROWD, event, 10)
                )
        finally:
            serving.stop(portal)
    if "push" in parts:
        port = free_port()
        single = start_portal(env, port, workers=1)
        try:
            log(f"live push: {LISTENERS} SSE listeners on one worker")
            figures["push"] = asyncio.run(
                live.sse_benchmark(
                    f"http://127.0.0.1:{port}", invoice, single.pid, LISTENERS, event
                )
            )
        finally:
            serving.stop(single)
    if "serving" in parts:
        figures["serving"] = serving.compare(env, f"/pay/{seed['pay5']}/", wrk, free_port, log)
    if "peer" in parts:
        unused = seed["webhook_invoices"][len(seed["webhook_invoices"]) // 2 :]
        figures["peer"] = peer.side_by_side(
            env,
            recreate_database(f"{DB_NAME}_peer").rsplit("/", 1)[1],
            sim,
            portal_items=[
                signed(intent_event(f"evt_side_{row['id']}", row["id"], row["amount"]))
                for row in unused
            ],
            signed=signed,
            wrk=wrk,
            free_port=free_port,
            log=log,
        )
    return figures


def main() -> None:
    argv = sys.argv[1:]
    if "--scale-only" in argv:
        scale_only()
        return
    started = time.monotonic()
    load_start = os.getloadavg()
    parts = requested_parts(argv)
    full = not parts
    if full:
        parts = report.PARTS
    else:
        partial_seed()
    scale = "--scale" in argv
    ensure_wrk()
    raise_fd_limit()
    database_url = recreate_database()
    os.environ["BENCH_SIM_KEY"] = SIM_KEY  # cycle.lua's key for the simulator-only row
    with SimulatorProcess(delivery_enabled=False, secret_key=SIM_KEY) as sim:
        port = free_port()
        env = environment(database_url, port, sim)
        env.setdefault("BENCH_INVOICES", "100000")
        log(f"migrating and seeding {int(env['BENCH_INVOICES']):,} invoices")
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "collectstatic", "--no-input", "-v0")
        seed = shell(env, HERE / "seed.py", "SEED=")
        figures = measure(parts, env, sim, seed, port)
        # The growth table's other sizes, each its own database (a full run only).
        sizes = (10_000, 1_000_000) if scale else (10_000,)
        for size in sizes if full else ():
            port = free_port()
            other = other_database(env, size, port)
            try:
                figures["growth"][size] = grow(
                    other["env"], f"http://127.0.0.1:{port}", other["seed"]["session"]
                )
            finally:
                serving.stop(other["portal"])
    elapsed = time.monotonic() - started
    load = {"elapsed": elapsed, "workers": WORKERS, "load_start": load_start}
    if not full:
        print(report.partial(figures, **load, load_end=os.getloadavg()))
        log(f"parts {', '.join(parts)} measured in {elapsed:.0f} s (docs/benchmarks.md untouched)")
        return
    report.write(figures, **load, load_end=os.getloadavg())
    log(f"wrote docs/benchmarks.md and docs/benchmarks.png in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
