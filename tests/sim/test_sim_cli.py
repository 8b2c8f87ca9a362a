"""The command line: loopback-only binding, help text and ``trigger``."""

from __future__ import annotations

import subprocess
import sys

from stripe_sim.testing import PACKAGE_ROOT, SimulatorProcess


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stripe_sim", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=PACKAGE_ROOT,
    )


def test_it_refuses_to_bind_a_public_address() -> None:
    result = run("--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2
    assert "refusing to listen on '0.0.0.0'" in result.stderr
    assert "loopback" in result.stderr


def test_it_refuses_an_account_id_that_is_not_one() -> None:
    result = run("--port", "0", "--account", "cus_123")
    assert result.returncode == 2
    assert "account must be an account id" in result.stderr


def test_it_documents_every_option_in_help() -> None:
    result = run("--help")
    assert result.returncode == 0
    for option in (
        "--port",
        "--host",
        "--webhook-url",
        "--webhook-secret",
        "--secret-key",
        "--publishable-key",
        "--processing-delay",
        "--refund-delay",
        "--account",
        "--retry-base",
        "--max-attempts",
        "--quiet",
        "trigger",
    ):
        assert option in result.stdout
    assert "--api-base" in run("trigger", "--help").stdout


def test_it_triggers_a_succeeded_payment_intent(sim: SimulatorProcess) -> None:
    result = run("trigger", "payment_intent.succeeded", "--api-base", sim.api_base)
    assert result.returncode == 0, result.stderr
    assert "Trigger succeeded" in result.stdout
    events = sim.events("payment_intent.succeeded")
    assert len(events) == 1
    assert events[0]["data"]["object"]["metadata"] == {}


def test_it_reports_a_trigger_against_nothing(sim: SimulatorProcess) -> None:
    result = run("trigger", "payment_intent.succeeded", "--api-base", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert "cannot reach the simulator" in result.stderr


def test_it_logs_one_line_per_request(sim: SimulatorProcess) -> None:
    sim.client().v1.customers.list()
    assert any('"GET /v1/customers" 200' in line for line in sim.logs().splitlines())


def test_it_starts_and_stops_as_a_context_manager() -> None:
    with SimulatorProcess(quiet=True) as process:
        assert process.get("/_sim/healthz")["ok"] is True
        assert process.running
    assert not process.running
