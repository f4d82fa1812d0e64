"""Webhook delivery fixtures: settings for loopback receivers and quick retries, a receiver, an
in-process worker, and a way to produce many events fast."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bountybox.config import Settings
from bountybox.core.auth import Actor, TokenKind
from bountybox.core.clock import Clock
from bountybox.db.engine import session_factory
from bountybox.db.models import Report
from bountybox.domains.reports import service as report_service
from bountybox.domains.reports.schemas import CommentAttributes
from bountybox.domains.webhooks.service import configure_sessions
from bountybox.worker.delivery import DeliveryWorker
from tests.worker.receiver import Receiver

FAST = {
    "webhooks_allow_private": True,
    "webhooks_timeout_seconds": 2.0,
    "webhooks_poll_seconds": 0.05,
    "webhooks_backoff_seconds": 0.3,
    "webhooks_backoff_max_seconds": 0.6,
    "webhooks_disable_after_failures": 100_000,
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=FAST)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver(secret="s3cr3t").start()
    yield started
    if started._server is not None:
        await started.stop()


@pytest.fixture
def sessions(engine: AsyncEngine, settings: Settings) -> async_sessionmaker[AsyncSession]:
    """Sessions like the app's: they can render webhook payloads."""
    made = session_factory(engine)
    configure_sessions(made, settings)
    return made


@pytest.fixture
async def worker(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> AsyncIterator[DeliveryWorker]:
    made = DeliveryWorker(sessions, settings, clock)
    yield made
    await made.client.aclose()


async def produce_comments(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    report_id: int,
    user_id: int,
    count: int,
    *,
    start: int = 0,
) -> None:
    """`count` internal comments, each in its own transaction, as separate requests would."""
    actor = Actor(token_id=0, user_id=user_id, kind=TokenKind.ORGANIZATION)
    for n in range(start, start + count):
        async with sessions() as session, session.begin():
            # As the API's writes do: SQLite's write lock up front, so writers queue.
            await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            report = await session.scalar(select(Report).where(Report.id == report_id))
            assert report is not None
            await report_service.add_comment(
                session=session,
                clock=clock,
                actor=actor,
                report=report,
                comment_in=CommentAttributes(message=f"comment {n}", internal=True),
            )


def comment_number(body: Any) -> int:
    return int(body["data"]["activity"]["attributes"]["message"].removeprefix("comment "))
