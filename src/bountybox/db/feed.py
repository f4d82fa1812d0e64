"""The data version pushed to the process (PostgreSQL `LISTEN`/`NOTIFY`), so a read can know the
database is unchanged without asking it.

Every write transaction of the package increments the data version just before it commits and
notifies the new value on a channel of its schema (`db/version.py`). A `VersionFeed` listens on
that channel on a connection of its own and holds the latest committed version; the API serves a
read from memory (the token's actor, a cached document) only while the feed has one.

What keeps it exact:

- The feed starts listening before it reads the version, so no commit falls between the two.
- A notification is sent when its transaction has committed, so data read after the feed
  shows a version is at least as new as that version, as with the version read in the token's
  statement.
- This process's own write transactions hold the feed back from just before they commit until
  their notification arrives (`expect`): a client that wrote through this process reads its
  write in the next request. Writes from other processes and hosts show once their notification
  arrives, a fraction of a millisecond after their commit on an idle machine.
- A transaction whose commit fails never notifies: the feed holds back for at most `grace`
  seconds for it.
- A heartbeat reads the version every few seconds: a connection that died silently or a missed
  notification costs at most that long.
- While the feed has no connection (not started, the database restarted, the connection lost),
  it knows nothing and every request reads the version from the database.

SQLite has no notifications: there the feed never starts and the version is read per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import Pool

log = logging.getLogger("bountybox.feed")

CHANNEL_PREFIX = "bountybox_data_version"
# Which feeds a commit on a pool's connections holds back (`expect`).
_FEEDS: weakref.WeakKeyDictionary[Pool, weakref.WeakSet[VersionFeed]] = weakref.WeakKeyDictionary()


def channel(schema: str) -> str:
    """The notification channel of the data version of one schema: installations (and test
    runs) sharing a database in different schemas do not hear each other."""
    return f"{CHANNEL_PREFIX}:{schema}"


def expect_commit(pool: Pool, version: int) -> None:
    """A transaction on one of `pool`'s connections is about to commit `version`."""
    for feed in _FEEDS.get(pool, ()):
        feed.expect(version)


class VersionFeed:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        grace: float = 2.0,
        retry_seconds: float = 1.0,
        heartbeat_seconds: float = 5.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.grace = grace
        self.retry_seconds = retry_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.timer = timer
        # The latest committed version heard of; None while not listening.
        self.current: int | None = None
        self._heard = 0
        # The highest version a transaction of this process is committing, and since when.
        self.awaited = 0
        self.awaited_at = 0.0
        self._task: asyncio.Task[None] | None = None
        # The server process of the listening connection (for operators and tests).
        self.backend_pid: int | None = None
        self._listening = asyncio.Event()

    def known(self) -> str | None:
        """The data version as the token's statement reads it, or None when unknown."""
        current = self.current
        if current is None:
            return None
        if self.awaited > current and self.timer() - self.awaited_at < self.grace:
            return None
        return str(current)

    def expect(self, version: int) -> None:
        if version > self.awaited:
            self.awaited = version
        self.awaited_at = self.timer()

    def _heard_of(self, version: int) -> None:
        if version > self._heard:
            self._heard = version
            if self.current is not None:
                self.current = version

    async def start(self) -> None:
        """Listen in the background; returns once listening (or after the first failure)."""
        if self._task is not None or self.engine.dialect.name != "postgresql":
            return
        _FEEDS.setdefault(self.engine.sync_engine.pool, weakref.WeakSet()).add(self)
        self._task = asyncio.create_task(self._run(), name="bountybox version feed")
        waiter = asyncio.create_task(self._listening.wait())
        await asyncio.wait([self._task, waiter], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()

    async def stop(self) -> None:
        feeds = _FEEDS.get(self.engine.sync_engine.pool)
        if feeds is not None:
            feeds.discard(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.current = None

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is down or restarting: retry
                log.warning("data version feed: %s; retrying", exc)
            self.current = None
            self._listening.set()  # start() waits for the first attempt, not for success
            await asyncio.sleep(self.retry_seconds)

    async def _listen(self) -> None:
        connection: AsyncConnection = await self.engine.connect()
        lost = asyncio.Event()
        self._heard = 0  # the database may have been restored to an older version meanwhile
        try:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            schema = await driver.fetchval("SELECT current_schema()")
            self.backend_pid = driver.get_server_pid()

            def notified(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
                with contextlib.suppress(ValueError):
                    self._heard_of(int(payload))

            driver.add_termination_listener(lambda _conn: lost.set())
            await driver.add_listener(channel(schema), notified)
            version = await driver.fetchval("SELECT version FROM data_version WHERE id = 1")
            if version is None:  # no counter row: nothing is cached
                return
            self._heard_of(int(version))
            self.current = self._heard
            self._listening.set()
            while not lost.is_set():
                # A connection that died without a word (a network partition) or a lost
                # notification shows within a heartbeat.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.heartbeat_seconds)
                    break
                version = await asyncio.wait_for(
                    driver.fetchval("SELECT version FROM data_version WHERE id = 1"),
                    self.heartbeat_seconds,
                )
                if version is None:
                    return
                if int(version) < self._heard:  # restored from a backup
                    self._heard = 0
                self._heard_of(int(version))
            log.warning("data version feed: connection lost; reconnecting")
        finally:
            self.current = None
            # The connection holds a LISTEN: it never goes back to the pool.
            with contextlib.suppress(Exception):
                await asyncio.shield(connection.invalidate())
            with contextlib.suppress(Exception):
                await asyncio.shield(connection.close())
