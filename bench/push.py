"""Live push: SSE listeners on one invoice, latency from each webhook to each listener.

`failed_event(event_id, message)` gives a signed `payment_intent.payment_failed` body
("<Stripe-Signature>\t<json>") whose message the listeners look for.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

OPENING = 100  # streams being opened at once


def worker_rss_kib(master: int) -> int:
    # One worker: uvicorn serves from the master itself, no children.
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split() or [master]
    total = 0
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return total


async def sse_benchmark(
    base: str,
    invoice: dict[str, Any],
    master: int,
    listeners: int,
    failed_event: Callable[[str, str], str],
    rounds: int = 20,
) -> dict[str, float]:
    """`listeners` streams on one invoice; latency from each webhook's send and 200 to each."""
    arrivals: dict[int, list[float]] = {}
    ready = asyncio.Event()
    connected = 0
    rss_before = worker_rss_kib(master)

    refused = 0
    # Listeners arrive OPENING at a time, as browsers do, not all in one instant: each
    # stream's first step is a database lookup, queued on the worker's few stream
    # threads; one not served in time ends with a retry hint (retried and counted here).
    opening = asyncio.Semaphore(OPENING)

    async def listen(client: httpx.AsyncClient) -> None:
        nonlocal connected, refused
        while True:
            await opening.acquire()
            if await stream(client):
                return
            refused += 1
            await asyncio.sleep(0.5)

    async def stream(_client: httpx.AsyncClient) -> bool:
        """Read one stream until cancelled; False when the server refused it.

        Plain asyncio streams, not httpx: with hundreds of streams in one client
        process on the server's cores, the client's own per-read overhead would
        be measured as push latency. Lines are read as they come (the chunked
        encoding's size lines are read too and match nothing).
        """
        nonlocal connected
        held = True
        host, port = base.removeprefix("http://").split(":")
        writer = None
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
            path = f"/pay/{invoice['token']}/events/"
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            status = await reader.readline()
            if b" 200 " not in status:
                return False
            while line := await reader.readline():
                if held and b"pay-status" in line and line.startswith(b"data:"):
                    held = False  # the stream's first state: it is open
                    opening.release()
                    connected += 1
                    if connected == listeners:
                        ready.set()
                if b"bench" in line:
                    record(line.decode(errors="replace"))
            return not held  # ended before its first state: a busy server's retry hint
        except OSError:
            return False
        finally:
            if held:
                opening.release()
            if writer is not None:
                writer.close()

    def record(line: str) -> None:
        # The row's own marker: a stream's first state repeats the invoice's last
        # failure message, which an earlier row may have set.
        found = re.search(rf"bench {listeners} round (\d+)", line)
        if found:
            arrivals.setdefault(int(found.group(1)), []).append(time.perf_counter())

    limits = httpx.Limits(max_connections=listeners + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(30, read=None)
    async with (
        httpx.AsyncClient(limits=limits, timeout=timeout) as streams,
        httpx.AsyncClient(timeout=30) as poster,
    ):
        tasks = [asyncio.create_task(listen(streams)) for _ in range(listeners)]
        await asyncio.wait_for(ready.wait(), 600)
        # The client's first request loads its own HTTP machinery (about 0.2 s here),
        # which is not the server's push latency: paid before the first round's clock.
        assert (await poster.get(f"{base}/healthz")).status_code == 200
        rss_after = worker_rss_kib(master)
        latencies: list[float] = []
        from_send: list[float] = []
        for n in range(rounds):
            # A fresh event id per row: a replayed event is not pushed again.
            body = failed_event(f"evt_sse_{listeners}_{n}", f"bench {listeners} round {n}")
            signature, payload = body.split("\t", 1)
            sent = time.perf_counter()
            response = await poster.post(
                f"{base}/invoices/wh/",
                content=payload,
                headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            )
            acknowledged = time.perf_counter()
            assert response.status_code == 200, response.text
            deadline = time.perf_counter() + 10
            while len(arrivals.get(n, [])) < listeners and time.perf_counter() < deadline:
                await asyncio.sleep(0.005)
            latencies += [max(0.0, t - acknowledged) * 1000 for t in arrivals.get(n, [])]
            from_send += [(t - sent) * 1000 for t in arrivals.get(n, [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies.sort()
    from_send.sort()
    delivered = len(latencies) / (rounds * listeners)
    return {
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "send_p50": from_send[len(from_send) // 2],
        "send_p99": from_send[int(len(from_send) * 0.99) - 1],
        "delivered": delivered,
        "kib_per_listener": (rss_after - rss_before) / listeners,
        "listeners": listeners,
        "refused": refused,
    }
