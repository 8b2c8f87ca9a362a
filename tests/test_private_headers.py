"""Staff pages, the CSV export and every page behind a pay link are never cached or indexed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_open

pytestmark = pytest.mark.django_db


def assert_no_store(response, url: str) -> None:
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives, url


def test_it_keeps_staff_pages_and_the_export_out_of_caches(staff_client, customer) -> None:
    invoice = make_open(customer=customer)
    urls = [
        reverse("invoices:dashboard"),
        reverse("invoices:export"),
        reverse("invoices:detail", args=[invoice.pk]),
        reverse("invoices:pdf", args=[invoice.pk]),
        reverse("invoices:email_preview", args=[invoice.pk, "invoice"]),
        reverse("invoices:email_preview_html", args=[invoice.pk, "invoice"]),
        reverse("customers:list"),
        reverse("customers:detail", args=[customer.pk]),
        reverse("webhook_events"),
    ]
    for url in urls:
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert_no_store(response, url)


def test_it_keeps_pay_links_out_of_caches_and_search_engines(client) -> None:
    invoice = make_open()
    urls = {
        reverse("pay:invoice", args=[invoice.pay_token]): 200,
        reverse("pay:pdf", args=[invoice.pay_token]): 200,
        reverse("pay:invoice", args=["not-a-token"]): 404,
        reverse("pay:pdf", args=["not-a-token"]): 404,
    }
    for url, status in urls.items():
        response = client.get(url)
        assert response.status_code == status, url
        assert_no_store(response, url)
        assert "noindex" in response["X-Robots-Tag"], url


def test_it_marks_only_pay_links_noindex(client) -> None:
    response = client.get(reverse("login"))
    assert "X-Robots-Tag" not in response
