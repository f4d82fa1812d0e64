"""Seed packs played into the database: POST /_sandbox/fixtures adds one to what is there, and the
history of a report is played back with the API's own services."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.db.models import Activity, Report, WebhookDelivery
from bountybox.packs import available, named
from bountybox.packs.loader import pack_tokens
from bountybox.packs.schemas import Pack
from bountybox.sandbox.service import SANDBOX_TOKEN_KEY
from tests.sandbox.conftest import control, error_of, reset

T0 = "2026-02-02T10:00:00Z"

BOARD = {
    "created_at": T0,
    "hackers": [
        {
            "username": "finder",
            "address": {"street": "1 Way", "city": "Town", "postal_code": "1", "country": "NL"},
        }
    ],
    "organizations": [
        {
            "handle": "board",
            "name": "Board",
            "groups": [
                {"name": "Triage", "permissions": ["report_management"], "programs": ["board"]}
            ],
            "members": [{"username": "tina", "email": "tina@board.test", "groups": ["Triage"]}],
            "programs": [
                {
                    "handle": "board",
                    "name": "Board",
                    "balance": "1000.00",
                    "webhooks": [{"url": "http://127.0.0.1:9/hook"}],
                }
            ],
            "tokens": [
                {"name": "board-admin"},
                {
                    "name": "board-triage",
                    "groups": ["Triage"],
                    "value": "board-triage-0123456789abcdef",
                },
            ],
        }
    ],
    "reports": [
        {
            "key": "first",
            "program": "board",
            "reporter": "finder",
            "title": "First",
            "submitted_at": "2026-02-03T10:00:00Z",
        },
        {
            "key": "second",
            "program": "board",
            "reporter": "finder",
            "title": "Second",
            "severity": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "history": [
                {
                    "action": "comment",
                    "message": "Any update?",
                    "by": "finder",
                    "at": "2026-02-04T09:00:00Z",
                },
                {"action": "state", "state": "triaged", "by": "tina"},
                {"action": "assign", "user": "tina"},
                {"action": "bounty", "amount": "100.00", "at": "2026-02-05T09:00:00Z"},
                {"action": "state", "state": "resolved", "message": "Fixed."},
                {"action": "swag"},
                {"action": "reporter_agrees_to_disclose"},
                {"action": "disclose", "substate": "no-content"},
            ],
            "submitted_at": "2026-02-03T11:00:00Z",
        },
        {
            "program": "board",
            "reporter": "finder",
            "title": "Third",
            "history": [
                {
                    "action": "state",
                    "state": "duplicate",
                    "message": "Same as first.",
                    "original_report": "first",
                }
            ],
        },
        {"program": "board", "reporter": "finder", "title": "Fourth", "state": "retesting"},
    ],
}


async def test_fixtures_add_a_pack_and_answer_its_ids_and_tokens(
    client: httpx.AsyncClient,
) -> None:
    await reset(client, seed="empty")
    response = await control(client, "POST", "/fixtures", BOARD)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["organizations"] == {"board": "1"}
    assert created["report_keys"] == {"first": "1", "second": "2"}
    assert [t["identifier"] for t in created["tokens"]] == ["board-admin", "board-triage", "finder"]
    assert created["tokens"][1]["value"] == "board-triage-0123456789abcdef"
    # Derived values are the same wherever the pack loads.
    expected = pack_tokens(Pack.model_validate(BOARD), SANDBOX_TOKEN_KEY)
    assert [t["value"] for t in created["tokens"]] == [t.value for t in expected]
    for token in created["tokens"][:2]:
        me = await client.get("/v1/me/programs", auth=(token["identifier"], token["value"]))
        assert me.status_code == 200
    hacker = created["tokens"][2]
    mine = await client.get("/v1/hackers/me/reports", auth=(hacker["identifier"], hacker["value"]))
    assert mine.status_code == 200
    # A second load of the same names conflicts.
    again = await control(client, "POST", "/fixtures", BOARD)
    assert again.status_code == 422
    assert "taken" in error_of(again)["detail"]


async def test_a_report_history_is_played_back_in_time_order(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await reset(client, pack=BOARD)
    reports = {r.title: r for r in await session.scalars(select(Report))}
    second = reports["Second"]
    assert second.state == "resolved"
    assert second.disclosed_at is not None
    assert second.assignee_user_id is not None
    assert second.severity_rating == "critical"
    assert reports["Third"].original_report_id == reports["First"].id
    assert reports["Fourth"].state == "retesting"
    activities = list(
        await session.scalars(
            select(Activity).where(Activity.report_id == second.id).order_by(Activity.id)
        )
    )
    assert [a.type for a in activities] == [
        "activity-comment",
        "activity-bug-triaged",
        "activity-user-assigned-to-bug",
        "activity-bounty-awarded",
        "activity-bug-resolved",
        "activity-swag-awarded",
        "activity-agreed-on-going-public",
        "activity-agreed-on-going-public",
        "activity-report-became-public",
    ]
    # Undated steps happen when the step before them did.
    assert [a.created_at.isoformat() for a in activities[:3]] == ["2026-02-04T09:00:00+00:00"] * 3
    assert activities[0].actor_user_id == second.reporter_id
    # The webhook exists, but loading the pack sent nothing to it.
    assert await session.scalar(select(WebhookDelivery.id)) is None


async def test_the_api_shows_a_loaded_report_like_any_other(client: httpx.AsyncClient) -> None:
    loaded = await reset(client, pack=BOARD)
    token = loaded["tokens"][0]
    response = await client.get(
        f"/v1/reports/{loaded['report_keys']['second']}", auth=(token["identifier"], token["value"])
    )
    assert response.status_code == 200
    attributes = response.json()["data"]["attributes"]
    assert attributes["state"] == "resolved"
    assert attributes["submitted_at"] == "2026-02-03T11:00:00.000Z"


def test_every_shipped_pack_is_valid() -> None:
    assert {"demo", "empty"} <= set(available())
    for name in available():
        assert named(name).name == name


async def test_bad_fixture_bodies_are_refused(client: httpx.AsyncClient) -> None:
    cases: list[tuple[Any, int]] = [
        ({"organizations": "acme"}, 400),
        ({"hackers": [{"username": "x", "token": 5}]}, 400),
        (
            {
                "reports": [
                    {
                        "program": "p",
                        "reporter": "r",
                        "title": "t",
                        "state": "triaged",
                        "history": [{"action": "swag"}],
                    }
                ]
            },
            400,
        ),
        ({"organizations": [{"handle": "Bad Handle", "name": "x"}]}, 400),
    ]
    for body, status in cases:
        response = await control(client, "POST", "/fixtures", body)
        assert response.status_code == status, (body, response.text)
        error_of(response)
