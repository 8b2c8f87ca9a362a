"""CSV for spreadsheets: cells that cannot run as formulas, streamed row by row."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator


class _Echo:
    def write(self, value: str) -> str:
        return value


def cell(value: str) -> str:
    # Spreadsheets run a cell that starts with = + - @ (or a tab or CR) as a formula.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_lines(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)
