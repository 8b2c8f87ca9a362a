"""The German and French catalogs: complete, placeholders intact, and current.

"Current" is checked without GNU gettext: every string the templates and the
Python code mark for translation (found the way `makemessages` finds them) must
have an entry in each catalog, so a new `{% translate %}` cannot ship untranslated.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation.template import templatize

from portal.translations import CatalogError, compile_catalog

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ["de", "fr"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
SOURCES = ["customers", "invoices", "portal"]


def catalog(language: str) -> Catalog:
    with (ROOT / "locale" / language / "LC_MESSAGES" / "django.po").open("rb") as file:
        return read_po(file, locale=language)


def entries(language: str) -> list:
    return [message for message in catalog(language) if message.id]


def marked_strings() -> set[tuple[str | None, str]]:
    """(context, msgid) of everything marked in templates/ and the apps' Python code."""
    found: set[tuple[str | None, str]] = set()

    def collect(python_source: str) -> None:
        fileobj = io.BytesIO(python_source.encode())
        for _, message, _, context in extract("python", fileobj, keywords=KEYWORDS):
            found.add((context, message[0] if isinstance(message, tuple) else message))

    for template in (ROOT / "templates").rglob("*"):
        if template.suffix in {".html", ".txt"}:
            # templatize() keeps the template's layout as filler text, which is not
            # Python a tokenizer accepts until each line loses its indentation.
            python = templatize(template.read_text(), origin=str(template))
            collect("\n".join(line.lstrip() for line in python.splitlines()))
    for package in SOURCES:
        for module in (ROOT / package).rglob("*.py"):
            if "migrations" not in module.parts:
                collect(module.read_text())
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_translates_every_entry(language):
    untranslated = [
        message.id
        for message in entries(language)
        if message.fuzzy
        or not message.string
        or (isinstance(message.string, tuple) and not all(message.string))
    ]
    assert untranslated == []
    assert not catalog(language).fuzzy


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_keeps_every_placeholder(language):
    for message in entries(language):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == expected, (message.id, string)


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_has_an_entry_for_every_marked_string(language):
    in_catalog = {
        (message.context, message.id if isinstance(message.id, str) else message.id[0])
        for message in entries(language)
    }
    missing = marked_strings() - in_catalog
    assert missing == set(), "run `make messages` and translate the new strings"


def test_the_check_finds_the_marked_strings():
    # Guards the test above against finding nothing (and so passing vacuously).
    marked = marked_strings()
    assert ("date", "Due") in marked
    assert (None, "The payment was not completed.") in marked  # Python gettext
    assert (None, "This invoice is already paid. Thank you!") in marked  # gettext_noop
    assert ("invoice status", "Paid") in marked  # pgettext_lazy on a model


def test_compiling_refuses_a_broken_placeholder(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        "#, python-format\n"
        'msgid "Invoice %(number)s"\nmsgstr "Rechnung %(nummer)s"\n'
    )
    with pytest.raises(CatalogError, match="placeholder"):
        compile_catalog(po)
