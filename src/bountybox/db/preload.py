"""Batched loading of rows by primary key: renderers say what they will need for a whole page,
then every kind is fetched with one query, so a page costs a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Select, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from bountybox.db.idset import ids_param, in_ids

T = TypeVar("T")

IDS = ids_param()
# One statement per model, built once: building it per fetch cost more than running it.
_BY_IDS: dict[type[Any], Select[Any]] = {}


def _by_ids(model: type[Any]) -> Select[Any]:
    statement = _BY_IDS.get(model)
    if statement is None:
        statement = _BY_IDS[model] = select(model).where(in_ids(model.id, IDS))
    return statement


class Preloader:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._wanted: dict[type[Any], set[int]] = defaultdict(set)
        self._rows: dict[type[Any], dict[int, Any]] = defaultdict(dict)

    @classmethod
    def of(cls, session: AsyncSession) -> Preloader:
        """The session's own preloader: rows one step of a request loaded (a report with its
        program, say) are there for the next without a second round trip. It holds the same
        objects a query in this session would return."""
        preloader: Preloader | None = session.info.get(cls._KEY)
        if preloader is None:
            preloader = session.info[cls._KEY] = cls(session)
        return preloader

    _KEY = "bountybox.preloader"

    def want(self, model: type[Any], id_: int | None) -> None:
        if id_ is not None and id_ not in self._rows[model]:
            self._wanted[model].add(id_)

    def add(self, rows: list[Any]) -> None:
        for row in rows:
            if row is not None:
                self._rows[type(row)][row.id] = row

    async def fetch(self) -> None:
        while self._wanted:
            model, ids = self._wanted.popitem()
            ids -= self._rows[model].keys()  # added since they were wanted
            if not ids:
                continue
            rows = await self.session.scalars(_by_ids(model), {"ids": sorted(ids)})
            self.add(list(rows))

    def get(self, model: type[T], id_: int | None) -> T | None:
        if id_ is None:
            return None
        row: T | None = self._rows[model].get(id_)
        return row


_COLUMN_KEYS: dict[type[Any], frozenset[str]] = {}


def in_session(
    session: AsyncSession, model: type[T], ids: Iterable[int]
) -> tuple[dict[int, T], list[int]]:
    """The rows of `ids` this session already holds with every column loaded (read, or written
    and flushed), and the ids it does not: a write's webhook payload renders the report the write
    locked without reading it again. A row with a column still to load (a server default after
    an insert, an expired attribute) counts as missing, so it is read as before."""
    keys = _COLUMN_KEYS.get(model)
    if keys is None:
        keys = _COLUMN_KEYS[model] = frozenset(a.key for a in inspect(model).column_attrs)
    identity_map = session.sync_session.identity_map
    found: dict[int, T] = {}
    missing: list[int] = []
    for id_ in ids:
        obj = identity_map.get(identity_key(model, id_))
        if obj is not None and keys <= obj.__dict__.keys():
            found[id_] = obj
        else:
            missing.append(id_)
    return found, missing
