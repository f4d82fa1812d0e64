"""POST /_sandbox/clock: freeze, advance (seconds or ISO 8601), release; moving the clock runs
the timers, so deadlines such as automatic disclosure can be driven by a test."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.db.models import Report
from tests.sandbox.conftest import control, error_of, reset

PENDING_DISCLOSURE = {
    "created_at": "2026-01-01T00:00:00Z",
    "hackers": [{"username": "finder"}],
    "organizations": [
        {
            "handle": "clockwork",
            "name": "Clockwork",
            "programs": [{"handle": "clockwork", "name": "Clockwork"}],
            "tokens": [{"name": "cw"}],
        }
    ],
    "reports": [
        {
            "program": "clockwork",
            "reporter": "finder",
            "title": "Goes public by itself",
            "submitted_at": "2026-01-02T00:00:00Z",
            "history": [
                {"action": "state", "state": "resolved"},
                # The team agrees first: the report turns public 30 days later on its own.
                {"action": "disclose", "at": "2026-01-03T00:00:00Z"},
            ],
        }
    ],
}


async def test_freeze_advance_and_release(client: httpx.AsyncClient) -> None:
    frozen = await control(client, "POST", "/clock", {"freeze": "2026-03-01T12:00:00Z"})
    assert frozen.json()["now"] == "2026-03-01T12:00:00.000Z"
    assert frozen.json()["frozen"] is True
    for advance, expected in [
        (90, "2026-03-01T12:01:30.000Z"),
        ("30", "2026-03-01T12:02:00.000Z"),
        ("PT1H", "2026-03-01T13:02:00.000Z"),
        ("P1DT1M", "2026-03-02T13:03:00.000Z"),
        (0.5, "2026-03-02T13:03:00.500Z"),
    ]:
        response = await control(client, "POST", "/clock", {"advance": advance})
        assert response.status_code == 200
        assert response.json()["now"] == expected
    assert (await control(client, "GET", "/clock")).json()["now"] == "2026-03-02T13:03:00.500Z"
    released = await control(client, "POST", "/clock", {"release": True})
    assert released.json()["frozen"] is False
    assert released.json()["now"] > "2026-03-02"


async def test_a_time_without_offset_is_utc(client: httpx.AsyncClient) -> None:
    response = await control(client, "POST", "/clock", {"freeze": "2026-05-01T08:00:00"})
    assert response.json()["now"] == "2026-05-01T08:00:00.000Z"
    shifted = await control(client, "POST", "/clock", {"freeze": "2026-05-01T10:00:00+02:00"})
    assert shifted.json()["now"] == "2026-05-01T08:00:00.000Z"


async def test_the_api_stamps_writes_with_the_frozen_time(client: httpx.AsyncClient) -> None:
    loaded = await reset(client, pack=PENDING_DISCLOSURE)
    auth = (loaded["tokens"][0]["identifier"], loaded["tokens"][0]["value"])
    await control(client, "POST", "/clock", {"freeze": "2027-07-07T07:07:07.007Z"})
    response = await client.post(
        "/v1/reports/1/activities",
        json={
            "data": {"type": "activity-comment", "attributes": {"message": "hi", "internal": True}}
        },
        auth=auth,
    )
    assert response.json()["data"]["attributes"]["created_at"] == "2027-07-07T07:07:07.007Z"


async def test_advancing_past_a_disclosure_date_discloses_the_report(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await reset(client, pack=PENDING_DISCLOSURE)
    report = await session.scalar(select(Report))
    assert report is not None
    assert report.disclosed_at is None
    assert report.allow_singular_disclosure_at is not None
    await control(client, "POST", "/clock", {"freeze": "2026-01-10T00:00:00Z"})
    early = await control(client, "POST", "/clock", {"advance": "P20D"})
    assert early.json()["timers"] == {"disclosed": 0}
    late = await control(client, "POST", "/clock", {"advance": "P4D"})
    assert late.json()["timers"] == {"disclosed": 1}
    await session.rollback()
    await session.refresh(report)
    assert report.disclosed_at is not None
    assert report.disclosed_at.isoformat() == "2026-02-03T00:00:00+00:00"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"freeze": "yesterday"},
        {"freeze": "2026-01-01T00:00:00Z", "advance": 5},
        {"advance": -5},
        {"advance": "P1Y"},
        {"advance": "PT"},
        {"advance": "soon"},
        {"advance": True},
        {"advance": None},
        {"advance": [1]},
        {"release": False},
        {"release": "yes"},
        {"advance": "1e12"},
        {"freeze": "0001-01-01T00:00:00Z"},
        {"freeze": "9999-12-31T00:00:00Z"},
    ],
)
async def test_bad_clock_changes_are_refused(client: httpx.AsyncClient, body: object) -> None:
    response = await control(client, "POST", "/clock", body)
    assert response.status_code == 400, response.text
    assert error_of(response)["title"] == "Invalid Parameter"


async def test_the_clock_does_not_run_off_the_calendar(client: httpx.AsyncClient) -> None:
    await control(client, "POST", "/clock", {"freeze": "8999-12-31T00:00:00Z"})
    refused = await control(client, "POST", "/clock", {"advance": "P30D"})
    assert refused.status_code == 400
    assert error_of(refused)["source"]["parameter"] == "advance"
    assert (await control(client, "GET", "/clock")).json()["now"] == "8999-12-31T00:00:00.000Z"
