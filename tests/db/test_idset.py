"""`in_ids`: membership in a list of ids as one fixed statement, on both databases, through the
index of the column."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.db.idset import ids_param, in_ids
from bountybox.db.models import Activity, User
from tests.builders import make_user

BY_IDS = select(User.username).where(in_ids(User.id, ids_param())).order_by(User.id)


def test_it_compiles_to_a_condition_each_database_can_serve_from_an_index() -> None:
    on_sqlite = str(BY_IDS.compile(dialect=sqlite.dialect()))
    on_postgresql = str(BY_IDS.compile(dialect=postgresql.dialect()))

    # Not `... IN (...) = 1`, as SQLite gets for a boolean value: that defeats every index.
    assert "WHERE users.id IN (SELECT value FROM json_each(?)) ORDER BY" in on_sqlite
    assert "WHERE users.id = ANY(%(ids)s::BIGINT[]) ORDER BY" in on_postgresql


async def test_it_selects_exactly_the_listed_rows_whatever_the_length(
    session: AsyncSession,
) -> None:
    users = [await make_user(session, username=f"u{i}") for i in range(5)]
    ids = [u.id for u in users]

    for wanted in ([], [ids[2]], [ids[4], ids[0], ids[0]], ids, [*ids, 10**12]):
        found = list(await session.scalars(BY_IDS, {"ids": wanted}))
        assert found == [f"u{ids.index(i)}" for i in sorted(set(wanted)) if i in ids]


async def test_the_report_activity_lookup_uses_its_index(engine: AsyncEngine) -> None:
    statement = select(Activity.id).where(in_ids(Activity.report_id, ids_param()))
    async with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            pytest.skip("the query plan is read on SQLite; PostgreSQL's is in docs/benchmarks.md")
        sql = str(statement.compile(conn.sync_connection))
        plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ("[1, 2]",))
        details = [row[3] for row in plan]
    assert any(
        d.startswith("SEARCH activities USING") and "INDEX ix_activities_report_id_created_at" in d
        for d in details
    ), details
