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


def wrk_row(rps: float, errors: int = 0, **extra: float) -> dict[str, float]:
    return {"rps": rps, "p50": 10.0, "p99": 50.0, "errors": errors, "requests": 400, **extra}


def compared(*rounds: tuple[float, float]) -> dict:
    return {
        "setup": {"venv_seconds": 0.0},
        "rounds": [
            {
                "portal": wrk_row(ours, load_before=1.0, load_after=2.5),
                "peer": wrk_row(theirs, errors=2, load_before=2.5, load_after=3.0),
            }
            for ours, theirs in rounds
        ],
        "portal, duplicates": wrk_row(300.0, load_before=3.0, load_after=3.1),
        "peer, duplicates": wrk_row(200.0, load_before=3.1, load_after=3.2),
    }


def test_median_ratio_is_the_middle_rounds_ratio_not_the_ratio_of_sums() -> None:
    # A burst of other work during round 2's peer row halves it: the median ignores it.
    rows = compared((50.0, 25.0), (50.0, 12.5), (60.0, 40.0))
    assert peer.median_ratio(rows) == pytest.approx(2.0)


def test_median_ratio_of_an_even_number_of_rounds_is_the_mean_of_the_middle_two() -> None:
    rows = compared((50.0, 25.0), (30.0, 20.0))
    assert peer.median_ratio(rows) == pytest.approx((2.0 + 1.5) / 2)


def test_slices_give_each_round_events_of_its_own() -> None:
    runs = peer.slices([str(n) for n in range(10)], 3)
    assert runs == [["0", "1", "2"], ["3", "4", "5"], ["6", "7", "8"]]


def test_table_has_a_row_per_round_the_median_and_the_duplicates_with_load_averages() -> None:
    lines = peer.table(compared((50.0, 25.0), (40.0, 25.0), (60.0, 40.0))).splitlines()
    assert f"dj-stripe {peer.VERSION} events/s" in lines[0]
    assert "load before / after" in lines[0]
    assert lines[2] == (
        "| distinct, round 1 | 50.0 | 50.0 | 25.0 | 50.0 | 2.00x | 0, 2 | 1.0 / 2.5; 2.5 / 3.0 |"
    )
    assert lines[3].startswith("| distinct, round 2 | 40.0 | 50.0 | 25.0 | 50.0 | 1.60x |")
    assert lines[4].startswith("| distinct, round 3 | 60.0 | 50.0 | 40.0 | 50.0 | 1.50x |")
    assert lines[5] == "| **distinct, median of 3 rounds** | | | | | **1.60x** | | |"
    assert lines[6] == (
        "| duplicates | 300.0 | 50.0 | 200.0 | 50.0 | 1.50x | 0, 0 | 3.0 / 3.1; 3.1 / 3.2 |"
    )
    # Every row has as many cells as the header.
    assert {line.count("|") for line in lines} == {lines[0].count("|")}


def test_peer_event_is_a_signed_payment_intent_succeeded_event() -> None:
    intent = {"id": "pi_123", "object": "payment_intent", "status": "succeeded"}
    line = run.signed(peer.event("evt_1", intent))
    signature, body = line.split("\t", 1)
    # Raises unless the signature is Stripe's scheme over this body with the bench's secret.
    stripe.WebhookSignature.verify_header(body, signature, run.WEBHOOK_SECRET, tolerance=300)
    assert '"type":"payment_intent.succeeded"' in body
    assert '"id":"pi_123"' in body
