"""Scenario 10: the customer downloads the invoice as a PDF from the pay page."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.e2e.helpers import make_open_invoice

pytestmark = pytest.mark.e2e


def test_the_customer_downloads_the_invoice_pdf_from_the_pay_page(page: Page) -> None:
    invoice = make_open_invoice()
    page.goto(invoice.pay_path)

    link = page.get_by_role("link", name=re.compile(r"PDF", re.IGNORECASE))
    expect(link).to_be_visible()
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value

    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    assert invoice.number in download.suggested_filename, download.suggested_filename
    content = download.path().read_bytes()
    assert content.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert invoice.number in text
    assert invoice.total_text in text
