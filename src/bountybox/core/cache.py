"""Encoded responses of the GET endpoints that declare `cached=True`, kept in process memory per
API token and URL. An entry is served only while the database's data version (`db/version.py`,
read in the token's own statement) is the one it was rendered under, and for at most `max_age`
seconds (signed attachment links in a document are good for an hour; writes made outside this
package to a SQLite file do not move its version). Any committed write changes the version, so
the cache never answers with data older than the request: it saves the statements and the
rendering of a document read again before anything changed. Keyed by token, an entry never
crosses to another token, whatever it may see."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# Bookkeeping of one entry (key tuple, URL string, dataclass, dict slot), counted with its body.
ENTRY_OVERHEAD = 400

Key = tuple[int, str]


@dataclass(frozen=True, slots=True)
class Entry:
    version: str
    body: bytes
    stored_at: float


class ResponseCache:
    """A least-recently-used map from (token id, URL) to an encoded body, bounded in bytes."""

    def __init__(
        self,
        max_bytes: int,
        max_age: float,
        *,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.timer = timer
        self.size = 0
        self.entries: OrderedDict[Key, Entry] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0 and self.max_age > 0

    def get(self, key: Key, version: str) -> bytes | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry.version != version or self.timer() - entry.stored_at > self.max_age:
            self._drop(key)
            return None
        self.entries.move_to_end(key)
        return entry.body

    def put(self, key: Key, version: str, body: bytes) -> None:
        cost = len(body) + ENTRY_OVERHEAD
        # One entry may take an eighth of the cache, so a huge document cannot empty it.
        if not version or cost * 8 > self.max_bytes:
            return
        self._drop(key)
        self.entries[key] = Entry(version, body, self.timer())
        self.size += cost
        while self.size > self.max_bytes:
            _, oldest = self.entries.popitem(last=False)
            self.size -= len(oldest.body) + ENTRY_OVERHEAD

    def _drop(self, key: Key) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= len(entry.body) + ENTRY_OVERHEAD
