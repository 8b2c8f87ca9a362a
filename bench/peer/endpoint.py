"""One WebhookEndpoint with the bench's signing secret; prints its URL path (manage.py shell)."""

from __future__ import annotations

import os
import uuid

from djstripe.models import WebhookEndpoint

endpoint, _ = WebhookEndpoint.objects.update_or_create(
    id="we_bench",
    defaults={
        "livemode": False,
        "api_version": "2024-06-20",
        "enabled_events": ["*"],
        "secret": os.environ["PEER_WEBHOOK_SECRET"],
        "status": "enabled",
        "url": "http://127.0.0.1/stripe/webhook/",
        "djstripe_uuid": uuid.uuid4(),
    },
)
print(f"ENDPOINT=/stripe/webhook/{endpoint.djstripe_uuid}/")
