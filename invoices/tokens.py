"""The customer's pay link secret, and what the database stores to find it."""

from __future__ import annotations

import hashlib
import secrets


def new_pay_token() -> str:
    # 192 random bits, URL-safe: the only secret that guards a customer's link.
    return secrets.token_urlsafe(24)


def digest_token(token: str) -> str:
    """What the database is searched by, so no lookup time depends on the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()
