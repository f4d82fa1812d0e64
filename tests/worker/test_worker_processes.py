"""`bountybox worker` processes against their own database: a worker killed with SIGKILL in the
middle of a backlog loses nothing, and two workers on PostgreSQL never send the same delivery."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.db.engine import make_engine, session_factory
from bountybox.db.migrate import upgrade
from bountybox.db.models import WebhookDeliveryAttempt
from bountybox.domains.webhooks.service import configure_sessions
from tests.builders import make_org, make_program, make_report, make_user, make_webhook
from tests.conftest import PG_URL
from tests.worker.conftest import comment_number, produce_comments
from tests.worker.receiver import Receiver

WORKER_ENV = {
    "BOUNTYBOX_WEBHOOKS_ALLOW_PRIVATE": "true",
    "BOUNTYBOX_WEBHOOKS_TIMEOUT_SECONDS": "1",
    "BOUNTYBOX_WEBHOOKS_POLL_SECONDS": "0.05",
    "BOUNTYBOX_WEBHOOKS_BACKOFF_SECONDS": "0.2",
    "BOUNTYBOX_WEBHOOKS_BACKOFF_MAX_SECONDS": "0.5",
    "BOUNTYBOX_WEBHOOKS_DISABLE_AFTER_FAILURES": "100000",
    "BOUNTYBOX_LOG_LEVEL": "warning",
}


@dataclass
class Installation:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    env: dict[str, str]
    logs: Path

    def worker(self, name: str, **env: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", "bountybox", "worker"],
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
async def installation(tmp_path: Path) -> AsyncIterator[Installation]:
    """Its own database (a SQLite file, or a PostgreSQL database), shared with the workers."""
    database = f"bountybox_webhooks_{os.getpid()}"
    admin = make_engine(PG_URL, pool=False) if PG_URL else None
    if admin is not None and PG_URL:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database}")
            await conn.exec_driver_sql(f"CREATE DATABASE {database}")
        url = PG_URL.rsplit("/", 1)[0] + f"/{database}"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'webhooks.db'}"
    engine = make_engine(url)
    await upgrade(engine)
    settings = Settings(data_dir=tmp_path, database_url=url, secret_key="test-secret")
    sessions = session_factory(engine)
    configure_sessions(sessions, settings)
    env = {
        **os.environ,
        **WORKER_ENV,
        "BOUNTYBOX_DATABASE_URL": url,
        "BOUNTYBOX_DATA_DIR": str(tmp_path),
        "BOUNTYBOX_SECRET_KEY": "test-secret",
    }
    yield Installation(engine, sessions, env, tmp_path)
    await engine.dispose()
    if admin is not None:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await admin.dispose()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


async def wait_until(condition: object, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, what
        await asyncio.sleep(0.02)


async def test_a_worker_killed_mid_backlog_is_replaced_and_nothing_is_lost_or_reordered(
    installation: Installation, processes: list[subprocess.Popen[bytes]], receiver: Receiver
) -> None:
    clock = Clock()
    async with installation.sessions() as session:
        org = await make_org(session)
        program = await make_program(session, org)
        hacker = await make_user(session)
        await make_webhook(session, program, url=receiver.url, secret="s3cr3t")
        report = await make_report(session, program, reporter=hacker)
    receiver.delay = 0.004
    await receiver.stop()
    await produce_comments(installation.sessions, clock, report.id, hacker.id, 500)

    first = installation.worker("first")
    processes.append(first)
    await asyncio.sleep(1.0)  # it finds the receiver down and backs off
    assert receiver.received == []
    await receiver.start()
    await wait_until(lambda: len(receiver.ok) >= 150, 30, "the first worker never got going")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = len(receiver.ok)
    assert killed_at < 500, "the backlog was gone before the kill"

    second = installation.worker("second")
    processes.append(second)
    await wait_until(
        lambda: len({r.guid for r in receiver.ok}) >= 500, 60, "the backlog was not finished"
    )
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=20) == 0

    numbers = [comment_number(r.json()) for r in receiver.ok]
    in_order = [n for i, n in enumerate(numbers) if i == 0 or n != numbers[i - 1]]
    assert in_order == list(range(500))
    # At most the one delivery in flight at the kill comes again, right after itself and with the
    # same X-H1-Delivery, so a deduplicating receiver drops it.
    repeats = [i for i in range(1, len(numbers)) if numbers[i] == numbers[i - 1]]
    assert len(repeats) <= 1
    for i in repeats:
        assert receiver.ok[i].guid == receiver.ok[i - 1].guid
        assert i >= killed_at - 1
    for log in ("first", "second"):
        assert "Traceback" not in (installation.logs / f"{log}.log").read_text()


@pytest.mark.skipif(not PG_URL, reason="needs BOUNTYBOX_TEST_DATABASE_URL (PostgreSQL)")
async def test_two_workers_on_postgresql_deliver_2000_events_none_twice(
    installation: Installation, processes: list[subprocess.Popen[bytes]], receiver: Receiver
) -> None:
    clock = Clock()
    async with installation.sessions() as session:
        org = await make_org(session)
        program = await make_program(session, org)
        hacker = await make_user(session)
        for _ in range(8):
            await make_webhook(session, program, url=receiver.url, secret="s3cr3t")
        report = await make_report(session, program, reporter=hacker)
    receiver.delay = 0.002
    await receiver.stop()
    await produce_comments(installation.sessions, clock, report.id, hacker.id, 250)
    # Each worker serves at most 4 of the 8 webhooks at a time, and both are up and competing
    # (for a receiver that is down) before the backlog can move.
    processes.extend(
        installation.worker(name, BOUNTYBOX_WEBHOOKS_CONCURRENCY="4") for name in ("a", "b")
    )
    await asyncio.sleep(2.5)
    await receiver.start()
    await wait_until(lambda: len(receiver.ok) >= 2000, 90, "2,000 deliveries did not arrive")
    await asyncio.sleep(0.5)  # anything sent twice would arrive now
    for process in processes:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0

    guids = [r.guid for r in receiver.ok]
    assert len(guids) == 2000
    assert len(set(guids)) == 2000
    async with installation.sessions() as session:
        workers = set(await session.scalars(select(WebhookDeliveryAttempt.worker)))
    assert len(workers) == 2, "both workers delivered"
