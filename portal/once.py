"""One-time form tokens: a double click (or a resent POST) acts once.

Each form that creates or sends something carries `{% form_token %}`, a random
token. The view claims it inside the transaction that does the work, by
inserting it into a unique column: the second POST with the same token waits
for the first to commit, then fails the insert and is shown the first one's
result. If the work rolls back, so does the claim, and trying again works.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.exceptions import BadRequest
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from portal.models import SubmittedForm

FIELD = "form_token"
KEEP = timedelta(days=2)


class AlreadySubmitted(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def new_token() -> str:
    return secrets.token_urlsafe(24)


def claim(request: HttpRequest) -> SubmittedForm | None:
    """Claim the posted token (call inside `transaction.atomic()`); None if none was posted.

    Raises AlreadySubmitted (with the first POST's result) for a token already used.
    """
    token = request.POST.get(FIELD, "")
    if not token:
        return None
    if len(token) > 64:
        raise BadRequest("The form token is malformed.")
    try:
        with transaction.atomic():
            return SubmittedForm.objects.create(token=token)
    except IntegrityError:
        first = SubmittedForm.objects.filter(token=token).first()
        raise AlreadySubmitted(first.result_url if first else "") from None


def done(claimed: SubmittedForm | None, result_url: str) -> None:
    """Remember where the first POST led, for the duplicates; forget old tokens."""
    if claimed is None:
        return
    claimed.result_url = result_url
    claimed.save(update_fields=["result_url"])
    SubmittedForm.objects.filter(created_at__lt=timezone.now() - KEEP).delete()


def claim_part(request: HttpRequest, part: str) -> SubmittedForm | None:
    """`claim` for one part of a form that acts on several rows, each in its own
    transaction: a resent POST skips the parts the first one did."""
    token = request.POST.get(FIELD, "")
    if not token:
        return None
    claimed = f"{token}:{part}"
    if len(claimed) > 64:
        raise BadRequest("The form token is malformed.")
    try:
        with transaction.atomic():
            return SubmittedForm.objects.create(token=claimed)
    except IntegrityError:
        raise AlreadySubmitted("") from None
