"""The data version: a counter that every transaction changing what the API renders increments
just before it commits (`track_writes`, installed on every engine of this package, so the API,
workers and the CLI all count). The API reads it in the statement of the API token
(`core/auth.py`), so a response kept in memory is known to be current without another round
trip (`core/cache.py`). On PostgreSQL the new version is also notified, so a process can know
it without a round trip at all (`db/feed.py`).

Reading the version first and the data after it is what makes a kept response safe: the
increment commits with the write, so data read after a version is at least as new as it, and any
later write shows as a new version. On PostgreSQL, writers queue on the counter's row only
between their last statement and their commit. Writes made outside this package (psql, the
sqlite3 shell) do not count; kept responses also expire (`BOUNTYBOX_RESPONSE_CACHE_SECONDS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bountybox.db.feed import CHANNEL, version_committed

WROTE = "bountybox.wrote"
# The tables the open transaction wrote, in order (one entry per statement).
WRITES = "bountybox.writes"
BUMP = "UPDATE data_version SET version = version + 1 WHERE id = 1"
# PostgreSQL also notifies the new version to the processes listening (`db/feed.py`) once the
# transaction commits.
BUMP_AND_NOTIFY = f"{BUMP} RETURNING version, pg_notify({CHANNEL}, CAST(version AS TEXT))"
BUMP_RETURNING = f"{BUMP} RETURNING version"
# The version the open transaction's commit will make current, for the commit to announce.
COMMITTING = "bountybox.committing"
# Tables that background work writes and no cached response renders: webhook delivery
# bookkeeping (a failing receiver is retried for days) and the mail outbox. A write to them
# alone leaves cached documents valid. A cached endpoint that starts rendering one of these
# tables must take it off this list.
UNRENDERED = frozenset(
    {
        "alembic_version",
        "data_version",
        "mail_outbox",
        "webhook_deliveries",
        "webhook_delivery_attempts",
        "webhooks",
    }
)
WRITTEN_TABLE = re.compile(
    r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)',
    re.IGNORECASE,
)
# Statements that change no row: reads, transaction control, and schema changes (migrations
# write their data changes with UPDATE and INSERT, which count). Six characters of each.
UNCHANGING = frozenset(
    {"SELECT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBA", "SAVEPO", "RELEAS", "SHOW", "EXPLAI"}
    | {"CREATE", "ALTER", "DROP", "COMMEN", "GRANT"}
)
WRITE_IN_CTE = re.compile(r"\b(?:INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class data_version(FunctionElement[str]):
    """The data version as text, for a SELECT list."""

    type = String()
    inherit_cache = True


@compiles(data_version)
def _data_version(_element: data_version, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "(SELECT CAST(version AS TEXT) FROM data_version WHERE id = 1)"


def written_table(statement: str) -> str | None:
    """The table a statement writes rows of, "" when it writes but this cannot tell which, None
    when it changes no row."""
    head = statement.lstrip()[:6].upper()
    if head.split(" ", 1)[0] in UNCHANGING or head.startswith("SET "):
        return None
    if head.startswith("WITH"):
        return "" if WRITE_IN_CTE.search(statement) else None
    match = WRITTEN_TABLE.match(statement)
    return match[1].lower() if match else ""


def changes_rendered_data(statement: str) -> bool:
    """Whether a statement may change what a cached response renders: any write of rows, unless
    it names a table of UNRENDERED (statements this cannot read count as writes)."""
    table = written_table(statement)
    return table is not None and table not in UNRENDERED


@dataclass(frozen=True)
class WriteMark:
    """A point in a connection's transaction, to ask later which tables were written since."""

    writes: list[str]
    count: int


def write_mark(info: dict[Any, Any]) -> WriteMark:
    """`info` is the transaction's `Connection.info`."""
    writes: list[str] = info.setdefault(WRITES, [])
    return WriteMark(writes, len(writes))


def written_since(info: dict[Any, Any], mark: WriteMark) -> set[str] | None:
    """The tables written in the transaction since the mark ("" for a write this cannot name),
    or None when the mark belongs to a transaction that has ended."""
    if info.get(WRITES) is not mark.writes:
        return None
    return set(mark.writes[mark.count :])


# What a request already read, kept in `session.info` with the point of its transaction it holds
# at (`remember`, `remembered`).
_REMEMBERED = "bountybox.rows_read"


async def open_writes(session: AsyncSession) -> dict[Any, Any]:
    """The `Connection.info` of the session's transaction, where its writes are noted."""
    return (await session.connection()).info


def remember(session: AsyncSession, info: dict[Any, Any], key: Any, value: Any) -> None:
    """Keep what the transaction read (or knows) under `key`, for `remembered`."""
    session.info.setdefault(_REMEMBERED, {})[key] = (value, write_mark(info))


def remembered(
    session: AsyncSession, info: dict[Any, Any], key: Any, tables: frozenset[str]
) -> Any | None:
    """What was kept under `key`, unless the transaction has written one of `tables` (or a
    table it cannot name) since, or has ended: then None, and the caller reads again."""
    known = session.info.get(_REMEMBERED, {}).get(key)
    if known is None:
        return None
    value, mark = known
    written = written_since(info, mark)
    if written is None or written & tables or "" in written:
        return None
    return value


def track_writes(engine: AsyncEngine, *, notify: bool = True) -> None:
    """Every engine of the package: the data version's increment, and the tables each
    transaction writes (for `written_since`). On PostgreSQL the increment notifies the new
    version (`notify`, on unless no process listens: `BOUNTYBOX_VERSION_FEED`), and a commit that
    made one tells this process's feeds the moment it returns (`db/feed.py`)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _note_write(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        table = written_table(statement)
        if table is None:
            return
        if table not in UNRENDERED:
            conn.info[WROTE] = True
        conn.info.setdefault(WRITES, []).append(table)

    postgresql = engine.dialect.name == "postgresql"

    @event.listens_for(engine.sync_engine, "commit")
    def _bump(conn: Connection) -> None:
        if conn.info.pop(WROTE, False):
            if postgresql:
                version = conn.exec_driver_sql(BUMP_AND_NOTIFY if notify else BUMP_RETURNING)
                conn.info[COMMITTING] = version.scalar()
            else:
                conn.exec_driver_sql(BUMP)
        conn.info.pop(WRITES, None)

    @event.listens_for(engine.sync_engine, "rollback")
    def _forget(conn: Connection) -> None:
        conn.info.pop(WROTE, None)
        conn.info.pop(WRITES, None)
        conn.info.pop(COMMITTING, None)

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _forget_on_return(_dbapi_connection: Any, record: Any) -> None:
        record.info.pop(WROTE, None)
        record.info.pop(WRITES, None)
        record.info.pop(COMMITTING, None)

    if postgresql:
        # SQLAlchemy has no event after a commit has succeeded: the dialect's commit is wrapped.
        # The version is taken off the connection before the commit is tried, so a failed commit
        # announces nothing, now or later.
        sync_engine = engine.sync_engine
        commit = sync_engine.dialect.do_commit

        def do_commit(dbapi_connection: Any) -> None:
            version = dbapi_connection.info.pop(COMMITTING, None)
            commit(dbapi_connection)
            if version is not None:
                version_committed(sync_engine, int(version))

        sync_engine.dialect.do_commit = do_commit  # type: ignore[method-assign]
