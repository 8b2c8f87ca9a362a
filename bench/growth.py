"""The growth table: the staff list and the dashboard's totals at 10,000, 100,000
(and with `--scale`, 1,000,000) invoices, p50/p99 each.

The pages are loaded over HTTP with `wrk -c2` (a few staff at once: a latency
measurement); the totals are timed in-process (`manage.py shell`), 300 reads of
`dashboard_totals()`, the query the dashboard runs for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PAGES = {
    "first page": "/",
    "open tab": "/?status=open",
    "search": "/?q=customer42",
    "last page": "/?last=1",
    "open tab, last page": "/?status=open&last=1",
}

TOTALS_SCRIPT = """
import json, time
from django.utils import timezone
from invoices.models import Invoice
from invoices.totals import dashboard_totals
today = timezone.localdate()
month_start = today.replace(day=1)
dashboard_totals(today, month_start)
timings = []
for _ in range(300):
    started = time.perf_counter()
    dashboard_totals(today, month_start)
    timings.append((time.perf_counter() - started) * 1000)
timings.sort()
print("TOTALS=" + json.dumps({
    "p50": timings[len(timings) // 2], "p99": timings[int(len(timings) * 0.99) - 1],
    "invoices": Invoice.objects.count(),
}))
"""


def measure(
    base: str,
    headers: tuple[str, ...],
    wrk: Callable[..., dict[str, float]],
    totals: Callable[[], dict[str, float]],
) -> dict[str, dict[str, float]]:
    rows = {
        name: wrk(f"{base}{path}", headers=headers, connections=2) for name, path in PAGES.items()
    }
    rows["dashboard totals (in-process)"] = totals()
    return rows


def table(by_size: dict[int, dict[str, dict[str, float]]]) -> str:
    sizes = sorted(by_size)
    head = "| measurement | " + " | ".join(f"{n:,} p50 / p99 ms" for n in sizes) + " |"
    lines = [head, "|---|" + "---:|" * len(sizes)]
    for name in next(iter(by_size.values())):
        cells = [f"{by_size[n][name]['p50']:.1f} / {by_size[n][name]['p99']:.1f}" for n in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def worst_p99(rows: dict[str, dict[str, Any]]) -> float:
    return max(row["p99"] for row in rows.values())
