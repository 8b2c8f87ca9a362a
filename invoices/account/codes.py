"""The emailed one-time code some customers' account pages ask for (staff decide who).

Six digits, never stored (see `AccountCode.code`), valid for ten minutes and five
tries; a customer may ask for three codes per quarter hour (and one address for ten),
so the page cannot be made to flood an inbox. A right code opens the page for this
browser session, until the link is revoked or replaced.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from invoices.models import AccountCode
from invoices.outbox import queue_customer_email
from portal.counters import counters

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
SEND_WINDOW = 15 * 60
SENDS_PER_CUSTOMER = 3
SENDS_PER_IP = 10


def _session_key(customer: Customer) -> str:
    return f"account-unlocked:{customer.pk}"


def unlocked(request: HttpRequest, customer: Customer) -> bool:
    """Open without a code, or opened with one in this session for the current link."""
    if not customer.account_requires_code:
        return True
    opened = request.session.get(_session_key(customer), "")
    return bool(opened) and hmac.compare_digest(opened, customer.account_token_digest or "")


def send_code(customer: Customer, ip: str) -> bool:
    """Queue a fresh code by email (earlier ones stop working); False when rate limited."""
    store = counters()
    ip_key = "account-code:ip:" + hashlib.sha256((ip or "unknown").encode()).hexdigest()[:32]
    if store.incr(f"account-code:customer:{customer.pk}", SEND_WINDOW) > SENDS_PER_CUSTOMER:
        return False
    if store.incr(ip_key, SEND_WINDOW) > SENDS_PER_IP:
        return False
    with transaction.atomic():
        now = timezone.now()
        AccountCode.objects.filter(customer=customer, used_at__isnull=True).update(used_at=now)
        code = AccountCode.objects.create(customer=customer, expires_at=now + CODE_TTL)
        queue_customer_email(
            "account_code", customer, ref=f"code-{code.pk}", params={"code_id": code.pk}
        )
    return True


def check_code(request: HttpRequest, customer: Customer, answer: str) -> str | None:
    """None when `answer` is the current code (the session is then unlocked), else why not.

    Every answer counts as a try, the right one included, and is counted before it is
    compared, so parallel guesses cannot exceed the limit."""
    answer = answer.strip()
    with transaction.atomic():
        code = (
            AccountCode.objects.select_for_update()
            .filter(customer=customer, used_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if code is None or code.is_expired:
            return _("That code has expired. Ask for a new one.")
        if code.attempts >= MAX_TRIES:
            return _("Too many wrong codes. Ask for a new one.")
        AccountCode.objects.filter(pk=code.pk).update(attempts=F("attempts") + 1)
        right = len(answer) == 6 and answer.isascii() and answer.isdigit()
        if not (right and hmac.compare_digest(answer, code.code)):
            left = MAX_TRIES - code.attempts - 1
            if left <= 0:
                return _("Too many wrong codes. Ask for a new one.")
            return _("That code is not right. %(left)s tries left.") % {"left": left}
        AccountCode.objects.filter(pk=code.pk).update(used_at=timezone.now())
    request.session.cycle_key()  # a new session id once it opens more than before
    request.session[_session_key(customer)] = customer.account_token_digest
    return None
