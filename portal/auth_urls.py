from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import path

from portal import ratelimit
from portal.network import client_ip

logger = logging.getLogger("portal.auth")


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Slows repeated failures from one place (see `portal.ratelimit`); never locks out."""

    def clean(self) -> dict[str, Any]:
        ip = client_ip(self.request) if self.request else ""
        username = self.cleaned_data.get("username") or ""
        limits = ratelimit.login_limits(ip, username)
        wait = ratelimit.begin_attempt(limits)
        if wait:
            raise ValidationError(ratelimit.wait_message(wait), code="rate_limited")
        try:
            cleaned = super().clean()
        except ValidationError:
            ratelimit.record_failure(limits)
            raise
        if self.get_user() is None:
            # A field was missing, so no password was checked: give the number back.
            ratelimit.give_back(limits)
        else:
            ratelimit.record_success(limits)
        return cleaned


class LoginView(auth_views.LoginView):
    authentication_form = RateLimitedAuthenticationForm


class LimitedPasswordResetForm(PasswordResetForm):
    """Sends nothing once the email or the address has had its share this hour.

    The page answers the same either way, so the limit reveals nothing.
    """

    def save(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        email = self.cleaned_data["email"]
        if not ratelimit.allow_password_reset(email, client_ip(request) if request else ""):
            logger.warning("password reset limited", extra={"email_hash": hash_email(email)})
            return
        super().save(*args, request=request, **kwargs)


def hash_email(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(form_class=LimitedPasswordResetForm),
        name="password_reset",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
