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
- This process's own write transactions move the feed themselves the moment their commit
  returns (`version_committed`), before their request answers: a client that wrote through this
  process reads its write in the next request. Versions are handed out under the counter row's
  lock, so a committed version means every smaller one has committed too.
- Writes from other processes and hosts show once their notification arrives, a fraction of a
  millisecond after their commit on an idle machine.
- A heartbeat reads the version every few seconds: a connection that died silently or a missed
  notification costs at most two heartbeats. A version lower than one heard means the database
  was restored from a backup: the feed's listeners (`on_restore`) drop what they kept, since the
  counter will hand out the same numbers again.
- While the feed has no connection (starting, the database restarting, the connection lost),
  it knows nothing and every request reads the version from the database.

SQLite has no notifications: there the feed never starts and the version is read per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("bountybox.feed")

# The channel of a schema, computed by the database on both sides: a fixed 45 characters (the
# limit is 63), and installations (and test runs) in different schemas of one database do not
# hear each other.
CHANNEL = "'bountybox_dv_' || md5(current_schema())"
# The feeds a commit on an engine's connections moves (`version_committed`).
_FEEDS: weakref.WeakKeyDictionary[Engine, weakref.WeakSet[VersionFeed]] = (
    weakref.WeakKeyDictionary()
)


def version_committed(engine: Engine, version: int) -> None:
    """A transaction on one of `engine`'s connections has committed `version`."""
    for feed in _FEEDS.get(engine, ()):
        feed.heard_of(version)


class VersionFeed:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        retry_seconds: float = 1.0,
        heartbeat_seconds: float = 5.0,
        on_restore: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.retry_seconds = retry_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.on_restore = on_restore
        # The latest committed version heard of; None while not listening.
        self.current: int | None = None
        self._heard = 0
        self._task: asyncio.Task[None] | None = None
        # The server process of the listening connection (for operators and tests).
        self.backend_pid: int | None = None

    def known(self) -> str | None:
        """The data version as the token's statement reads it, or None when unknown."""
        current = self.current
        return None if current is None else str(current)

    def heard_of(self, version: int) -> None:
        if version > self._heard:
            self._heard = version
            if self.current is not None:
                self.current = version

    def reread(self, version: int, heard_before: int) -> None:
        """The version the database holds, read after `heard_before` had been heard. Only a
        restored database holds less: a notification heard while the read was on its way is
        newer than the read, not a sign of one."""
        if version < heard_before:
            log.warning("data version feed: the version went back to %d: restored", version)
            self._heard = version
            if self.current is not None:
                self.current = version
            if self.on_restore is not None:
                self.on_restore()
        else:
            self.heard_of(version)

    async def start(self) -> None:
        """Listen in the background. Requests read their version from the database until the
        feed listens."""
        if self._task is not None or self.engine.dialect.name != "postgresql":
            return
        self.attach()
        self._task = asyncio.create_task(self._run(), name="bountybox version feed")

    def attach(self) -> None:
        """Follow the commits of this process's transactions on the engine's connections."""
        _FEEDS.setdefault(self.engine.sync_engine, weakref.WeakSet()).add(self)

    async def stop(self) -> None:
        feeds = _FEEDS.get(self.engine.sync_engine)
        if feeds is not None:
            feeds.discard(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.current = None

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                await self._listen()
                failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is down or restarting: retry
                if not failing:
                    log.warning("data version feed: %r; retrying", exc)
                failing = True
            self.current = None
            await asyncio.sleep(self.retry_seconds)

    async def _version(self, driver: Any) -> int | None:
        value = await driver.fetchval(
            "SELECT version FROM data_version WHERE id = 1", timeout=self.heartbeat_seconds
        )
        return None if value is None else int(value)

    async def _listen(self) -> None:
        connection: AsyncConnection = await asyncio.wait_for(
            self.engine.connect(), self.heartbeat_seconds
        )
        lost = asyncio.Event()
        try:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            name = await driver.fetchval(f"SELECT {CHANNEL}", timeout=self.heartbeat_seconds)
            self.backend_pid = driver.get_server_pid()

            def notified(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
                with contextlib.suppress(ValueError):
                    self.heard_of(int(payload))

            driver.add_termination_listener(lambda _conn: lost.set())
            heard_before = self._heard
            await driver.add_listener(name, notified)
            version = await self._version(driver)
            if version is None:  # no counter row: nothing is cached
                log.warning("data version feed: no data_version row; nothing is kept")
                return
            self.reread(version, heard_before)
            self.current = self._heard
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.heartbeat_seconds)
                    break
                heard_before = self._heard
                version = await self._version(driver)
                if version is None:
                    return
                self.reread(version, heard_before)
            log.warning("data version feed: connection lost; reconnecting")
        finally:
            self.current = None
            # The connection holds a LISTEN: it never goes back to the pool.
            with contextlib.suppress(Exception):
                await asyncio.shield(connection.invalidate())
            with contextlib.suppress(Exception):
                await asyncio.shield(connection.close())
