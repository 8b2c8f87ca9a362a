"""The customer's link secrets, and what the database stores to find them."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any


def new_pay_token() -> str:
    # 192 random bits, URL-safe: the only secret that guards a customer's link.
    return secrets.token_urlsafe(24)


def digest_token(token: str) -> str:
    """What the database is searched by, so no lookup time depends on the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def keep_digest(instance: Any, token_field: str, digest_field: str, save_kwargs: dict) -> None:
    """Before a save: the digest follows its token, in an `update_fields` save too."""
    setattr(instance, digest_field, digest_token(getattr(instance, token_field)))
    update_fields = save_kwargs.get("update_fields")
    if update_fields is not None and token_field in update_fields:
        save_kwargs["update_fields"] = {*update_fields, digest_field}
