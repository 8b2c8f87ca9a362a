"""The customer's page for their saved payment methods, reached from the signed link in
every email (no account): shows what is saved and removes it on request."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from customers.models import Customer
from invoices import saved_methods
from invoices.language import customer_language
from invoices.models import BusinessProfile
from invoices.pay.context import brand_version
from invoices.pay.views import localized, not_found
from portal.i18n import language
from portal.params import MAX_ID, parse_int


@require_http_methods(["GET", "POST"])
@never_cache
def saved_methods_page(request: HttpRequest, token: str) -> HttpResponse:
    business = BusinessProfile.load()
    customer = saved_methods.customer_for_removal_token(token)
    if customer is None:
        return not_found(request, business)
    if request.method == "POST":
        # Post, redirect, get: a reload never posts the removal again.
        return redirect(f"{request.path}?done={_remove(request, customer)}")
    with language(customer_language(customer, business.default_language)):
        context = {
            "business": business,
            "brand_version": brand_version(business.brand_color),
            "customer": customer,
            "methods": list(customer.saved_methods.all()),
            "notice": _notice(request.GET.get("done", "")),
        }
        return localized(render(request, "pay/saved_methods.html", context))


def _remove(request: HttpRequest, customer: Customer) -> str:
    method_id = parse_int(request.POST.get("method"), minimum=1, maximum=MAX_ID)
    method = customer.saved_methods.filter(pk=method_id).first() if method_id else None
    if method is None:
        return "gone"
    return "removed" if saved_methods.remove(method=method, source="customer") else "stopped"


def _notice(done: str) -> dict[str, str] | None:
    if done == "removed":
        return {"tone": "good", "text": _("Removed. We will not charge it again.")}
    if done == "stopped":
        text = _(
            "We have stopped automatic payments with it, but could not remove it just now. "
            "Please try again in a few minutes."
        )
        return {"tone": "warn", "text": text}
    if done == "gone":
        return {"tone": "warn", "text": _("That payment method is no longer saved.")}
    return None
