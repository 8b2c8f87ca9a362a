"""Hostile values in every quote form and query parameter: never a 5xx, and a refusal
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices.models import Invoice, InvoiceLine, Quote, QuoteActivity, QuoteLine
from tests.factories import StaffFactory
from tests.quote_helpers import accept_post, make_quote
from tests.test_fuzz_inputs import hostile_values
from tests.test_quote_pages import editor_post

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def rows() -> dict[str, Any]:
    return {
        "quotes": list(Quote.objects.order_by("pk").values()),
        "quote_lines": list(QuoteLine.objects.order_by("pk").values()),
        "quote_trail": list(QuoteActivity.objects.order_by("pk").values()),
        "invoices": list(Invoice.objects.order_by("pk").values()),
        "invoice_lines": list(InvoiceLine.objects.order_by("pk").values()),
    }


@pytest.fixture
def world(db) -> dict[str, Any]:
    staff = Client()
    staff.force_login(StaffFactory(username="quote-fuzzer"))
    draft = make_quote(send=False)
    sent = make_quote()
    return {"staff": staff, "customer": Client(), "draft": draft, "sent": sent}


def hostile_dict(data: st.DataObject, fields: dict[str, str]) -> dict[str, str]:
    return {
        name: data.draw(st.one_of(st.just(value), hostile_values), label=name)
        for name, value in fields.items()
    }


@FUZZ
@given(data=st.data())
def test_the_quote_editor_survives_hostile_values(world, data):
    quote = data.draw(st.sampled_from([world["draft"], world["sent"]]), label="quote")
    post = hostile_dict(data, editor_post())
    with transaction.atomic():
        before = rows()
        response = world["staff"].post(reverse("quotes:edit", args=[quote.pk]), post)
        assert response.status_code < 500, post
        if response.status_code != 302:
            assert rows() == before
        transaction.set_rollback(True)


@FUZZ
@given(data=st.data())
def test_the_new_quote_form_survives_hostile_values(world, data):
    post = hostile_dict(data, {"customer": str(world["draft"].customer_id), "currency": "USD"})
    with transaction.atomic():
        before = rows()
        response = world["staff"].post(reverse("quotes:new"), post)
        assert response.status_code < 500, post
        if response.status_code != 302:
            assert rows() == before
        transaction.set_rollback(True)


@FUZZ
@given(data=st.data())
def test_the_customer_answers_survive_hostile_values(world, data):
    quote = world["sent"]
    action = data.draw(st.sampled_from(["accept", "decline"]), label="action")
    fields = accept_post(quote) if action == "accept" else {"note": "Too dear"}
    post = hostile_dict(data, fields)
    with transaction.atomic():
        before = rows()
        response = world["customer"].post(reverse(f"quote_pay:{action}", args=[quote.token]), post)
        assert response.status_code < 500, post
        if response.status_code != 302:
            assert response.status_code == 409
            assert rows() == before
        else:
            assert Quote.objects.get(pk=quote.pk).status in ("accepted", "declined")
        transaction.set_rollback(True)


@FUZZ
@given(status=hostile_values, q=hostile_values)
def test_the_quote_list_survives_hostile_query_parameters(world, status, q):
    # A NUL is refused for the whole site with a 400 (`RefuseNulMiddleware`).
    response = world["staff"].get(reverse("quotes:list"), {"status": status})
    assert response.status_code == (400 if "\x00" in status else 200)
    response = world["staff"].get(reverse("quotes:new"), {"customer_q": q, "customer": q})
    assert response.status_code == (400 if "\x00" in q else 200)
