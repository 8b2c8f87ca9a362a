"""The quote editor is the invoice editor: its template and partials, posting to the
quote's own addresses, with autosave (drafts), catalog suggestions, named tax rates and
line undo; the quote adds its expiry and deposit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices.models import CatalogItem, Quote, TaxRate
from tests.quote_helpers import make_quote
from tests.test_fuzz_inputs import HOSTILE
from tests.test_quote_pages import editor_post
from tests.test_quotes_fuzz import rows

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def autosave(staff_client, quote: Quote, **overrides: str):
    post = {**editor_post(**overrides), "autosave": "1"}
    return staff_client.post(reverse("quotes:edit", args=[quote.pk]), post, **HX)


def test_it_is_the_invoice_editors_form_posting_to_the_quote(staff_client):
    quote = make_quote(send=False)
    html = staff_client.get(reverse("quotes:edit", args=[quote.pk])).content.decode()
    edit = reverse("quotes:edit", args=[quote.pk])
    assert (
        f'<form id="invoice-editor" class="card stack editor" method="post" action="{edit}"' in html
    )
    assert f'<span hidden hx-post="{edit}" hx-trigger="change from:closest form"' in html
    lines = f"/quotes/{quote.pk}/lines/"
    assert f'hx-get="{lines}0/suggestions/"' in html
    assert f'hx-post="{lines}0/remove/"' in html
    assert f'hx-post="{lines}0/down/"' in html
    assert f'hx-post="{lines}add/"' in html
    assert "data-tax-select" in html  # the named rates
    for name in ("expires_on", "deposit_kind", "deposit_value"):
        assert f'name="{name}"' in html
    # What belongs to invoices only stays out.
    assert 'name="po_number"' not in html
    assert "Finalize" not in html
    assert "Change customer" not in html
    assert "/invoices/" not in html.split('id="invoice-editor"')[1]


def test_the_invoice_editor_keeps_its_own_addresses(staff_client):
    from tests.factories import make_draft

    invoice = make_draft()
    html = staff_client.get(reverse("invoices:edit", args=[invoice.pk])).content.decode()
    assert f'hx-post="{reverse("invoices:edit", args=[invoice.pk])}"' in html
    assert f'hx-post="{reverse("invoices:remove_line", args=[invoice.pk, 0])}"' in html
    assert f'hx-get="{reverse("invoices:catalog_suggestions", args=[invoice.pk, 0])}"' in html
    assert 'name="expires_on"' not in html
    assert 'name="po_number"' in html


def test_a_drafts_autosave_saves_and_answers_only_what_was_computed(staff_client):
    quote = make_quote(send=False)
    response = autosave(staff_client, quote, **{"line-0-quantity": "3"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "All changes saved." in html
    assert 'id="editor-totals" hx-swap-oob="true"' in html
    assert "<textarea" not in html  # the inputs are left alone while someone types
    quote.refresh_from_db()
    assert quote.total == 3 * 5500 + 10000
    assert quote.deposit_amount == quote.total // 4
    assert quote.version == 1


def test_a_bad_deposit_is_shown_beside_its_field_and_saves_nothing(staff_client):
    quote = make_quote(send=False)
    before = (quote.total, quote.deposit_amount, quote.content_digest)
    html = autosave(staff_client, quote, deposit_value="abc", **{"line-0-quantity": "9"}).content
    html = html.decode()
    assert '<div id="err-deposit_value" class="errors" hx-swap-oob="true">' in html
    assert "Enter a percentage" in html
    assert "Not saved: fix the errors below." in html
    quote.refresh_from_db()
    assert (quote.total, quote.deposit_amount, quote.content_digest) == before


def test_a_sent_quote_saves_only_when_asked_each_save_a_version(staff_client):
    quote = make_quote()
    html = staff_client.get(reverse("quotes:edit", args=[quote.pk])).content.decode()
    assert "change from:closest form" not in html  # no autosave: each save is a version
    assert "Save as a new version" in html
    moved = staff_client.post(
        reverse("quotes:move_line", args=[quote.pk, 0, "down"]), editor_post(), **HX
    )
    assert "Not saved yet: press Save" in moved.content.decode()
    assert Quote.objects.get(pk=quote.pk).version == 1
    saved = autosave(staff_client, quote, **{"line-0-quantity": "3"})
    assert "All changes saved." in saved.content.decode()
    quote.refresh_from_db()
    assert quote.version == 2
    assert quote.total == 3 * 5500 + 10000


def test_a_removed_line_comes_back_with_undo(staff_client):
    quote = make_quote(send=False)
    removed = staff_client.post(
        reverse("quotes:remove_line", args=[quote.pk, 0]), editor_post(), **HX
    ).content.decode()
    assert "Line 1 removed." in removed
    assert f'hx-post="/quotes/{quote.pk}/lines/0/restore/"' in removed
    assert [line.description for line in quote.lines.all()] == ["Build"]
    post = editor_post(
        **{"line-count": "1", "line-0-description": "Build", "line-0-quantity": "1"},
        **{"line-0-unit_price": "100", "line-0-tax_rate": "0"},
    )
    post = {k: v for k, v in post.items() if not k.startswith("line-1-")}
    post.update({"undo-description": "Design", "undo-quantity": "2", "undo-unit_price": "50"})
    post.update({"undo-tax_rate": "10", "undo-named_tax": ""})
    staff_client.post(reverse("quotes:restore_line", args=[quote.pk, 0]), post, **HX)
    assert [line.description for line in quote.lines.all()] == ["Design", "Build"]


def test_catalog_items_are_suggested_and_picked_with_their_named_rate(staff_client):
    rate = TaxRate.objects.create(name="VAT 20%", percent=Decimal(20))
    item = CatalogItem.objects.create(
        name="Design hour", unit_amount=1999, currency="USD", tax_rate=rate
    )
    quote = make_quote(send=False)
    url = reverse("quotes:catalog_suggestions", args=[quote.pk, 1])
    found = staff_client.get(url, {"line-1-description": "design", "currency": "USD"})
    html = found.content.decode()
    assert "Design hour" in html
    assert f'hx-post="/quotes/{quote.pk}/lines/1/pick/"' in html
    staff_client.post(
        reverse("quotes:pick_item", args=[quote.pk, 1]),
        {**editor_post(), "item": str(item.pk)},
        **HX,
    )
    line = quote.lines.get(position=1)
    assert (line.description, line.unit_amount, line.named_tax_id) == ("Design hour", 1999, rate.pk)
    assert line.tax_rate == Decimal(20)


def test_an_answered_quote_refuses_every_line_button(staff_client):
    quote = make_quote()
    Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.DECLINED)
    before = rows()
    for name, args in [
        ("quotes:add_line", [quote.pk]),
        ("quotes:remove_line", [quote.pk, 0]),
        ("quotes:move_line", [quote.pk, 0, "down"]),
        ("quotes:restore_line", [quote.pk, 0]),
    ]:
        response = staff_client.post(reverse(name, args=args), editor_post(), **HX)
        assert response.status_code == 409
        assert response["HX-Redirect"] == quote.get_absolute_url()
    assert rows() == before
    assert (
        staff_client.post(reverse("quotes:edit", args=[quote.pk]), editor_post()).status_code == 302
    )
    assert rows() == before


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_line_buttons_survive_hostile_values(staff_client, data):
    quote = make_quote()  # sent: the buttons never save it, whatever they are sent
    hostile = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20))
    name = data.draw(st.sampled_from(["add", "remove", "restore", "pick", "up", "down"]))
    post: dict[str, Any] = editor_post()
    for field in data.draw(st.lists(st.sampled_from([*sorted(post), "item"]), max_size=3)):
        post[field] = data.draw(hostile)
    index = data.draw(st.integers(min_value=0, max_value=2**31))
    lines = f"/quotes/{quote.pk}/lines/"
    url = {"add": f"{lines}add/", "up": f"{lines}{index}/up/", "down": f"{lines}{index}/down/"}
    url = url.get(name, f"{lines}{index}/{name}/")
    with transaction.atomic():
        before = rows()
        response = staff_client.post(url, post, **HX)
        assert response.status_code < 500
        assert rows() == before
        transaction.set_rollback(True)
