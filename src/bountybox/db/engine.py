"""Engine and session factory for the two supported databases (SQLite embedded, PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from bountybox.config import Settings
from bountybox.db.version import track_writes


def make_engine(
    url: str,
    *,
    pool: bool = True,
    search_path: str | None = None,
    server_settings: dict[str, str] | None = None,
    pool_size: int = 16,
    notify: bool = True,
) -> AsyncEngine:
    """`search_path` (PostgreSQL) puts every table in that schema; tests use it to isolate runs,
    and `server_settings` to commit without waiting for the disk."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        # JIT compilation costs 25 ms on the big list queries and never pays off for them.
        settings = {"jit": "off", **(server_settings or {})}
        if search_path:
            settings["search_path"] = search_path
        kwargs["connect_args"] = {"server_settings": settings}
    if not url.startswith("sqlite") and not pool:
        kwargs["poolclass"] = NullPool
    else:
        # Every connection stays open once made: an overflow connection is closed when it is
        # returned, and at 32 concurrent requests that reconnected 13 times a second.
        # PostgreSQL: one more, held by the API's data version feed (db/feed.py).
        size = pool_size if url.startswith("sqlite") else pool_size + 1
        kwargs.update(pool_size=size, max_overflow=0, pool_pre_ping=False)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # Let SQLAlchemy emit BEGIN itself (below), so a write can ask for BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")

    track_writes(engine, notify=notify)
    return engine


def engine_from_settings(settings: Settings) -> AsyncEngine:
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(url, pool_size=settings.database_pool_size, notify=settings.version_feed)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
