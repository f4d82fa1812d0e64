"""Test harness: one migrated database per run (SQLite file by default, PostgreSQL when
BOUNTYBOX_TEST_DATABASE_URL is set), emptied before each test; the app is called in-process through
httpx's ASGI transport."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.db.base import Base
from bountybox.db.engine import make_engine, session_factory
from bountybox.db.migrate import upgrade

PG_URL = os.environ.get("BOUNTYBOX_TEST_DATABASE_URL")
# On PostgreSQL every run gets its own schema, so concurrent runs cannot disturb each other.
TEST_SCHEMA = f"bountybox_test_{os.getpid()}" if PG_URL else None


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bountybox-data")


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> str:
    return PG_URL or f"sqlite+aiosqlite:///{data_dir / 'test.db'}"


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    schema = TEST_SCHEMA
    if schema:
        admin = make_engine(database_url, pool=False)
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    # Test data need not survive a crash: commits do not wait for the WAL to reach the disk.
    engine = make_engine(
        database_url, search_path=schema, server_settings={"synchronous_commit": "off"}
    )
    await upgrade(engine)
    event.listen(engine.sync_engine, "before_cursor_execute", refuse_writes_outside_transactions)
    event.listen(engine.sync_engine, "before_cursor_execute", note_inserts)
    yield engine
    await engine.dispose()
    if schema:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.dispose()


# Tables this process inserted into since they were last emptied (rolled-back inserts count:
# they move the id sequence).
INSERTED_INTO: set[str] = set()
INSERT_INTO = re.compile(r"\s*INSERT\s+INTO\s+\"?(\w+)", re.IGNORECASE)
# Rows appended at commit are inserted by data-modifying CTEs on PostgreSQL (db/version.py).
INSERT_INTO_CTE = re.compile(r"\(INSERT\s+INTO\s+\"?(\w+)", re.IGNORECASE)


def note_inserts(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    match = INSERT_INTO.match(statement)
    if match:
        INSERTED_INTO.add(match[1])
    elif statement.lstrip()[:4].upper() == "WITH":
        INSERTED_INTO.update(INSERT_INTO_CTE.findall(statement))


async def empty_database(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Only the tables that hold rows (servers started by the tests write too) or were
            # inserted into; DELETE, not TRUNCATE, which syncs every table's files to disk.
            probe = " UNION ALL ".join(
                f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in tables
            )
            filled = set((await conn.exec_driver_sql(probe)).scalars())
            dirty = [name for name in tables if name in filled or name in INSERTED_INTO]
            if "reports" in filled:
                # reports.severity_id and severities.report_id point at each other.
                await conn.exec_driver_sql("UPDATE reports SET severity_id = NULL")
            for name in dirty:
                await conn.exec_driver_sql(f"DELETE FROM {name}")
            sequences = [
                f"setval(pg_get_serial_sequence('{name}', 'id'), 1, false)"
                for name in dirty
                if "id" in Base.metadata.tables[name].c
            ]
            if sequences:
                await conn.exec_driver_sql(f"SELECT {', '.join(sequences)}")
            INSERTED_INTO.clear()
        else:
            # reports.severity_id and severities.report_id point at each other.
            await conn.execute(text("UPDATE reports SET severity_id = NULL"))
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))


def refuse_writes_outside_transactions(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    """Reads run without a transaction on PostgreSQL (core/http.py): a read endpoint that wrote
    would write half of what it meant to on an error, so any write there fails the test."""
    if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        return
    if not statement.lstrip()[:6].upper().startswith(("SELECT", "WITH", "SHOW")):
        raise AssertionError(f"a write outside a transaction: {statement[:200]}")


@pytest.fixture(autouse=True)
async def clean_database(engine: AsyncEngine) -> None:
    await empty_database(engine)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key="test-secret",
        rate_limits_enabled=False,
    )


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session for arranging data; each builder call is committed so the app sees it."""
    async with session_factory(engine)() as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine, clock: Clock) -> Any:
    return create_app(settings, engine=engine, clock=clock)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            return
        self.count += 1
        self.statements.append(statement)


@pytest.fixture
def query_counter(engine: AsyncEngine) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine.sync_engine, "before_cursor_execute", counter)
