"""Compile the translation catalogs (`locale/*/LC_MESSAGES/django.po` -> `.mo`).

Pure Python (Babel), so neither the build nor production needs GNU gettext;
Django's own `compilemessages` would need `msgfmt`. Run as
`python -m portal.translations`; `make install`, `bin/prod` and the test
session do. Only extracting new strings (`make messages`) needs gettext.
Fuzzy entries are left out, as `msgfmt` does, so a guess never reaches a customer.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


class CatalogError(Exception):
    pass


def compile_catalog(po_path: Path) -> Path:
    mo_path = po_path.with_suffix(".mo")
    with po_path.open("rb") as file:
        catalog = read_po(file, abort_invalid=True)
    problems = [
        f"{po_path}:{message.lineno}: {error}"
        for message, errors in catalog.check()
        for error in errors
    ]
    if problems:
        raise CatalogError("\n".join(problems))
    with mo_path.open("wb") as file:
        write_mo(file, catalog, use_fuzzy=False)
    return mo_path


def compile_all(locale_dir: Path = LOCALE_DIR, *, force: bool = False) -> list[Path]:
    """Compile every catalog whose `.mo` is missing or older than its `.po`."""
    compiled = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if force or not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            compiled.append(compile_catalog(po_path))
    return compiled


def main() -> int:
    try:
        compiled = compile_all(force="--force" in sys.argv)
    except CatalogError as error:
        print(error, file=sys.stderr)
        return 1
    for path in compiled:
        print(f"compiled {path.relative_to(LOCALE_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
