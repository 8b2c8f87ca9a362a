"""The benchmark's own logic: reading wrk's output and the side-by-side ratio with the peer.

The benchmark itself runs in `make bench`; these only check the arithmetic and parsing
that turn its raw output into docs/benchmarks.md, without servers or the peer's virtualenv.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import stripe

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import peer
import run

# wrk 4.x `--latency` output, as the bench captures it.
WRK_OUTPUT = """Running 8s test @ http://127.0.0.1:40123/invoices/wh/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    75.51ms   20.10ms   1.20s    90.00%
    Req/Sec   105.31     20.50   150.00     70.00%
  Latency Distribution
     50%  812.00us
     75%   80.00ms
     90%  100.00ms
     99%    1.20s
  842 requests in 8.01s, 120.00KB read
  Non-2xx or 3xx responses: 3
Requests/sec:    105.12
Transfer/sec:     14.98KB
"""


def test_parse_wrk_reads_rate_percentiles_in_ms_and_errors() -> None:
    result = run.parse_wrk(WRK_OUTPUT)
    assert result == {
        "rps": 105.12,
        "p50": pytest.approx(0.812),  # microseconds become milliseconds
        "p99": pytest.approx(1200.0),  # seconds too
        "errors": 3,
        "requests": 842,
    }


def test_parse_wrk_without_non_2xx_line_counts_no_errors() -> None:
    output = WRK_OUTPUT.replace("  Non-2xx or 3xx responses: 3\n", "")
    assert run.parse_wrk(output)["errors"] == 0


def test_ratio_is_portal_over_peer_and_zero_when_the_peer_ingested_nothing() -> None:
    assert peer.ratio({"rps": 60.0}, {"rps": 24.0}) == pytest.approx(2.5)
    assert peer.ratio({"rps": 60.0}, {"rps": 0.0}) == 0.0


def test_table_has_a_row_per_kind_with_the_ratio() -> None:
    def row(rps: float, errors: int = 0) -> dict[str, float]:
        return {"rps": rps, "p50": 10.0, "p99": 50.0, "errors": errors}

    rows = {
        "setup": {"venv_seconds": 0.0},
        "portal, distinct": row(50.0),
        "portal, duplicates": row(300.0),
        "peer, distinct": row(25.0, errors=2),
        "peer, duplicates": row(200.0),
    }
    lines = peer.table(rows).splitlines()
    assert f"dj-stripe {peer.VERSION} events/s" in lines[0]
    assert lines[2] == "| distinct | 50.0 | 50.0 | 25.0 | 50.0 | 2.00x | 0, 2 |"
    assert lines[3] == "| duplicates | 300.0 | 50.0 | 200.0 | 50.0 | 1.50x | 0, 0 |"


def test_peer_event_is_a_signed_payment_intent_succeeded_event() -> None:
    intent = {"id": "pi_123", "object": "payment_intent", "status": "succeeded"}
    line = run.signed(peer.event("evt_1", intent))
    signature, body = line.split("\t", 1)
    # Raises unless the signature is Stripe's scheme over this body with the bench's secret.
    stripe.WebhookSignature.verify_header(body, signature, run.WEBHOOK_SECRET, tolerance=300)
    assert '"type":"payment_intent.succeeded"' in body
    assert '"id":"pi_123"' in body
