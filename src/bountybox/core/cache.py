"""Encoded responses of the GET endpoints that declare `cached=True`, kept in process memory per
API token and URL. An entry is served only while the database's data version (`db/version.py`:
pushed to the process on PostgreSQL, `db/feed.py`, else read in the token's own statement) is
the one it was rendered under, and for at most `max_age` seconds (signed attachment links in a
document are good for an hour; writes made to the database by other programs than this package
do not move the version). Every write transaction
of this package changes the version, so the cache never answers with data older than the
request: it saves the statements and the rendering of a document read again before anything
changed. Keyed by token, an entry never crosses to another token, whatever it may see. Bodies
are kept compressed with LZ4 (high compression): a 12.4 KB report document takes 3.4 KB, costs
37 µs to compress once and 1.6 µs to decompress per read (zlib level 1 took 2.9 KB, 90 µs and
18 µs: an eighth of a cached read)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import lz4.block

# Bookkeeping of one entry (key tuple, URL string, dataclass, dict slot), counted with its
# compressed body.
ENTRY_OVERHEAD = 400

Key = tuple[int, str]


@dataclass(frozen=True, slots=True)
class Entry:
    version: str
    compressed: bytes
    stored_at: float

    @property
    def cost(self) -> int:
        return len(self.compressed) + ENTRY_OVERHEAD


def compress(body: bytes) -> bytes:
    compressed: bytes = lz4.block.compress(body, mode="high_compression", compression=9)
    return compressed


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
        body: bytes = lz4.block.decompress(entry.compressed)
        return body

    def put(self, key: Key, version: str, body: bytes) -> None:
        if not version:
            return
        entry = Entry(version, compress(body), self.timer())
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
