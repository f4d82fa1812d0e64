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

from sqlalchemy import (
    Column,
    CompoundSelect,
    Select,
    String,
    Table,
    bindparam,
    event,
    insert,
    literal_column,
    select,
    union_all,
)
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
# Rows the transaction only appends and never reads back (its audit item, its webhook
# deliveries), written at commit (`append_at_commit`). Each row names every column it needs set:
# PostgreSQL's single statement applies no column defaults.
APPENDED = "bountybox.appended"
# Up to this many appended rows go in one statement on PostgreSQL; a transaction that appends
# more (a bulk change) inserts each table's rows on their own.
MAX_APPENDED_TOGETHER = 16
Appended = list[tuple[Table, list[dict[str, Any]]]]
# The appending statement for each shape of appended rows (their tables, counts and columns):
# SQLAlchemy caches the compiled form of a statement with bound parameters only.
_APPENDING: dict[tuple[Any, ...], Select[Any]] = {}
# Appended tables whose rows are dropped when their parent row is gone (`kept_while_exists`): the
# table's name -> (its column naming the parent, the parent's key it references).
_KEPT_WHILE: dict[str, tuple[str, Column[Any]]] = {}
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


def kept_while_exists(table: Table, column: str) -> None:
    """Rows appended to `table` are written only when the row that their `column` (a foreign key)
    names still exists at commit: a webhook deleted while a write that queued a delivery to it
    was open takes that delivery with it, instead of failing the write on the foreign key. The
    insert locks the parent row FOR KEY SHARE (on PostgreSQL), so it cannot go between the check
    and the commit."""
    (foreign_key,) = table.c[column].foreign_keys
    _KEPT_WHILE[table.name] = (column, foreign_key.column)


def _inserting(table: Table, keys: list[str], rows_in: Select[Any] | CompoundSelect[Any]) -> Any:
    """INSERT INTO table (keys) SELECT ... FROM rows_in, without the rows whose parent is gone
    (`kept_while_exists`)."""
    kept_while = _KEPT_WHILE.get(table.name)
    if kept_while is not None:
        column, parent_key = kept_while
        rows = rows_in.subquery("appended_rows")
        still_there: Select[Any] = (
            select(literal_column("1"))
            .where(parent_key == rows.c[column])
            .with_for_update(read=True, key_share=True)
        )
        rows_in = select(*rows.c).where(still_there.exists())
    return insert(table).from_select(keys, rows_in, include_defaults=False)


def append_at_commit(info: dict[Any, Any], table: Table, rows: list[dict[str, Any]]) -> None:
    """Write `rows` into `table` when the transaction commits, after the rows appended to it
    before; every row appended to one table has the same keys. `info` is the transaction's
    `Connection.info` (`open_writes`). On PostgreSQL the rows of every table (up to
    MAX_APPENDED_TOGETHER) go in one statement, just before the data version's increment (not in
    it: their foreign keys are checked at the end of their statement, and waiting there on a row
    another writer has locked while holding the counter's row would deadlock with that writer).
    The transaction cannot read them back before it commits, and rolling back to a savepoint does
    not take them back."""
    if not rows:
        return
    kept = info.setdefault(APPENDED, {}).setdefault(table, [])
    keys = (kept or rows)[0].keys()
    if any(row.keys() != keys for row in rows):
        raise ValueError(f"rows appended to {table.name} must all have the same keys")
    kept.extend(rows)


def _appending_statement(appended: Appended) -> tuple[Select[Any], dict[str, Any]]:
    """On PostgreSQL: one statement that inserts every appended row, a data-modifying CTE per
    table, its rows in order (so are their ids); and its parameters. Built once per shape of
    rows: the rows come from a UNION ALL of parameter rows, where a multi-row VALUES would be
    compiled again on every commit."""
    shape = tuple((table, len(rows), tuple(rows[0])) for table, rows in appended)
    statement = _APPENDING.get(shape)
    if statement is None:
        statement = select(literal_column("1"))
        for number, (table, rows) in enumerate(appended):
            keys = list(rows[0])
            selects = [
                select(
                    *(
                        bindparam(f"a{number}_{index}_{key}", type_=table.c[key].type).label(key)
                        for key in keys
                    )
                )
                for index in range(len(rows))
            ]
            rows_in = selects[0] if len(selects) == 1 else union_all(*selects)
            inserted = _inserting(table, keys, rows_in)
            statement = statement.add_cte(inserted.cte(f"appended_{number}"))
        if len(_APPENDING) >= 256:
            _APPENDING.clear()
        _APPENDING[shape] = statement
    parameters = {
        f"a{number}_{index}_{key}": value
        for number, (_, rows) in enumerate(appended)
        for index, row in enumerate(rows)
        for key, value in row.items()
    }
    return statement, parameters


def _forget_transaction(info: dict[Any, Any]) -> None:
    """What a connection kept about its transaction, dropped when it ends without a commit."""
    for key in (WROTE, WRITES, COMMITTING, APPENDED):
        info.pop(key, None)


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
        appended: Appended = list(conn.info.pop(APPENDED, {}).items())
        wrote = conn.info.pop(WROTE, False) or any(
            table.name not in UNRENDERED for table, _ in appended
        )
        if postgresql and 0 < sum(len(rows) for _, rows in appended) <= MAX_APPENDED_TOGETHER:
            conn.execute(*_appending_statement(appended))
        else:
            for table, rows in appended:
                if table.name in _KEPT_WHILE:
                    keys = list(rows[0])
                    one_row = select(
                        *(bindparam(key, type_=table.c[key].type).label(key) for key in keys)
                    )
                    conn.execute(_inserting(table, keys, one_row), rows)
                else:
                    conn.execute(insert(table), rows)
        if wrote and postgresql:
            version = conn.exec_driver_sql(BUMP_AND_NOTIFY if notify else BUMP_RETURNING)
            conn.info[COMMITTING] = version.scalar()
        elif wrote:
            conn.exec_driver_sql(BUMP)
        # What these statements wrote is part of this commit, not of the connection's next one.
        conn.info.pop(WROTE, None)
        conn.info.pop(WRITES, None)

    @event.listens_for(engine.sync_engine, "rollback")
    def _forget(conn: Connection) -> None:
        _forget_transaction(conn.info)

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _forget_on_return(_dbapi_connection: Any, record: Any) -> None:
        _forget_transaction(record.info)

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
