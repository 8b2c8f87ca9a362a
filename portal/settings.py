"""Django settings: everything comes from the environment through `portal.config`."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from django.utils.csp import CSP

from portal.config import read_config
from portal.stripe_csp import stripe_sources

BASE_DIR = Path(__file__).resolve().parent.parent

if (BASE_DIR / ".env").exists():
    import environ

    environ.Env.read_env(BASE_DIR / ".env")

CONFIG = read_config(os.environ, str(BASE_DIR))

DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = CONFIG.allowed_hosts
SITE_URL = CONFIG.site_url
CSRF_TRUSTED_ORIGINS = [SITE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks_db",
    "portal",
    "customers",
    "invoices",
]

MIDDLEWARE = [
    "portal.middleware.RequestLogMiddleware",
    "portal.middleware.CustomerLinkMiddleware",
    "portal.middleware.RefuseNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
ASGI_APPLICATION = "portal.asgi.application"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {"default": CONFIG.database}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Ordinary pages run on WEB_THREADS threads per process (portal/asgi.py) and
    # the streams' short queries on asgiref's threads, so per-thread persistent
    # connections (CONN_MAX_AGE) would multiply with every thread. A connection
    # pool per process is the safe way to keep connections open between requests.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "pool",
        {
            "min_size": 2,
            "max_size": CONFIG.database_pool_size,
            "timeout": 10,
        },
    )
    # After a database restart every pooled connection is dead: the pool checks
    # each one as it hands it out (one cheap round trip), so requests get a
    # fresh connection instead of an error.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = CONFIG.redis_url
# Shared by every worker when Redis is there (login rate limits must be).
# Short socket timeouts: a Redis that is down or unreachable must cost a page
# a fraction of a second, never a hung request (reads go through
# `portal.safecache`, which logs and falls back).
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # Where what must stay shared (login rate limits) goes while Redis is down.
    "database": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "portal_cache",
    },
}
WEB_CONCURRENCY = CONFIG.web_concurrency
WEB_THREADS = CONFIG.web_threads
# While Redis is down, live streams end this often so pages refresh their state.
LIVE_DEGRADED_REFRESH_SECONDS = CONFIG.live_degraded_refresh_seconds
# The reverse proxies whose X-Forwarded-For names the client (portal.network).
TRUSTED_PROXIES = CONFIG.trusted_proxies

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "invoices:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# Staff pages are English; customers get their own language (portal/i18n.py).
LANGUAGES = [("en", "English"), ("de", "German"), ("fr", "French")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"
# WhiteNoise serves files with a sync iterator, which Django warns about under
# ASGI; static files are small and behind a CDN in real deployments.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

MAILERS = {"default": CONFIG.mailer}
DEFAULT_FROM_EMAIL = CONFIG.default_from_email

TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_db.DatabaseBackend"
            if CONFIG.tasks_in_database
            else "django.tasks.backends.immediate.ImmediateBackend"
        )
    }
}

# A task whose worker has not finished it after this long is presumed dead
# (killed, machine lost) and is run again; see `invoices.worker`.
TASKS_LEASE_SECONDS = CONFIG.tasks_lease_seconds
# Waits between attempts to send an email (seconds); after the last, it fails.
EMAIL_RETRY_DELAYS = list(CONFIG.email_retry_delays)

STRIPE_SECRET_KEY = CONFIG.stripe_secret_key
STRIPE_PUBLISHABLE_KEY = CONFIG.stripe_publishable_key
STRIPE_WEBHOOK_SECRETS = CONFIG.stripe_webhook_secrets
STRIPE_API_BASE = CONFIG.stripe_api_base
STRIPE_JS_URL = CONFIG.stripe_js_url
PORTAL_ID = CONFIG.portal_id


# Stripe's documented sources (or the simulator's three origins): portal/stripe_csp.py.
STRIPE_CSP = stripe_sources(STRIPE_JS_URL, STRIPE_API_BASE)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE, *STRIPE_CSP["script-src"]],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *STRIPE_CSP["img-src"]],
    "connect-src": [CSP.SELF, *STRIPE_CSP["connect-src"]],
    # 'self': the staff email preview frames its own HTML part.
    "frame-src": [CSP.SELF, *STRIPE_CSP["frame-src"]],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CONFIG.site_is_https
CSRF_COOKIE_SECURE = CONFIG.site_is_https
if CONFIG.site_is_https and not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = CONFIG.secure_ssl_redirect
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"logfmt": {"()": "portal.logs.LogfmtFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "logfmt"}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.server": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "portal.requests": {"level": CONFIG.request_log_level},
    },
}
