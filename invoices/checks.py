from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register()
def live_updates_need_redis(**kwargs: Any) -> list[Warning]:
    if settings.WEB_CONCURRENCY > 1 and not settings.REDIS_URL:
        return [
            Warning(
                "WEB_CONCURRENCY is above 1 but REDIS_URL is not set: live updates published "
                "by one worker will not reach pages connected to another.",
                hint="Set REDIS_URL (e.g. redis://127.0.0.1:6379/0) or run a single worker.",
                id="invoices.W001",
            )
        ]
    return []
