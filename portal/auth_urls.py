from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.urls import path

from portal import ratelimit


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Refuses sign-in (without checking the password) after too many failures."""

    def clean(self) -> dict[str, Any]:
        ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        username = self.cleaned_data.get("username") or ""
        limits = ratelimit.login_limits(ip, username)
        wait = ratelimit.retry_after(limits)
        if wait:
            minutes = ratelimit.minutes(wait)
            raise ValidationError(
                f"Too many failed attempts, try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}.",
                code="rate_limited",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            ratelimit.record_failure(limits)
            raise
        # A success clears the username's count, not the IP's: one good password
        # must not reset an address that is guessing at other accounts.
        ratelimit.reset([limit for limit in limits if limit.scope == "user"])
        return cleaned


class LoginView(auth_views.LoginView):
    authentication_form = RateLimitedAuthenticationForm


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
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
