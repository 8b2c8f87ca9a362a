"""Pytest plugin: a Stripe simulator process for the whole test session.

Load it with ``pytest_plugins = ["tests.plugins.simulator"]`` in the top-level conftest.

- ``stripe_sim`` (session): the running ``SimulatorProcess``; webhook delivery starts disabled
  and retries are quick, so tests opt in with ``sim.configure(webhook_endpoints=[...],
  delivery_enabled=True)``.
- ``sim`` (function): the same handle after a reset of objects, events, deliveries and
  configuration, so every test starts from a blank simulator.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stripe_sim.testing import SimulatorProcess

SESSION_SETTINGS = {
    "delivery_enabled": False,
    "processing_delay": 1.0,
    "retry_base": 0.05,
    "max_attempts": 5,
    "webhook_timeout": 5.0,
}


@pytest.fixture(scope="session")
def stripe_sim() -> Iterator[SimulatorProcess]:
    with SimulatorProcess(**SESSION_SETTINGS) as process:
        yield process


@pytest.fixture
def sim(stripe_sim: SimulatorProcess) -> SimulatorProcess:
    stripe_sim.reset(config=True)
    return stripe_sim
