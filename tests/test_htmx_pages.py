"""One rule for fragment or page (portal/htmx.py), the same on every list and page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_open

pytestmark = pytest.mark.django_db

PARTIAL = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


def is_page(response) -> bool:
    return "<html" in response.text


@pytest.mark.parametrize("url_name", ["customers:list", "invoices:dashboard"])
def test_a_list_answers_its_results_to_htmx_and_the_page_otherwise(staff_client, url_name):
    url = reverse(url_name)
    assert is_page(staff_client.get(url))
    assert not is_page(staff_client.get(url, headers=PARTIAL))
    # A boosted link and a history restore (htmx's cache missed) need the whole page.
    assert is_page(staff_client.get(url, headers=BOOSTED))
    assert is_page(staff_client.get(url, headers=RESTORE))
    for headers in ({}, PARTIAL, BOOSTED):
        assert "HX-Request" in staff_client.get(url, headers=headers)["Vary"]


def test_the_invoice_page_answers_its_live_sections_only_when_aimed_at_them(staff_client):
    invoice = make_open(lines=1)
    url = invoice.get_absolute_url()
    aimed = {**PARTIAL, "HX-Target": "invoice-live-sections"}
    assert not is_page(staff_client.get(url, headers=aimed))
    assert is_page(staff_client.get(url, headers={**PARTIAL, "HX-Target": "elsewhere"}))
    assert is_page(staff_client.get(url, headers={**aimed, "HX-History-Restore-Request": "true"}))
