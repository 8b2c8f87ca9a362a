from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.config import read_config

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "0123456789abcdef" * 4,
    "ALLOWED_HOSTS": "billing.example.com",
    "SITE_URL": "https://billing.example.com",
    "DATABASE_URL": "postgres://portal@db.internal:5432/portal",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    "STRIPE_SECRET_KEY": "sk_live_abc",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_abc",
    "STRIPE_WEBHOOK_SECRET": "whsec_abc",
}


def config(**overrides: str):
    return read_config({**PRODUCTION, **overrides}, "/tmp")


def fails_naming(variable: str, **overrides: str) -> str:
    with pytest.raises(ImproperlyConfigured) as caught:
        config(**overrides)
    assert str(caught.value).startswith(f"{variable}:")
    return str(caught.value)


def test_it_reads_a_complete_production_environment():
    cfg = config()
    assert not cfg.debug
    assert cfg.database["ENGINE"] == "django.db.backends.postgresql"
    assert cfg.database["HOST"] == "db.internal"
    assert cfg.stripe_api_base == "https://api.stripe.com"
    assert cfg.stripe_js_url == "https://js.stripe.com/v3/"
    assert cfg.site_is_https
    assert not cfg.uses_simulator


def test_it_needs_every_production_variable_by_name():
    for name in ["SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "DATABASE_URL", "STRIPE_SECRET_KEY"]:
        assert "is required" in fails_naming(name, **{name: ""})


def test_it_refuses_a_short_or_insecure_secret_key():
    fails_naming("SECRET_KEY", SECRET_KEY="short")
    fails_naming("SECRET_KEY", SECRET_KEY="x" * 64)
    fails_naming("SECRET_KEY", SECRET_KEY="django-insecure-" + "x" * 60)


def test_it_refuses_live_and_test_keys_together():
    message = fails_naming("STRIPE_PUBLISHABLE_KEY", STRIPE_PUBLISHABLE_KEY="pk_test_abc")
    assert "test key" in message
    assert "live key" in message


def test_it_refuses_a_webhook_secret_without_whsec():
    fails_naming("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET="abc")
    fails_naming("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET="whsec_new,oops")


def test_it_accepts_several_webhook_secrets_for_rotation():
    cfg = config(STRIPE_WEBHOOK_SECRET="whsec_new, whsec_old")
    assert cfg.stripe_webhook_secrets == ["whsec_new", "whsec_old"]


def test_it_refuses_malformed_keys():
    fails_naming("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY="pk_live_abc")
    fails_naming("STRIPE_PUBLISHABLE_KEY", STRIPE_PUBLISHABLE_KEY="sk_live_abc")


def test_it_refuses_live_keys_against_the_simulator():
    fails_naming("STRIPE_API_BASE", STRIPE_API_BASE="http://127.0.0.1:12111")


def test_it_refuses_plain_http_to_a_remote_api():
    fails_naming(
        "STRIPE_API_BASE",
        STRIPE_SECRET_KEY="sk_test_a",
        STRIPE_PUBLISHABLE_KEY="pk_test_a",
        STRIPE_API_BASE="http://stripe.example.com",
    )


def test_it_refuses_bad_urls_by_name():
    fails_naming("SITE_URL", SITE_URL="billing.example.com")
    fails_naming("REDIS_URL", REDIS_URL="http://cache")
    fails_naming("DEBUG", DEBUG="maybe")


def test_it_refuses_live_keys_with_a_plain_http_site_url():
    message = fails_naming("SITE_URL", SITE_URL="http://billing.example.com")
    assert "https" in message
    # Test keys may run on plain http (a developer's machine, CI).
    cfg = config(
        SITE_URL="http://billing.example.com",
        STRIPE_SECRET_KEY="sk_test_a",
        STRIPE_PUBLISHABLE_KEY="pk_test_a",
    )
    assert not cfg.site_is_https


def test_it_derives_the_deployment_stamp_from_site_url():
    assert config().portal_id == "billing.example.com"
    cfg = config(SITE_URL="https://Example.com:8443/billing/")
    assert cfg.portal_id == "example.com:8443/billing"


def test_it_takes_an_explicit_deployment_stamp():
    assert config(PORTAL_ID="staging-eu").portal_id == "staging-eu"
    fails_naming("PORTAL_ID", PORTAL_ID="has spaces")
    fails_naming("PORTAL_ID", PORTAL_ID="x" * 101)


def test_development_defaults_point_at_the_simulator():
    cfg = read_config({"DEBUG": "true"}, "/tmp")
    assert cfg.uses_simulator
    assert cfg.stripe_api_base == "http://127.0.0.1:12111"
    assert cfg.stripe_js_url == "http://127.0.0.1:12111/v3/"
    assert cfg.stripe_secret_key.startswith("sk_test_")
    assert cfg.database["ENGINE"] == "django.db.backends.sqlite3"
    assert cfg.redis_url == ""


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PRODUCTION)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=f"sqlite:///{tmp_path}/deploy.sqlite3",
        STRIPE_SECRET_KEY="sk_test_abc",
        STRIPE_PUBLISHABLE_KEY="pk_test_abc",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_it_trusts_no_proxy_by_default():
    assert config().trusted_proxies == []


def test_it_reads_trusted_proxies_as_networks():
    cfg = config(TRUSTED_PROXIES="10.0.0.0/8, 192.168.1.7,::1")
    assert cfg.trusted_proxies == ["10.0.0.0/8", "192.168.1.7/32", "::1/128"]


def test_it_refuses_trusting_every_proxy():
    assert "'*'" in fails_naming("TRUSTED_PROXIES", TRUSTED_PROXIES="*")
    fails_naming("TRUSTED_PROXIES", TRUSTED_PROXIES="10.0.0.0/8,proxy.internal")


@pytest.mark.parametrize("script", ["bin/prod", "Procfile"])
def test_it_starts_uvicorn_believing_only_the_trusted_proxies(script):
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / script).read_text()
    assert "--forwarded-allow-ips '*'" not in text
    assert "TRUSTED_PROXIES" in text
    assert '--forwarded-allow-ips "$TRUSTED_PROXIES"' in text or (
        '--forwarded-allow-ips "${TRUSTED_PROXIES:-}"' in text
    )


def test_it_reads_the_tuning_variables_through_the_config():
    cfg = config(
        LOG_LEVEL="warning",
        REQUEST_LOG_LEVEL="ERROR",
        SECURE_SSL_REDIRECT="false",
        TASKS_BACKEND="database",
        EMAIL_RETRY_DELAYS="5,10",
        LIVE_DEGRADED_REFRESH_SECONDS="1.5",
        DATABASE_POOL_SIZE="4",
    )
    assert (cfg.log_level, cfg.request_log_level) == ("WARNING", "ERROR")
    assert cfg.secure_ssl_redirect is False
    assert cfg.tasks_in_database is True
    assert cfg.email_retry_delays == (5, 10)
    assert cfg.live_degraded_refresh_seconds == 1.5
    assert cfg.database_pool_size == 4


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOG_LEVEL", "loud"),
        ("REQUEST_LOG_LEVEL", "0"),
        ("SECURE_SSL_REDIRECT", "maybe"),
        ("TASKS_BACKEND", "redis"),
        ("EMAIL_RETRY_DELAYS", "60,soon"),
        ("TASKS_LEASE_SECONDS", "0"),
        ("DATABASE_POOL_SIZE", "ten"),
        ("LIVE_DEGRADED_REFRESH_SECONDS", "-1"),
    ],
)
def test_a_bad_tuning_value_names_its_variable(variable, value):
    fails_naming(variable, **{variable: value})


def test_every_variable_the_config_reads_is_documented():
    source = (Path(__file__).resolve().parent.parent / "portal" / "config.py").read_text()
    reads = r'(?:(?<![.\w])get|env\.(?:str|int|bool)|number|level)\(\s*"([A-Z][A-Z0-9_]+)"'
    read = set(re.findall(reads, source))
    assert {"SECRET_KEY", "LOG_LEVEL", "TASKS_BACKEND", "EMAIL_RETRY_DELAYS"} <= read
    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.M)) | {"DEBUG"}
    assert read - documented == set()


def test_it_names_a_bad_thread_count():
    assert "whole number" in fails_naming("WEB_THREADS", WEB_THREADS="many")
    assert "at least 1" in fails_naming("WEB_THREADS", WEB_THREADS="0")
    assert config(WEB_THREADS="4").web_threads == 4
