"""Encoded responses of the GET endpoints that declare `cached=True`, kept in process memory per
API token and URL. An entry is served only while the database's data version (`db/version.py`:
pushed to the process on PostgreSQL, `db/feed.py`, else read in the token's own statement) is
the one it was rendered under, and for at most `max_age` seconds (signed attachment links in a
document are good for an hour; writes made to the database by other programs than this package
do not move the version). Every write transaction
of this package changes the version, so the cache never answers with data older than the
request: it saves the statements and the rendering of a document read again before anything
changed. Keyed by token, an entry never crosses to another token, whatever it may see. Bodies
are kept deflated (zlib level 1): a 14 KB report document takes 2.7 KB, costs 90 µs to deflate
once and 15 µs to inflate per read."""

from __future__ import annotations

import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# Bookkeeping of one entry (key tuple, URL string, dataclass, dict slot), counted with its
# deflated body.
ENTRY_OVERHEAD = 400

Key = tuple[int, str]


@dataclass(frozen=True, slots=True)
class Entry:
    version: str
    deflated: bytes
    stored_at: float

    @property
    def cost(self) -> int:
        return len(self.deflated) + ENTRY_OVERHEAD


class ResponseCache:
    """A least-recently-used map from (token id, URL) to an encoded body, bounded in the bytes
    its entries take."""

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
        return zlib.decompress(entry.deflated)

    def put(self, key: Key, version: str, body: bytes) -> None:
        if not version:
            return
        entry = Entry(version, zlib.compress(body, 1), self.timer())
        # One entry may take an eighth of the cache, so a huge document cannot empty it.
        if entry.cost * 8 > self.max_bytes:
            return
        self._drop(key)
        self.entries[key] = entry
        self.size += entry.cost
        while self.size > self.max_bytes:
            _, oldest = self.entries.popitem(last=False)
            self.size -= oldest.cost

    def clear(self) -> None:
        self.entries.clear()
        self.size = 0

    def _drop(self, key: Key) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= entry.cost
