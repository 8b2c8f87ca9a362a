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
import report
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


def costs() -> dict[str, dict[str, float]]:
    def page(queries: int, median: float) -> dict[str, float]:
        return {"queries": queries, "requests": 300, "median_ms": median, "p90_ms": median * 1.5}

    return {
        "healthz": page(1, 0.4),
        "pay page, 5 lines": page(2, 4.4),
        "pay page, 50 lines": page(2, 9.0),
        "invoice list, first page": page(4, 12.0),
        "webhook, distinct event": {
            "statements": 21,
            "after_commit": 4,
            "events": 369,
            "median_ms": 19.1,
            "p90_ms": 25.0,
        },
    }


def test_costs_table_has_queries_and_times_per_request_and_the_webhooks_commit_split() -> None:
    lines = report.costs_table(costs()).splitlines()
    assert lines[0] == "| request | SQL queries | median ms | p90 ms |"
    assert lines[2] == "| healthz | 1 | 0.4 | 0.6 |"
    assert lines[3] == "| pay page, 5 lines | 2 | 4.4 | 6.6 |"
    assert lines[-1] == "| webhook, distinct event | 21 to the COMMIT + 4 after | 19.1 | 25.0 |"


def test_targets_judge_the_pay_page_in_process_with_the_measured_median() -> None:
    found = dict(report.targets({"costs": costs()}))
    assert found["pay page <= 2 ms in-process (measured 4.4 ms, median)"] is False
    assert found["queries per request constant in the number of lines"] is True
    quick = costs()
    quick["pay page, 5 lines"]["median_ms"] = 1.9
    assert dict(report.targets({"costs": quick}))[
        "pay page <= 2 ms in-process (measured 1.9 ms, median)"
    ]


def test_targets_judge_dj_stripe_on_the_median_of_the_rounds() -> None:
    found = report.targets({"peer": compared((50.0, 25.0), (50.0, 12.5), (60.0, 40.0))})
    assert found == [
        (f"webhook ingest >= 2x dj-stripe {peer.VERSION}'s, same server "
         "(measured 2.00x, median of 3 rounds)", True)
    ]  # fmt: skip


def test_requested_parts_come_in_measuring_order_and_a_full_run_names_none() -> None:
    assert run.requested_parts([]) == ()
    assert run.requested_parts(["--only", "peer,costs"]) == ("costs", "peer")
    assert run.requested_parts(["--only=push", "--only", "pages"]) == ("pages", "push")


def test_requested_parts_refuse_an_unknown_part_naming_the_known_ones() -> None:
    with pytest.raises(SystemExit, match="unknown parts pushes: choose from costs,pages"):
        run.requested_parts(["--only", "pushes"])
    with pytest.raises(SystemExit, match="--only needs parts"):
        run.requested_parts(["--only"])


def test_a_partial_run_prints_only_its_parts_with_the_load_at_start_and_end() -> None:
    figures = {"parts": ("costs", "peer"), "invoices": 2000, "costs": costs()}
    figures["peer"] = compared((50.0, 25.0))
    text = report.partial(
        figures, elapsed=42, workers=2, load_start=(1.0, 2.0, 3.0), load_end=(4.0, 5.0, 6.0)
    )
    assert text.startswith("# Benchmark, parts: costs, peer\n")
    assert "Load average at the start: 1.0 / 2.0 / 3.0; at the end: 4.0 / 5.0 / 6.0" in text
    assert "## In-process cost per request\n\n| request | SQL queries |" in text
    assert "| **distinct, median of 1 round** |" in text
    assert "## Throughput" not in text
    assert "## Live push" not in text
    assert "- [ ] pay page <= 2 ms in-process (measured 4.4 ms, median)" in text


def full_figures() -> dict:
    names = [
        "healthz",
        "pay page, 5 lines",
        "pay page, 50 lines",
        "invoice list, first page",
        "PaymentIntent via simulator only",
        "PaymentIntent via portal",
        "webhook, distinct events",
    ]
    pushed = {
        "p50": 0.0, "p99": 0.0, "send_p50": 45.0, "send_p99": 167.0, "delivered": 1.0,
        "kib_per_listener": 59.0, "listeners": 500, "refused": 0,
    }  # fmt: skip
    growth_rows = {"first page": {"p50": 30.0, "p99": 80.0}}
    return {
        "parts": report.PARTS,
        "invoices": 100_000,
        "pages": {name: wrk_row(1000.0 if name == "healthz" else 100.0) for name in names},
        "costs": costs(),
        "push": pushed,
        "crowd": {**pushed, "listeners": 5000},
        "serving": [("gunicorn", False, wrk_row(300.0), wrk_row(40.0))],
        "growth": {10_000: growth_rows, 100_000: growth_rows},
        "peer": compared((50.0, 25.0), (50.0, 12.5), (60.0, 40.0)),
    }


def test_the_full_report_states_the_load_at_start_and_end_and_merges_queries_into_costs(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(report, "DOCS", tmp_path)
    report.write(
        full_figures(), elapsed=900, workers=2, load_start=(1.5, 1.2, 1.0), load_end=(3.5, 2.2, 1.4)
    )
    text = (tmp_path / "benchmarks.md").read_text()
    header = " ".join(text.split("## Throughput", 1)[0].split())
    assert "Load average at the start of the run: 1.5 / 1.2 / 1.0; at the end: 3.5 / 2.2 / 1.4" in (
        header
    )
    section = text.split("## In-process cost per request\n\n", 1)[1]
    table = section.split("\n\n", 1)[0].splitlines()
    assert table[0] == "| request | SQL queries | median ms | p90 ms |"
    # A table and nothing else: every line a row.
    assert all(line.startswith("|") and line.endswith("|") for line in table)
    assert len(table) == 2 + len(costs())
    assert "## SQL queries per request" not in text
    assert "- [ ] pay page <= 2 ms in-process (measured 4.4 ms, median)" in text
    assert "`bench/run.py --only costs,peer`" in text
    assert (tmp_path / "benchmarks.png").exists()


def test_the_baseline_names_both_of_its_healthz_runs():
    results = {"healthz": {"rps": 1900.0, "runs_rps": [802.4, 1900.0]}}
    assert report.healthz_runs(results) == "802 and 1900"
    assert report.healthz_runs({"healthz": {"rps": 950.0}}) == "950"
