"""The data version: a value that changes whenever a transaction that wrote commits. The API reads
it in the same statement as the API token (`core/auth.py`), so a response cached under it is
known to be current without another round trip (`core/cache.py`).

- PostgreSQL: the transaction snapshot (`txid_current_snapshot()`: the oldest running
  transaction, the next transaction id and the ones in progress). It changes whenever any
  transaction that writes starts or ends, whoever runs it (another server process, a worker,
  psql), and costs writers nothing. Two statements that see the same snapshot see the same data.
- SQLite: the database header's `user_version`, which every engine of this package increments in
  the transaction of a write, just before it commits (`track_writes`). SQLite runs one write
  transaction at a time, so the increment costs one statement and no contention. A write made
  outside this package (the sqlite3 shell) does not move it; cached responses also expire.

Reading the version first and the data after it is what makes a cached response safe: the data
is at least as new as the version it is stored under, and a later version never equals it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

WROTE = "bountybox.wrote"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


class data_version(FunctionElement[str]):
    """The database's data version as text, for a SELECT list."""

    type = String()
    inherit_cache = True


@compiles(data_version)
def _data_version_sqlite(_element: data_version, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "(SELECT CAST(user_version AS TEXT) FROM pragma_user_version)"


@compiles(data_version, "postgresql")
def _data_version_postgresql(_element: data_version, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "CAST(txid_current_snapshot() AS TEXT)"


def _writes(statement: str, context: ExecutionContext | None) -> bool:
    if isinstance(context, DefaultExecutionContext) and (
        context.isinsert or context.isupdate or context.isdelete
    ):
        return True
    return statement.lstrip()[:6].upper() in WRITES


def track_writes(engine: AsyncEngine) -> None:
    """SQLite: a transaction that wrote increments `user_version` before it commits."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _note_write(
        conn: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        if not conn.info.get(WROTE) and _writes(statement, context):
            conn.info[WROTE] = True

    @event.listens_for(engine.sync_engine, "commit")
    def _bump(conn: Connection) -> None:
        if conn.info.get(WROTE):
            version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
            # The header holds a signed 32-bit integer; wrap around long before it overflows.
            conn.exec_driver_sql(f"PRAGMA user_version = {(int(version) + 1) % 2_000_000_000}")
            conn.info.pop(WROTE, None)

    @event.listens_for(engine.sync_engine, "rollback")
    def _forget(conn: Connection) -> None:
        conn.info.pop(WROTE, None)
