from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """One rate-limit counter when there is no shared cache (see `portal.counters`).

    `value` is only ever changed by a single UPDATE with F() expressions, so
    concurrent requests on every process count exactly.
    """

    key = models.CharField(max_length=100, unique=True)
    value = models.BigIntegerField(default=0)
    last = models.FloatField(null=True, blank=True)  # epoch seconds of the last failure
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class SubmittedForm(models.Model):
    """A form's one-time token, claimed by the POST that acted on it (see `portal.once`)."""

    token = models.CharField(max_length=64, unique=True)
    result_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.token
