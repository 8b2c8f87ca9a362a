"""Test settings: the development defaults (simulator keys, SQLite) unless the
environment says otherwise (CI sets DATABASE_URL and REDIS_URL)."""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SITE_URL", "http://testserver")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from portal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The streams' lookups run on the test's connection, inside its transaction (invoices/live.py).
LIVE_STREAMS_SHARE_REQUEST_CONNECTION = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the live server's threads then get connections of
    # their own instead of sharing the test's (which breaks when a webhook
    # arrives while the test is inside a transaction).
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"portal-tests-{os.getpid()}.sqlite3")
    }
