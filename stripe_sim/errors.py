"""Stripe-shaped API errors.

Every failure the simulator reports travels as an ``ApiError`` so the HTTP layer can render
the exact body Stripe sends: ``{"error": {...}}`` with only the keys that apply.
"""

from __future__ import annotations

from typing import Any

DOC_BASE = "https://stripe.com/docs/error-codes/"


class ApiError(Exception):
    """An error the API answers with instead of an object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        # Stripe leaves out keys that do not apply rather than sending nulls.
        err: dict[str, Any] = {}
        if self.code:
            err["code"] = self.code
        if self.decline_code:
            err["decline_code"] = self.decline_code
        if self.code:
            err["doc_url"] = DOC_BASE + self.code.replace("_", "-")
        err["message"] = self.message
        if self.param:
            err["param"] = self.param
        err.update(self.extra)
        err["type"] = self.type
        return {"error": dict(sorted(err.items()))}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def missing_param(param: str) -> ApiError:
    return ApiError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def unknown_param(param: str) -> ApiError:
    return ApiError(
        400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param
    )


def no_such(kind: str, obj_id: str, *, param: str = "id") -> ApiError:
    # A missing object named in the URL is a 404; one named by a body parameter is a 400.
    status = 404 if param in ("id", "intent") else 400
    return ApiError(status, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)


def unexpected_state(message: str, *, code: str = "payment_intent_unexpected_state") -> ApiError:
    return ApiError(400, message, code=code)


def mask_key(key: str) -> str:
    """Mask an API key the way Stripe echoes it back: prefix, stars, last four."""
    parts = key.split("_")
    prefix = "_".join(parts[:2]) + "_" if len(parts) > 2 else ""
    tail = key[-4:] if len(key) - len(prefix) > 4 else ""
    stars = "*" * max(len(key) - len(prefix) - len(tail), 4)
    return f"{prefix}{stars}{tail}"


def invalid_api_key(key: str) -> ApiError:
    return ApiError(
        401,
        f"Invalid API Key provided: {mask_key(key)}",
        headers={"WWW-Authenticate": 'Basic realm="Stripe"'},
    )


def missing_api_key() -> ApiError:
    return ApiError(
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization "
        "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
        "https://stripe.com/docs/api#authentication for details, or we can help at "
        "https://support.stripe.com/.",
        headers={"WWW-Authenticate": 'Basic realm="Stripe"'},
    )


def publishable_key_forbidden() -> ApiError:
    return ApiError(
        403,
        "This API call cannot be made with a publishable API key. Please use a secret API key. "
        "You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
    )


def unrecognized_url(method: str, path: str) -> ApiError:
    return ApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or "
        "we can help at https://support.stripe.com/.",
    )


def idempotency_mismatch(key: str) -> ApiError:
    return ApiError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were first "
        f"used with. Try using a key other than '{key}' if you meant to execute a different "
        "request.",
        type="idempotency_error",
    )


def idempotency_in_use(key: str) -> ApiError:
    return ApiError(
        409,
        "There is currently another in-progress request using this Idempotent Key (that "
        "probably means you submitted twice, and the other request is still going through): "
        f"{key}. Please try again later.",
        code="idempotency_key_in_use",
    )


def not_a_platform() -> ApiError:
    return ApiError(
        400,
        "Only Stripe Connect platforms can work with other accounts. If you specified a "
        "client_id parameter, make sure it's correct. If you need to setup a Stripe Connect "
        "platform, you can do so at https://dashboard.stripe.com/account/applications/settings.",
    )
