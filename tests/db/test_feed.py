"""The data version pushed by PostgreSQL (db/feed.py): the feed knows every committed write,
never shows an older version after this process's own commit, reconnects, and knows nothing
while it cannot listen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bountybox.db.engine import make_engine, session_factory
from bountybox.db.feed import VersionFeed
from bountybox.db.models import Organization
from tests.builders import make_org
from tests.conftest import PG_URL, TEST_SCHEMA

pytestmark = pytest.mark.skipif(not PG_URL, reason="notifications need PostgreSQL")


async def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def stored_version(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        return str((await conn.exec_driver_sql("SELECT version FROM data_version")).scalar())


@pytest.fixture
async def feed(engine: AsyncEngine) -> AsyncIterator[VersionFeed]:
    feed = VersionFeed(engine, retry_seconds=0.05)
    await feed.start()
    yield feed
    await feed.stop()


async def rename(engine: AsyncEngine, org_id: int, name: str) -> None:
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(Organization).where(Organization.id == org_id).values(name=name)
        )


async def test_the_feed_starts_at_the_stored_version_and_follows_commits(
    engine: AsyncEngine, feed: VersionFeed
) -> None:
    async with session_factory(engine)() as session:
        org = await make_org(session)
    before = int(await stored_version(engine))
    await eventually(lambda: feed.known() == str(before))
    for n in range(1, 4):
        # This process's own commit: never the older version once the commit has returned
        # (nothing, or the new one when its notification came first).
        seen = await known_at_commit(engine, feed, org.id, f"Name {n}")
        assert seen in ([None], [str(before + n)])
        await eventually(lambda n=n: feed.known() == str(before + n))  # type: ignore[misc]


async def known_at_commit(
    engine: AsyncEngine, feed: VersionFeed, org_id: int, name: str
) -> list[str | None]:
    """What the feed knows the moment a rename's commit returns, before the loop can hear the
    notification."""
    seen: list[str | None] = []
    async with session_factory(engine)() as session:
        event.listen(session.sync_session, "after_commit", lambda _s: seen.append(feed.known()))
        async with session.begin():
            await session.execute(
                update(Organization).where(Organization.id == org_id).values(name=name)
            )
    return seen


async def test_a_commit_of_another_process_shows_once_notified(
    engine: AsyncEngine, feed: VersionFeed
) -> None:
    """Another engine is what another process or host looks like to the feed."""
    async with session_factory(engine)() as session:
        org = await make_org(session)
    other = make_engine(PG_URL or "", search_path=TEST_SCHEMA)
    try:
        await rename(other, org.id, "From elsewhere")
        stored = await stored_version(other)
        await eventually(lambda: feed.known() == stored)
    finally:
        await other.dispose()


async def test_another_schemas_commits_are_not_heard(
    engine: AsyncEngine, feed: VersionFeed
) -> None:
    version = await stored_version(engine)
    await eventually(lambda: feed.known() == version)
    async with engine.connect() as conn:
        await conn.exec_driver_sql(
            "SELECT pg_notify('bountybox_data_version:some_other_schema', '999999')"
        )
        await conn.commit()
    await asyncio.sleep(0.1)
    assert feed.known() == version


async def test_a_commit_that_never_notifies_holds_the_feed_back_for_the_grace_only(
    engine: AsyncEngine,
) -> None:
    now = [0.0]
    feed = VersionFeed(engine, grace=2.0, timer=lambda: now[0])
    await feed.start()
    try:
        version = await stored_version(engine)
        await eventually(lambda: feed.known() == version)
        feed.expect(int(version) + 1)  # a commit that then failed
        assert feed.known() is None
        now[0] = 1.9
        assert feed.known() is None
        now[0] = 2.1
        assert feed.known() == version
    finally:
        await feed.stop()


async def test_a_lost_connection_knows_nothing_until_it_listens_again(
    engine: AsyncEngine, feed: VersionFeed
) -> None:
    version = await stored_version(engine)
    await eventually(lambda: feed.known() == version)
    async with engine.connect() as conn:
        terminated = await conn.exec_driver_sql(f"SELECT pg_terminate_backend({feed.backend_pid})")
        assert terminated.scalar() is True
    await eventually(lambda: feed.known() is None)
    await eventually(lambda: feed.known() == version)


async def test_the_heartbeat_finds_a_version_it_was_not_told_of(engine: AsyncEngine) -> None:
    """A notification missed (or a database restored from a backup) shows within a
    heartbeat."""
    feed = VersionFeed(engine, heartbeat_seconds=0.05)
    await feed.start()
    try:
        version = int(await stored_version(engine))
        await eventually(lambda: feed.known() == str(version))
        async with engine.connect() as conn:
            # Raw DBAPI, past the engine's events: no increment, no notification.
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute(  # type: ignore[union-attr]
                "UPDATE data_version SET version = version - 1"
            )
        await eventually(lambda: feed.known() == str(version - 1))
    finally:
        await feed.stop()
