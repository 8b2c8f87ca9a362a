"""Staff's switch for a customer's autopay (the customer page shows the saved methods)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from invoices import saved_methods
from invoices.models import SavedMethodActivity, SavedPaymentMethod
from portal.access import staff_required
from portal.htmx import done


def saved_methods_context(customer_id: int) -> dict[str, object]:
    """What the customer page's "Saved payment methods" section shows."""
    return {
        "saved_methods": list(SavedPaymentMethod.objects.filter(customer_id=customer_id)),
        "saved_method_trail": list(
            SavedMethodActivity.objects.filter(customer_id=customer_id).select_related("actor")[:10]
        ),
    }


@require_POST
@staff_required
def set_autopay(request: HttpRequest, pk: int, method_pk: int) -> HttpResponse:
    method = get_object_or_404(SavedPaymentMethod, pk=method_pk, customer_id=pk)
    on = request.POST.get("autopay") == "on"
    saved_methods.set_autopay(method=method, on=on, actor=request.user)
    state = "on" if on else "off"
    messages.success(request, f"Autopay with {method.label} is {state}.")
    return done(request, method.customer.get_absolute_url())
