"""The data version pushed by PostgreSQL (db/feed.py): the feed knows every committed write,
never shows an older version after this process's own commit, reconnects, and knows nothing
while it cannot listen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import event, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bountybox.db.engine import make_engine, session_factory
from bountybox.db.feed import CHANNEL, VersionFeed
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
        assert await known_at_commit(engine, feed, org.id, f"Name {n}") in (
            [str(before + n - 1)],  # not heard yet
            [str(before + n)],
        )
        await eventually(lambda n=n: feed.known() == str(before + n))  # type: ignore[misc]


async def test_this_processs_commits_move_the_feed_as_they_return(engine: AsyncEngine) -> None:
    """Before the request that wrote answers, whatever the notification does: a feed that
    listens to nothing still follows them."""
    async with session_factory(engine)() as session:
        org = await make_org(session)
    deaf = VersionFeed(engine)
    deaf.attach()
    deaf.current = int(await stored_version(engine))
    before = deaf.current
    for n in range(1, 3):
        assert await known_at_commit(engine, deaf, org.id, f"Name {n}") == [str(before + n)]
    # A transaction that wrote nothing rendered announces nothing.
    async with engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE webhooks SET active = active WHERE id = -1")
    assert deaf.known() == str(before + 2)


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
            "SELECT pg_notify('bountybox_dv_' || md5('some_other_schema'), '999999')"
        )
        await conn.commit()
    await asyncio.sleep(0.1)
    assert feed.known() == version
    # The same notification on this schema's channel is heard.
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f"SELECT pg_notify({CHANNEL}, '999999')")
        await conn.commit()
    await eventually(lambda: feed.known() == "999999")


async def test_the_channel_fits_any_schema_name(engine: AsyncEngine) -> None:
    """PostgreSQL refuses channel names over 63 bytes, and schema names reach 63."""
    schema = "s" * 63
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        try:
            await conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
            name = (await conn.exec_driver_sql(f"SELECT {CHANNEL}")).scalar()
            assert name is not None
            assert len(name) == 45
            await conn.exec_driver_sql(f"SELECT pg_notify({CHANNEL}, '1')")
        finally:
            await conn.rollback()


async def test_a_commit_that_fails_announces_nothing(
    engine: AsyncEngine, feed: VersionFeed
) -> None:
    async with session_factory(engine)() as session:
        org = await make_org(session)
    version = await stored_version(engine)
    await eventually(lambda: feed.known() == version)
    async with session_factory(engine)() as session:
        await session.execute(
            text("CREATE TEMP TABLE twice (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
        )
        await session.execute(text("INSERT INTO twice VALUES (1), (1)"))  # refused at COMMIT
        await session.execute(
            update(Organization).where(Organization.id == org.id).values(name="Never")
        )
        with pytest.raises(IntegrityError):
            await session.commit()
    assert await stored_version(engine) == version
    await asyncio.sleep(0.05)
    assert feed.known() == version
    # Nor does the next commit of its connection: its version was taken off before the try.
    deaf = VersionFeed(engine)
    deaf.attach()
    deaf.current = int(version)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("SELECT 1")
    assert deaf.known() == version


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


async def raw_update(engine: AsyncEngine, statement: str) -> None:
    """Past the engine's events: no increment, no notification (another program, a restore)."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute(statement)  # type: ignore[union-attr]


async def test_the_heartbeat_finds_a_version_it_was_not_told_of(engine: AsyncEngine) -> None:
    restored: list[bool] = []
    feed = VersionFeed(engine, heartbeat_seconds=0.05, on_restore=lambda: restored.append(True))
    await feed.start()
    try:
        version = int(await stored_version(engine))
        await eventually(lambda: feed.known() == str(version))
        await raw_update(engine, "UPDATE data_version SET version = version + 1")
        await eventually(lambda: feed.known() == str(version + 1))
        assert restored == []
        # Lower than heard: a database restored from a backup, which reuses versions.
        await raw_update(engine, "UPDATE data_version SET version = version - 3")
        await eventually(lambda: feed.known() == str(version - 2))
        assert restored == [True]
    finally:
        await feed.stop()


async def test_a_notification_heard_during_a_heartbeat_is_not_undone(engine: AsyncEngine) -> None:
    """The heartbeat's read can be older than a notification heard while it was on its way."""
    restored: list[bool] = []
    feed = VersionFeed(engine, on_restore=lambda: restored.append(True))
    feed.current = 10
    feed.heard_of(10)
    heard_before = 10
    feed.heard_of(11)  # heard while the read was on its way
    feed.reread(10, heard_before)
    assert feed.known() == "11"
    assert restored == []
    feed.reread(7, 11)
    assert feed.known() == "7"
    assert restored == [True]
