"""Run-time configuration, shared by the CLI, the control endpoints and the delivery threads."""

from __future__ import annotations

import copy
import secrets
import string
from dataclasses import asdict, dataclass, field
from typing import Any

API_VERSION = "2026-10-28.endive"  # stripe-python 16.1's pinned version (stripe/_api_version.py)
DEFAULT_PORT = 12111
DEFAULT_SECRET_KEY = "sk_test_simulator"
DEFAULT_PUBLISHABLE_KEY = "pk_test_simulator"
DEFAULT_WEBHOOK_SECRET = "whsec_simulator"


def new_account_id() -> str:
    """An id shaped like Stripe's (``acct_1`` + 15 letters and digits), new for each run."""
    alphabet = string.ascii_letters + string.digits
    return "acct_1" + "".join(secrets.choice(alphabet) for _ in range(15))


@dataclass
class Endpoint:
    url: str
    secret: str


@dataclass
class SimConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    secret_key: str = DEFAULT_SECRET_KEY
    publishable_key: str = DEFAULT_PUBLISHABLE_KEY
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    endpoints: list[Endpoint] = field(default_factory=list)
    delivery_enabled: bool = True
    hold: bool = False
    processing_delay: float = 3.0
    # Simulator seconds a bank debit stays processing (Stripe: about four business days for
    # ACH, five for SEPA); POST /_sim/advance moves the clock past it at once.
    settle_delay: float = 3.0
    clock_offset: float = 0.0
    # The methods automatic_payment_methods offers (the Dashboard's settings in Stripe),
    # each only for the currencies it takes.
    payment_methods: list[str] = field(default_factory=lambda: ["card"])
    refund_delay: float = 3.0
    retry_base: float = 1.0
    max_attempts: int = 5
    webhook_timeout: float = 10.0
    api_version: str = API_VERSION
    quiet: bool = False
    account: str = field(default_factory=new_account_id)
    js_delay: float = 0.0
    js_unavailable: bool = False

    def copy(self) -> SimConfig:
        return copy.deepcopy(self)

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["webhook_endpoints"] = data.pop("endpoints")
        return data

    def update(self, data: dict[str, Any]) -> None:
        """Apply a ``POST /_sim/config`` body; raise ``ValueError`` naming the bad field."""
        # The secret first: endpoints given without one in the same body take the new default.
        ordered = sorted(data.items(), key=lambda item: item[0] != "webhook_secret")
        for key, value in ordered:
            if key in ("webhook_endpoints", "webhook_urls"):
                self.endpoints = [self._endpoint(item) for item in _as_list(key, value)]
            elif key in ("delivery_enabled", "hold", "js_unavailable"):
                setattr(self, key, _as_bool(key, value))
            elif key in (
                "processing_delay",
                "settle_delay",
                "refund_delay",
                "retry_base",
                "webhook_timeout",
                "js_delay",
            ):
                setattr(self, key, _as_number(key, value))
            elif key == "max_attempts":
                number = _as_number(key, value)
                if number < 1 or int(number) != number:
                    raise ValueError("max_attempts must be a positive integer")
                self.max_attempts = int(number)
            elif key == "payment_methods":
                self.payment_methods = as_methods(value)
            elif key == "webhook_secret":
                self.webhook_secret = str(value)
            elif key == "account":
                self.account = as_account(value)
            else:
                raise ValueError(f"unknown config field: {key}")

    def _endpoint(self, item: Any) -> Endpoint:
        if isinstance(item, str):
            return Endpoint(item, self.webhook_secret)
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            return Endpoint(item["url"], str(item.get("secret") or self.webhook_secret))
        raise ValueError("each webhook endpoint must be a URL or {url, secret}")


def _as_list(key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list")
    return value


def _as_bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


def _as_number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{key} must be a non-negative number")
    return float(value)


def as_account(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("acct_") or len(value) < 8:
        raise ValueError("account must be an account id such as acct_1Simulator000001")
    return value


KNOWN_METHODS = ("card", "us_bank_account", "sepa_debit")


def as_methods(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list) or not value or any(item not in KNOWN_METHODS for item in value):
        raise ValueError("payment_methods must be a non-empty list of " + ", ".join(KNOWN_METHODS))
    return list(dict.fromkeys(value))
