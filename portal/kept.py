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

FRAGMENTS_KEPT = 2048


class Fragments:
    def __init__(self, size: int = FRAGMENTS_KEPT) -> None:
        self.size = size
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
            self._kept[key] = html
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)


fragments = Fragments()
