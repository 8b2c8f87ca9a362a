from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import stripe_sim

# The browser fixtures, shared by the card and the bank browser tests.
from tests.sim.test_sim_browser import allowed_errors, chromium, shop, sim_page  # noqa: F401

FIXTURES = Path(stripe_sim.__file__).parent / "fixtures" / "fixtures3.json"


def pytest_configure(config: pytest.Config) -> None:
    # tests/conftest.py normally loads the plugin; load it here too when it has not, so this
    # folder runs on its own without registering the fixtures twice.
    if not config.pluginmanager.has_plugin("tests.plugins.simulator"):
        config.pluginmanager.import_plugin("tests.plugins.simulator")


@pytest.fixture(scope="session")
def stripe_fixtures() -> dict[str, dict[str, Any]]:
    return json.loads(FIXTURES.read_text(encoding="utf-8"))["resources"]
