"""POST /_sandbox/webhooks/trigger: any event, now, through the outbox, delivered and signed like
the ones the API's changes cause."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.db.engine import session_factory
from bountybox.db.models import Activity
from bountybox.domains.webhooks.service import configure_sessions
from bountybox.worker.delivery import DeliveryWorker
from tests.sandbox.conftest import control, error_of, reset
from tests.worker.receiver import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver(secret="hook-secret").start()
    yield started
    await started.stop()


@pytest.fixture
async def worker(engine: AsyncEngine, settings: Settings, clock: Clock) -> AsyncIterator[Any]:
    sessions = session_factory(engine)
    configure_sessions(sessions, settings)
    made = DeliveryWorker(sessions, settings, clock)
    yield made
    await made.client.aclose()


def pack_with_webhook(url: str, events: list[str] | None = None) -> dict[str, Any]:
    return {
        "hackers": [{"username": "finder"}],
        "organizations": [
            {
                "handle": "hooked",
                "name": "Hooked",
                "tokens": [{"name": "hooked-admin"}],
                "programs": [
                    {
                        "handle": "hooked",
                        "name": "Hooked",
                        "webhooks": [{"url": url, "secret": "hook-secret", "events": events or []}],
                    }
                ],
            }
        ],
        "reports": [
            {
                "program": "hooked",
                "reporter": "finder",
                "title": "Hooked report",
                "state": "triaged",
            }
        ],
    }


async def test_a_triggered_event_is_delivered_like_a_real_one(
    client: httpx.AsyncClient,
    session: AsyncSession,
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    await reset(client, pack=pack_with_webhook(receiver.url))
    activities = await session.scalar(select(func.count()).select_from(Activity))
    response = await control(
        client, "POST", "/webhooks/trigger", {"event": "report_triaged", "report_id": "1"}
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"event": "report_triaged", "webhooks": ["1"]}
    await worker.deliver_due()
    (received,) = await receiver.wait_for(1)
    assert received.event == "report_triaged"
    payload = received.json()["data"]
    assert payload["activity"]["type"] == "activity-bug-triaged"
    assert payload["report"]["id"] == "1"
    assert payload["report"]["attributes"]["state"] == "triaged"
    # Nothing was recorded: the report's history is as it was.
    assert await session.scalar(select(func.count()).select_from(Activity)) == activities


async def test_program_events_name_the_program_and_the_hacker(
    client: httpx.AsyncClient, receiver: Receiver, worker: DeliveryWorker
) -> None:
    await reset(client, pack=pack_with_webhook(receiver.url, ["program_hacker_joined"]))
    skipped = await control(
        client, "POST", "/webhooks/trigger", {"event": "report_triaged", "report_id": 1}
    )
    assert skipped.json()["webhooks"] == []
    joined = await control(
        client,
        "POST",
        "/webhooks/trigger",
        {"event": "program_hacker_joined", "program": "hooked", "hacker": "finder"},
    )
    assert joined.json()["webhooks"] == ["1"]
    await worker.deliver_due()
    (received,) = await receiver.wait_for(1)
    activity = received.json()["data"]["activity"]
    assert activity["type"] == "activity-program-hacker-joined"
    assert activity["relationships"]["actor"]["data"]["attributes"]["username"] == "finder"
    assert "report" not in received.json()["data"]


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"event": "report_exploded", "report_id": 1}, "event"),
        ({"event": "report_triaged"}, "report_id"),
        ({"event": "report_triaged", "report_id": 99}, "report_id"),
        ({"event": "report_triaged", "report_id": "x"}, "report_id"),
        ({"event": "program_hacker_left", "program": "hooked"}, "program"),
        ({"event": "program_hacker_left", "program": "nope", "hacker": "finder"}, "program"),
    ],
)
async def test_bad_triggers_are_refused(
    client: httpx.AsyncClient, body: dict[str, Any], parameter: str
) -> None:
    await reset(client, pack=pack_with_webhook("http://127.0.0.1:9/hook"))
    response = await control(client, "POST", "/webhooks/trigger", body)
    assert response.status_code == 400, response.text
    assert error_of(response)["source"]["parameter"] == parameter


async def test_an_unknown_hacker_is_not_found(client: httpx.AsyncClient) -> None:
    await reset(client, pack=pack_with_webhook("http://127.0.0.1:9/hook"))
    response = await control(
        client,
        "POST",
        "/webhooks/trigger",
        {"event": "program_hacker_left", "program": "hooked", "hacker": "ghost"},
    )
    assert response.status_code == 404
    error_of(response)
