"""Real clients against a real server: one live bountybox per test module, seeded once.

The rows a module seeds are shared by its tests (a server per test would make the client suites
slow), so the per-test emptying of the database is replaced here by an emptying before each
module's seed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.db.engine import session_factory
from bountybox.db.models import Program
from bountybox.demo import load_demo
from tests.conftest import empty_database
from tests.live_server import LiveServer, live_server

# The frozen "now" of every client module: writes made through the API are stamped with it.
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """Each module empties the database once, before its seed (see `module_settings`)."""


@pytest.fixture(scope="module")
def module_clock() -> Clock:
    clock = Clock()
    clock.freeze(NOW)
    return clock


@pytest.fixture(scope="module")
async def module_settings(data_dir: Path, database_url: str, engine: AsyncEngine) -> Settings:
    await empty_database(engine)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key="test-secret",
        rate_limits_enabled=False,
    )


@pytest.fixture(scope="module")
def live(module_settings: Settings, module_clock: Clock) -> Iterator[LiveServer]:
    with live_server(module_settings, module_clock) as server:
        yield server


@dataclass(frozen=True)
class Demo:
    """The demo dataset behind a live server: the admin token and the programs' ids by handle."""

    server: LiveServer
    auth: tuple[str, str]
    programs: dict[str, int]


@pytest.fixture(scope="module")
async def demo(live: LiveServer, module_settings: Settings, engine: AsyncEngine) -> Demo:
    async with session_factory(engine)() as session:
        token = await load_demo(session, module_settings)
        await session.commit()
        programs: dict[str, int] = dict(
            (await session.execute(select(Program.handle, Program.id))).all()
        )
    identifier, value = str(token).split(":", 1)
    return Demo(server=live, auth=(identifier, value), programs=programs)
