"""The data version (db/version.py) moves with every committed write and stays put for reads."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bountybox.db.engine import session_factory
from bountybox.db.models import Organization
from bountybox.db.version import data_version
from tests.builders import make_org


async def version(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        value = (await conn.execute(select(data_version()))).scalar_one()
    assert isinstance(value, str)
    assert value
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
    assert after != before
    # And again: each write transaction, not only the first.
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"UPDATE organizations SET name = 'Again' WHERE id = {org.id}")
    assert await version(engine) not in (before, after)


async def test_a_rolled_back_write_leaves_sqlites_version(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        org = await make_org(session)
    before = await version(engine)
    async with session_factory(engine)() as session:
        await session.execute(
            update(Organization).where(Organization.id == org.id).values(name="Never")
        )
        await session.rollback()
    if engine.dialect.name == "sqlite":
        assert await version(engine) == before
    # A rolled-back transaction leaves the data as it was, whatever the version says.
    async with session_factory(engine)() as session:
        assert (
            await session.scalar(select(Organization.name).where(Organization.id == org.id))
            != "Never"
        )
