"""Read the environment into one validated `Config`.

Every variable is listed in `.env.example`. With `DEBUG=true` each has a
development default that points at the local Stripe simulator; with
`DEBUG=false` (production) the ones that matter are required and checked, and
a bad value stops start-up with the variable's name in the message.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

SIMULATOR_SECRET_KEY = "sk_test_simulator"
SIMULATOR_PUBLISHABLE_KEY = "pk_test_simulator"
SIMULATOR_WEBHOOK_SECRET = "whsec_simulator"
SIMULATOR_API_BASE = "http://127.0.0.1:12111"
STRIPE_API_BASE = "https://api.stripe.com"
STRIPE_JS_URL = "https://js.stripe.com/v3/"

DEV_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production-0123456789"


@dataclass(frozen=True)
class Config:
    debug: bool
    secret_key: str
    allowed_hosts: list[str]
    site_url: str
    database: dict[str, Any]
    redis_url: str
    mailer: dict[str, Any]
    stripe_secret_key: str
    stripe_publishable_key: str
    stripe_webhook_secrets: list[str]
    stripe_api_base: str
    stripe_js_url: str
    web_concurrency: int
    trusted_proxies: list[str]
    portal_id: str = ""
    database_pool_size: int = 10
    default_from_email: str = "billing@localhost"
    tasks_in_database: bool = False
    tasks_lease_seconds: int = 300
    email_retry_delays: tuple[int, ...] = (60, 300, 1800, 7200, 43200)
    live_degraded_refresh_seconds: float = 15.0
    secure_ssl_redirect: bool = True
    log_level: str = "INFO"
    request_log_level: str = "INFO"
    web_threads: int = 8

    @property
    def uses_simulator(self) -> bool:
        return is_loopback_url(self.stripe_api_base)

    @property
    def site_is_https(self) -> bool:
        return self.site_url.startswith("https://")


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fail(name: str, problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name}: {problem}")


_PORTAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}")


def portal_id_from(site_url: str) -> str:
    """The default deployment stamp: SITE_URL without its scheme (host, port, path)."""
    parts = urlsplit(site_url)
    return (parts.netloc + parts.path).rstrip("/").lower()[:100]


def _read_portal_id(raw: str, site_url: str) -> str:
    """`metadata.portal` on every PaymentIntent and Customer this deployment creates.

    Events for objects without it are someone else's (another deployment on
    the same Stripe account) and are ignored.
    """
    portal_id = raw or portal_id_from(site_url)
    if not _PORTAL_ID.fullmatch(portal_id):
        raise _fail(
            "PORTAL_ID",
            "must be 1-100 letters, digits or . _ : / - (it is sent to Stripe as metadata)",
        )
    return portal_id


def read_config(environment: Mapping[str, str], base_dir: str) -> Config:
    """Build the `Config` from `environment` (normally `os.environ`)."""
    env = environ.Env()
    env.ENVIRON = dict(environment)

    def get(name: str, dev_default: str) -> str:
        value = env.str(name, default="").strip()
        if value:
            return value
        if debug:
            return dev_default
        raise _fail(name, "is required when DEBUG is false (see .env.example)")

    raw_debug = env.str("DEBUG", default="false").strip().lower()
    if raw_debug not in ("true", "false", "1", "0", "yes", "no", "on", "off", ""):
        raise _fail("DEBUG", "must be true or false")
    debug = raw_debug in ("true", "1", "yes", "on")

    secret_key = get("SECRET_KEY", DEV_SECRET_KEY)
    weak = len(secret_key) < 50 or len(set(secret_key)) < 5
    if not debug and (weak or secret_key.startswith("django-insecure")):
        raise _fail("SECRET_KEY", "must be a random string of at least 50 characters")

    allowed_hosts = [
        h.strip() for h in get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h.strip()
    ]
    site_url = get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
    if urlsplit(site_url).scheme not in ("http", "https") or not urlsplit(site_url).hostname:
        raise _fail(
            "SITE_URL", "must be an absolute http(s) URL such as https://billing.example.com"
        )

    database_url = get("DATABASE_URL", f"sqlite:///{base_dir}/db.sqlite3")
    email_url = get("EMAIL_URL", "consolemail://")
    try:
        database = env.db_url_config(database_url)
    except Exception as error:  # django-environ raises several types for a bad URL
        raise _fail("DATABASE_URL", f"cannot be parsed ({error})") from error
    try:
        email = env.email_url_config(email_url)
    except Exception as error:
        raise _fail("EMAIL_URL", f"cannot be parsed ({error})") from error
    if email.get("OPTIONS"):
        # django-environ drops query options it does not know (`?tls=True` among them):
        # silently sending passwords and invoices without TLS is not an option.
        unknown = ", ".join(sorted(email["OPTIONS"])).lower()
        raise _fail(
            "EMAIL_URL",
            f"unknown option(s) {unknown}; for TLS use smtp+tls://host:587 (STARTTLS) "
            "or smtp+ssl://host:465",
        )

    redis_url = env.str("REDIS_URL", default="").strip()
    if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise _fail("REDIS_URL", "must start with redis://, rediss:// or unix://")

    stripe_secret_key = get("STRIPE_SECRET_KEY", SIMULATOR_SECRET_KEY)
    stripe_publishable_key = get("STRIPE_PUBLISHABLE_KEY", SIMULATOR_PUBLISHABLE_KEY)
    webhook_secrets = [
        s.strip()
        for s in get("STRIPE_WEBHOOK_SECRET", SIMULATOR_WEBHOOK_SECRET).split(",")
        if s.strip()
    ]
    default_api_base = SIMULATOR_API_BASE if stripe_secret_key == SIMULATOR_SECRET_KEY else ""
    stripe_api_base = (
        env.str("STRIPE_API_BASE", default="").strip() or default_api_base or STRIPE_API_BASE
    ).rstrip("/")
    default_js_url = f"{stripe_api_base}/v3/" if is_loopback_url(stripe_api_base) else ""
    stripe_js_url = env.str("STRIPE_JS_URL", default="").strip() or default_js_url or STRIPE_JS_URL

    try:
        web_concurrency = env.int("WEB_CONCURRENCY", default=1)
    except ValueError as error:
        raise _fail("WEB_CONCURRENCY", "must be a whole number") from error
    try:
        web_threads = env.int("WEB_THREADS", default=8)
    except ValueError as error:
        raise _fail("WEB_THREADS", "must be a whole number") from error
    if web_threads < 1:
        raise _fail("WEB_THREADS", "must be at least 1")

    trusted_proxies = _trusted_proxies(env.str("TRUSTED_PROXIES", default=""))
    _check_stripe(stripe_secret_key, stripe_publishable_key, webhook_secrets, stripe_api_base)
    if stripe_secret_key.startswith(("sk_live_", "rk_live_")) and not site_url.startswith(
        "https://"
    ):
        # Stripe.js refuses live keys on plain http, and card data needs TLS anyway.
        raise _fail("SITE_URL", "must start with https:// when the Stripe keys are live keys")
    portal_id = _read_portal_id(env.str("PORTAL_ID", default="").strip(), site_url)
    operations = _read_operations(env)
    return Config(
        debug=debug,
        secret_key=secret_key,
        allowed_hosts=allowed_hosts,
        site_url=site_url,
        database=database,
        redis_url=redis_url,
        mailer=_mailer(email),
        stripe_secret_key=stripe_secret_key,
        stripe_publishable_key=stripe_publishable_key,
        stripe_webhook_secrets=webhook_secrets,
        stripe_api_base=stripe_api_base,
        stripe_js_url=stripe_js_url,
        web_concurrency=web_concurrency,
        trusted_proxies=trusted_proxies,
        portal_id=portal_id,
        **operations,
        web_threads=web_threads,
    )


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _read_operations(env: environ.Env) -> dict[str, Any]:
    """The tuning variables: each has a default, and a bad value names itself."""

    def number(name: str, default: str, kind: type[int] | type[float] = int) -> Any:
        raw = env.str(name, default="").strip() or default
        try:
            value = kind(raw)
        except ValueError as error:
            raise _fail(name, "must be a number") from error
        if value <= 0:
            raise _fail(name, "must be more than zero")
        return value

    def level(name: str) -> str:
        value = env.str(name, default="").strip().upper() or "INFO"
        if value not in LOG_LEVELS:
            raise _fail(name, f"must be one of {', '.join(LOG_LEVELS)}")
        return value

    tasks_backend = env.str("TASKS_BACKEND", default="").strip()
    if tasks_backend not in ("", "database"):
        raise _fail("TASKS_BACKEND", 'must be "database" or empty')
    redirect = env.str("SECURE_SSL_REDIRECT", default="true").strip().lower()
    if redirect not in ("true", "false"):
        raise _fail("SECURE_SSL_REDIRECT", "must be true or false")
    delays = env.str("EMAIL_RETRY_DELAYS", default="").strip() or "60,300,1800,7200,43200"
    try:
        retry_delays = tuple(int(part) for part in delays.split(","))
    except ValueError as error:
        raise _fail("EMAIL_RETRY_DELAYS", "must be whole seconds, comma separated") from error
    return {
        "database_pool_size": number("DATABASE_POOL_SIZE", "10"),
        "default_from_email": env.str("DEFAULT_FROM_EMAIL", default="").strip()
        or "billing@localhost",
        "tasks_in_database": tasks_backend == "database",
        "tasks_lease_seconds": number("TASKS_LEASE_SECONDS", "300"),
        "email_retry_delays": retry_delays,
        "live_degraded_refresh_seconds": number("LIVE_DEGRADED_REFRESH_SECONDS", "15", float),
        "secure_ssl_redirect": redirect == "true",
        "log_level": level("LOG_LEVEL"),
        "request_log_level": level("REQUEST_LOG_LEVEL"),
    }


def _trusted_proxies(raw: str) -> list[str]:
    """Addresses or networks (10.0.0.0/8) whose X-Forwarded-For is believed.

    Empty (the default) believes no one: the client is the TCP peer. "*" is
    refused: it would let any client choose the IP the login limits count.
    """
    proxies = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        try:
            proxies.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as error:
            raise _fail(
                "TRUSTED_PROXIES",
                f"{part!r} is not an IP address or network (comma-separated, e.g. 10.0.0.0/8)",
            ) from error
    return proxies


_MAILER_OPTIONS = {
    "EMAIL_HOST": "host",
    "EMAIL_PORT": "port",
    "EMAIL_HOST_USER": "username",
    "EMAIL_HOST_PASSWORD": "password",
    "EMAIL_USE_TLS": "use_tls",
    "EMAIL_USE_SSL": "use_ssl",
    "EMAIL_TIMEOUT": "timeout",
    "EMAIL_FILE_PATH": "file_path",
}


def _mailer(email: dict[str, Any]) -> dict[str, Any]:
    """django-environ's EMAIL_* settings as one entry of Django's MAILERS."""
    options = {
        option: email[key]
        for key, option in _MAILER_OPTIONS.items()
        if email.get(key) not in ("", None)
    }
    if email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
        options.setdefault("timeout", 10)
    else:
        options = {k: v for k, v in options.items() if k == "file_path"}
    return {"BACKEND": email["EMAIL_BACKEND"], "OPTIONS": options}


def _check_stripe(secret: str, publishable: str, webhook_secrets: list[str], api_base: str) -> None:
    if not secret.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
        raise _fail("STRIPE_SECRET_KEY", "must start with sk_test_ or sk_live_")
    if not publishable.startswith(("pk_test_", "pk_live_")):
        raise _fail("STRIPE_PUBLISHABLE_KEY", "must start with pk_test_ or pk_live_")
    secret_mode = secret.split("_")[1]
    publishable_mode = publishable.split("_")[1]
    if secret_mode != publishable_mode:
        raise _fail(
            "STRIPE_PUBLISHABLE_KEY",
            f"is a {publishable_mode} key but STRIPE_SECRET_KEY is a {secret_mode} key",
        )
    for webhook_secret in webhook_secrets:
        if not webhook_secret.startswith("whsec_"):
            raise _fail("STRIPE_WEBHOOK_SECRET", "must start with whsec_ (comma separated)")
    if not webhook_secrets:
        raise _fail("STRIPE_WEBHOOK_SECRET", "must hold at least one whsec_ secret")
    scheme = urlsplit(api_base).scheme
    if scheme not in ("http", "https"):
        raise _fail("STRIPE_API_BASE", "must be an http(s) URL")
    if scheme == "http" and not is_loopback_url(api_base):
        raise _fail("STRIPE_API_BASE", "must use https unless it is the local simulator")
    if secret_mode == "live" and is_loopback_url(api_base):
        raise _fail("STRIPE_API_BASE", "points at the local simulator but the keys are live keys")
