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
        "--settle-delay",
        "--clock-offset",
        "--payment-methods",
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


def test_it_refuses_a_payment_method_it_does_not_know() -> None:
    result = run("--port", "0", "--payment-methods", "card,ideal")
    assert result.returncode == 2
    assert "payment_methods must be a non-empty list of card, us_bank_account, sepa_debit" in (
        result.stderr
    )


def test_it_offers_the_configured_methods_and_settles_debits_by_the_wall_clock() -> None:
    with SimulatorProcess(
        quiet=True, payment_methods=("card", "us_bank_account"), settle_delay=0.3
    ) as process:
        client = process.client()
        pi = client.v1.payment_intents.create(
            params={
                "amount": 5000,
                "currency": "usd",
                "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            }
        )
        assert list(pi.payment_method_types) == ["card", "us_bank_account"]
        pi = client.v1.payment_intents.confirm(
            pi.id,
            params={
                "payment_method": "pm_usBankAccount_success",
                "mandate_data": {"customer_acceptance": {"type": "offline"}},
            },
        )
        assert pi.status == "processing"
        process.wait_for(
            lambda: client.v1.payment_intents.retrieve(pi.id).status == "succeeded",
            what="the debit to settle after --settle-delay",
        )


def test_it_starts_its_clock_at_the_offset() -> None:
    with SimulatorProcess(quiet=True) as plain:
        now = plain.client().v1.customers.create().created
    offset = 10 * 86400
    with SimulatorProcess(quiet=True, clock_offset=offset) as process:
        assert process.client().v1.customers.create().created - now >= offset - 60
