"""Whole-database operations of the sandbox: empty every table (ids start from 1 again), copy every
row out, and put a copy back. One code path for SQLite and PostgreSQL, through the models'
metadata, so column types (UTC timestamps, JSON) round-trip exactly."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import JSON, Column, Table, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.ddl import sort_tables_and_constraints
from sqlalchemy.types import TypeEngine

import bountybox.db.models  # noqa: F401  (every table is in the metadata)
from bountybox.db.base import Base

LOCK_TIMEOUT = "30s"
# Table name -> rows, each row a column key -> value mapping.
TableRows = dict[str, list[dict[str, Any]]]


def tables() -> list[Table]:
    """Every table, parents before children."""
    return list(Base.metadata.sorted_tables)


@cache
def deferred_columns() -> dict[str, tuple[str, ...]]:
    """Foreign-key columns that cannot be filled while rows go in parent-first: those of a
    reference cycle (reports.severity_id <-> severities.report_id) and those pointing into their
    own table (reports.original_report_id). They are written NULL first and set afterwards."""
    found: dict[str, set[str]] = {}
    # The last entry holds the constraints left out of the ordering: cycles and use_alter ones.
    _, cyclic = sort_tables_and_constraints(  # type: ignore[no-untyped-call]
        list(Base.metadata.tables.values())
    )[-1]
    for constraint in cyclic:
        assert constraint.table is not None
        found.setdefault(constraint.table.name, set()).update(constraint.column_keys)
    for table in tables():
        for fk in table.foreign_keys:
            if fk.column.table is table and fk.parent.key is not None:
                found.setdefault(table.name, set()).add(fk.parent.key)
    return {name: tuple(sorted(keys)) for name, keys in found.items()}


async def empty_all(session: AsyncSession) -> None:
    """Empties every table of the schema (not the migration bookkeeping) and restarts ids at 1.
    DELETE rather than TRUNCATE: on the small tables of a sandbox it is several times faster on
    PostgreSQL, and it does not wait for every reader of the tables to finish."""
    if _dialect(session) == "postgresql":
        # A writer left idle in its transaction by some other client must not hang the reset
        # forever (the wait ends in a 503 instead).
        await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    for name, keys in deferred_columns().items():
        await session.execute(text(f"UPDATE {name} SET {', '.join(f'{k} = NULL' for k in keys)}"))
    for table in reversed(tables()):
        await session.execute(text(f"DELETE FROM {table.name}"))
    await _restart_ids(session)


async def consistent_read(session: AsyncSession) -> None:
    """Every table read in this transaction shows the same moment (SQLite's read transactions
    always do; PostgreSQL's READ COMMITTED would not, with requests writing meanwhile)."""
    if _dialect(session) == "postgresql":
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


async def dump_all(session: AsyncSession) -> TableRows:
    """Every row of every table."""
    dumped: TableRows = {}
    for table in tables():
        key = list(table.primary_key.columns) or list(table.columns)
        result = await session.execute(select(table).order_by(*key))
        dumped[str(table.name)] = [
            {column.key: row[column] for column in table.columns} for row in result.mappings()
        ]
    return dumped


async def replace_all(session: AsyncSession, dumped: TableRows) -> None:
    """Makes the database hold exactly `dumped`, ids included."""
    await empty_all(session)
    deferred = deferred_columns()
    for table in tables():
        rows = dumped.get(table.name) or []
        if not rows:
            continue
        later = deferred.get(table.name, ())
        if later:
            rows = [{**row, **dict.fromkeys(later)} for row in rows]
        await session.execute(_insert(table), rows)
    for name, keys in deferred.items():
        table = Base.metadata.tables[name]
        (pk,) = table.primary_key.columns
        for row in dumped.get(name) or []:
            values = {key: row[key] for key in keys if row[key] is not None}
            if values:
                await session.execute(update(table).where(pk == row[pk.key]).values(values))
    await _restart_ids(session)


def _insert(table: Table) -> Any:
    """An INSERT of every column; None in a JSON column is SQL NULL (not the JSON null)."""
    return insert(table).values(
        {column.key: bindparam(column.key, type_=_storable(column)) for column in table.columns}
    )


def _storable(column: Column[Any]) -> TypeEngine[Any]:
    if isinstance(column.type, JSON):
        return JSON(none_as_null=True)
    return column.type


async def _restart_ids(session: AsyncSession) -> None:
    """The next id of each table follows the largest one it holds (1 when it is empty)."""
    if _dialect(session) != "postgresql":
        # SQLite hands out max(rowid) + 1 anyway; only AUTOINCREMENT tables keep a counter.
        if await session.scalar(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
        ):
            await session.execute(text("DELETE FROM sqlite_sequence"))
        return
    for table in tables():
        if "id" not in table.columns or not table.c.id.primary_key:
            continue
        await session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                f" COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def row_counts(dumped: TableRows) -> dict[str, int]:
    return {name: len(rows) for name, rows in dumped.items() if rows}
