"""In-process cost per request (run inside `manage.py shell` by bench/run.py).

Each page through Django's test client (the whole middleware stack, no server, no
network), after a warm-up, BENCH_COST_REQUESTS times (300): its SQL queries and the
median and p90 ms per request. Then distinct signed `payment_intent.succeeded`
events (the kind the webhook load row sends), one per invoice seeded for this script
only: the SQL statements of one event up to its COMMIT and after it (the live push's
reads), and the median and p90 ms per event. The events, signed by bench/run.py, are
read from the file named by BENCH_COST_EVENTS, one "<Stripe-Signature>\\t<json>" a line.

Prints one line, COSTS=<json>: {name: {"queries", "requests", "median_ms", "p90_ms"}},
the webhook row with "statements", "after_commit" and "events" instead.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from invoices.models import Invoice

REQUESTS = int(os.environ.get("BENCH_COST_REQUESTS", "300"))
WARM_UP = 30
HOST = "127.0.0.1"


def percentiles(timings: list[float]) -> dict[str, float]:
    timings = sorted(timings)
    return {
        "median_ms": timings[len(timings) // 2],
        "p90_ms": timings[max(0, int(len(timings) * 0.9) - 1)],
    }


def timed(call: Callable[[], object], times: int) -> list[float]:
    timings = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def page_cost(who: Client, url: str) -> dict[str, float]:
    def get() -> None:
        response = who.get(url, HTTP_HOST=HOST)
        assert response.status_code == 200, (url, response.status_code)

    # The first views record "viewed" and fill the caches: measure the steady state.
    timed(get, WARM_UP)
    with CaptureQueriesContext(connection) as captured:
        get()
    return {
        "queries": len(captured.captured_queries),
        "requests": REQUESTS,
        **percentiles(timed(get, REQUESTS)),
    }


def webhook_cost(who: Client, bodies: list[str]) -> dict[str, float]:
    def post(body: str) -> None:
        signature, payload = body.split("\t", 1)
        response = who.post(
            "/invoices/wh/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
            HTTP_HOST=HOST,
        )
        assert response.status_code == 200, response.content

    warm_up, counted, measured = bodies[:WARM_UP], bodies[WARM_UP], bodies[WARM_UP + 1 :]
    for body in warm_up:
        post(body)
    with CaptureQueriesContext(connection) as captured:
        post(counted)
    statements = [query["sql"] for query in captured.captured_queries]
    commits = [n for n, sql in enumerate(statements) if sql.strip().upper() == "COMMIT"]
    until_commit = commits[-1] + 1 if commits else len(statements)
    timings = []
    for body in measured:
        started = time.perf_counter()
        post(body)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "statements": until_commit,
        "after_commit": len(statements) - until_commit,
        "events": len(measured),
        **percentiles(timings),
    }


client = Client()
staff = Client()
staff.force_login(get_user_model().objects.get(username="bench"))
pay5 = Invoice.objects.get(number="PAY-0005").get_pay_url()
pay50 = Invoice.objects.get(number="PAY-0050").get_pay_url()
pages = {
    "healthz": (client, "/healthz"),
    "pay page, 5 lines": (client, pay5),
    "pay page, 50 lines": (client, pay50),
    "invoice list, first page": (staff, "/"),
    "invoice list, open tab": (staff, "/?status=open"),
    "invoice list, search": (staff, "/?q=customer42"),
    "invoice list, last page": (staff, "/?last=1"),
}
with open(os.environ["BENCH_COST_EVENTS"]) as handle:
    events = [line.rstrip("\n") for line in handle if line.strip()]
if len(events) < WARM_UP + 2:
    raise SystemExit(
        f"{len(events)} events for the webhook's cost: seed more (BENCH_COST_INVOICES)"
    )
# The events first, while their signatures are fresh (Stripe's tolerance is 5 minutes).
webhook = webhook_cost(Client(), events)
result = {name: page_cost(who, url) for name, (who, url) in pages.items()}
result["webhook, distinct event"] = webhook
print("COSTS=" + json.dumps(result))
