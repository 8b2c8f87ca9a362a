"""The documented production example starts: `check --deploy` (run by bin/prod) passes with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.config import read_config
from tests.test_settings import PRODUCTION, fails_naming

ROOT = Path(__file__).resolve().parent.parent


def example_environment() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_it_passes_the_deploy_check_with_the_documented_example() -> None:
    example = example_environment()
    assert example["DEBUG"] == "false"
    # The one value nobody can copy from an example: a deployment's own secret.
    example["SECRET_KEY"] = "k3y-" + "0123456789abcdef" * 4
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), **example}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_it_sends_mail_over_tls_as_documented() -> None:
    mailer = read_config({**PRODUCTION, "EMAIL_URL": example_environment()["EMAIL_URL"]}, "/tmp")
    assert mailer.mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer.mailer["OPTIONS"]["use_tls"] is True
    ssl = read_config({**PRODUCTION, "EMAIL_URL": "smtp+ssl://u:p@mail.example.com:465"}, "/tmp")
    assert ssl.mailer["OPTIONS"]["use_ssl"] is True


@pytest.mark.parametrize("url", ["smtp://u:p@mail.example.com:587/?tls=True", "smtp://h/?ssl=1"])
def test_it_refuses_mail_options_that_would_be_ignored(url: str) -> None:
    message = fails_naming("EMAIL_URL", EMAIL_URL=url)
    assert "smtp+tls://" in message
