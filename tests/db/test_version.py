"""The data version (db/version.py) moves with every committed write of rendered data and stays
put for reads, rolled-back writes and delivery bookkeeping."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bountybox.db.engine import session_factory
from bountybox.db.models import Organization
from bountybox.db.version import changes_rendered_data, data_version, write_mark, written_since
from tests.builders import make_org


async def version(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        value = (await conn.execute(select(data_version()))).scalar_one()
    assert isinstance(value, str)
    return value


async def test_a_committed_write_moves_the_version_and_reads_do_not(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        org = await make_org(session)
    before = await version(engine)
    async with session_factory(engine)() as session, session.begin():
        assert await session.scalar(select(Organization.name).where(Organization.id == org.id))
    assert await version(engine) == before

    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(Organization).where(Organization.id == org.id).values(name="Renamed")
        )
    after = await version(engine)
    assert int(after) == int(before) + 1
    # Raw SQL on a connection counts as well.
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"UPDATE organizations SET name = 'Again' WHERE id = {org.id}")
    assert int(await version(engine)) == int(after) + 1


async def test_rolled_back_writes_and_delivery_bookkeeping_leave_the_version(
    engine: AsyncEngine,
) -> None:
    async with session_factory(engine)() as session:
        org = await make_org(session)
    before = await version(engine)
    async with session_factory(engine)() as session:
        await session.execute(
            update(Organization).where(Organization.id == org.id).values(name="Never")
        )
        await session.rollback()
    assert await version(engine) == before
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DELETE FROM webhook_delivery_attempts WHERE id = -1")
        await conn.exec_driver_sql("UPDATE webhooks SET active = active WHERE id = -1")
    assert await version(engine) == before
    async with session_factory(engine)() as session:
        name = await session.scalar(select(Organization.name).where(Organization.id == org.id))
    assert name != "Never"


@pytest.mark.parametrize(
    ("statement", "changes"),
    [
        ("SELECT * FROM reports FOR UPDATE", False),
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
        ("EXPLAIN SELECT 1", False),
        ("PRAGMA foreign_keys=ON", False),
        ("SET LOCAL statement_timeout = 0", False),
        ('INSERT INTO "reports" (id) VALUES (1)', True),
        ("  update reports SET title = 'x'", True),
        ("DELETE FROM activities", True),
        ("INSERT OR REPLACE INTO users (id) VALUES (1)", True),
        ("WITH x AS (UPDATE reports SET title = 'x' RETURNING id) SELECT 1", True),
        ("CREATE TABLE t (a int)", False),
        ("DROP SCHEMA test_x CASCADE", False),
        ("TRUNCATE reports", True),
        ("INSERT INTO webhook_deliveries (id) VALUES (1)", False),
        ("UPDATE webhooks SET lease_owner = NULL", False),
        ("INSERT INTO mail_outbox (id) VALUES (1)", False),
    ],
)
def test_which_statements_change_rendered_data(statement: str, changes: bool) -> None:
    assert changes_rendered_data(statement) is changes


async def test_a_transaction_tells_which_tables_it_wrote_since_a_mark(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        org = await make_org(session)
    async with engine.connect() as conn:
        async with conn.begin():
            await conn.exec_driver_sql(f"UPDATE organizations SET name = 'a' WHERE id = {org.id}")
            mark = write_mark(conn.info)
            assert written_since(conn.info, mark) == set()
            await conn.exec_driver_sql("SELECT 1")
            await conn.exec_driver_sql("DELETE FROM bounties WHERE id = -1")
            await conn.exec_driver_sql("UPDATE webhooks SET active = active WHERE id = -1")
            assert written_since(conn.info, mark) == {"bounties", "webhooks"}
        # The transaction ended: the mark holds no longer.
        async with conn.begin():
            assert written_since(conn.info, mark) is None
