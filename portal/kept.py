"""Rendered fragments kept in this process's memory, each under the version it shows.

A fragment is kept under everything it reads (its `version`) and the language it was
rendered in, so a new version is simply a new key: nothing is ever invalidated, nothing
stale is ever served, and the least recently used fragments make room for new ones.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from django.utils.safestring import SafeString

# Characters of HTML per process (a 50-line invoice page keeps about 40,000).
FRAGMENTS_BUDGET = 8_000_000


class Fragments:
    def __init__(self, budget: int = FRAGMENTS_BUDGET) -> None:
        self.budget = budget
        self.size = 0
        self._kept: OrderedDict[Hashable, SafeString] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> SafeString | None:
        with self._lock:
            html = self._kept.get(key)
            if html is not None:
                self._kept.move_to_end(key)
            return html

    def keep(self, key: Hashable, html: SafeString) -> None:
        with self._lock:
            replaced = self._kept.pop(key, None)
            self.size -= len(replaced) if replaced is not None else 0
            self._kept[key] = html
            self.size += len(html)
            while self.size > self.budget:
                _, dropped = self._kept.popitem(last=False)
                self.size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._kept)


fragments = Fragments()
