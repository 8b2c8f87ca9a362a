"""Names in any script print in the PDF: emoji and CJK get real glyphs, not empty boxes."""

from __future__ import annotations

import io
import logging
import re

import pytest
from pypdf import PdfReader

from invoices.documents import pdf as documents
from tests.factories import CustomerFactory, make_open

pytestmark = pytest.mark.django_db

MISSING = "fonts missing: run `make system-deps` (fonts-noto-color-emoji, fonts-wqy-microhei)"
HEX = r"<([0-9a-fA-F]+)>"


def mapped_characters(cmap: str) -> set[str]:
    """The characters a ToUnicode CMap maps glyphs to (its bfchar and bfrange entries)."""
    chars = set()
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for _, target in re.findall(rf"{HEX}\s*{HEX}", block):
            chars.add(bytes.fromhex(target).decode("utf-16-be"))
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, target in re.findall(rf"{HEX}\s*{HEX}\s*{HEX}", block):
            first = bytes.fromhex(target).decode("utf-16-be")
            for step in range(int(high, 16) - int(low, 16) + 1):
                chars.add(first[:-1] + chr(ord(first[-1]) + step))
    return chars


def embedded_fonts(content: bytes) -> dict[str, set[str]]:
    """Each embedded font's family and the characters it has glyphs for in this PDF."""
    fonts: dict[str, set[str]] = {}
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            # Subset fonts are named "ABCDEF+Family-Style".
            name = str(font["/BaseFont"]).split("+", 1)[-1]
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            fonts.setdefault(name, set()).update(mapped_characters(cmap))
    return fonts


def test_it_prints_emoji_and_cjk_names(caplog) -> None:
    customer = CustomerFactory(name="Zoë 🎉 山田太郎", company="김민수 商事 😀")
    invoice = make_open(customer=customer)
    invoice.lines.update(description="Design 🎨 デザイン")
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        content = documents.invoice_pdf(invoice)
    # WeasyPrint says so whenever it has to draw an empty box.
    boxes = [r.getMessage() for r in caplog.records if ".notdef" in r.getMessage()]
    assert not boxes, f"{MISSING}: {boxes}"
    fonts = embedded_fonts(content)
    emoji = set().union(*(chars for name, chars in fonts.items() if "Emoji" in name))
    assert {"🎉", "😀", "🎨"} <= emoji, f"{MISSING}: {sorted(fonts)}"
    # Digits (emoji in Unicode's eyes, as keycap bases) stay in the text font.
    assert not emoji & set("0123456789#*$.,"), sorted(emoji)
    cjk = set().union(*(chars for name, chars in fonts.items() if "WenQuanYi" in name))
    assert set("山田太郎김민수商事デザイン") <= cjk, f"{MISSING}: {sorted(fonts)}"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    for words in ("Zoë", "山田太郎", "商事", "デザイン"):
        assert words in text
