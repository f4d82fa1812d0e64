"""POST /_sandbox/reset: an empty database, then a seed pack; ids start from 1 again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.db.models import Organization, Report
from tests.sandbox.conftest import CONTROL, DEMO_ADMIN, control, error_of, reset

SHOP = {
    "hackers": [{"username": "finder"}],
    "organizations": [
        {
            "handle": "shop",
            "name": "Shop",
            "programs": [
                {"handle": "shop", "name": "Shop", "scopes": [{"asset_identifier": "shop.test"}]}
            ],
            "tokens": [{"name": "shop-bot"}],
        }
    ],
    "reports": [
        {"program": "shop", "reporter": "finder", "title": "XSS in search", "severity": "high"},
        {"program": "shop", "reporter": "finder", "title": "IDOR on orders", "state": "triaged"},
    ],
}


async def count(session: AsyncSession, model: Any) -> int:
    """Counts in a transaction of its own: an open one would hold off the next reset's TRUNCATE
    on PostgreSQL."""
    found = int(await session.scalar(select(func.count()).select_from(model)) or 0)
    await session.rollback()
    return found


async def test_reset_to_empty_leaves_no_rows_and_ids_restart(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    first = await reset(client, pack=SHOP)
    assert first["reports"] == ["1", "2"]
    await reset(client, seed="empty")
    assert await count(session, Organization) == 0
    again = await reset(client, pack=SHOP)
    assert again["organizations"] == {"shop": "1"}
    assert again["reports"] == ["1", "2"]


async def test_the_demo_pack_serves_its_hard_coded_admin_token(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    loaded = await reset(client, seed="demo")
    assert loaded["tokens"][0] == {
        "identifier": DEMO_ADMIN[0],
        "value": DEMO_ADMIN[1],
        "kind": "organization",
        "organization": "acme",
    }
    assert await count(session, Report) == 64
    response = await client.get("/v1/me/programs", auth=DEMO_ADMIN)
    assert response.status_code == 200
    assert [p["attributes"]["handle"] for p in response.json()["data"]] == ["acme", "acme-vdp"]
    states = await session.scalars(select(Report.state).distinct())
    assert len(set(states)) == 10


async def test_a_reset_restarts_faults_requests_clock_and_rate_limits(
    client: httpx.AsyncClient, sandbox: Any, app: Any
) -> None:
    loaded = await reset(client, pack=SHOP)
    auth = (loaded["tokens"][0]["identifier"], loaded["tokens"][0]["value"])
    await control(client, "POST", "/faults", {"path": "/v1/nowhere", "status": 500})
    await control(client, "POST", "/clock", {"freeze": "2030-01-01T00:00:00Z"})
    await client.get("/v1/me/programs", auth=auth)
    app.state.bountybox.limiter.enabled = True
    limiter_calls = []
    original = app.state.bountybox.limiter.reset

    async def counted() -> None:
        limiter_calls.append(1)
        await original()

    app.state.bountybox.limiter.reset = counted
    kept = await control(
        client,
        "POST",
        "/reset",
        {"pack": SHOP, "keep_clock": True, "keep_faults": True, "keep_requests": True},
    )
    assert kept.json()["clock"] == {"now": "2030-01-01T00:00:00.000Z", "frozen": True}
    assert len(sandbox.faults.faults) == 1
    assert len(sandbox.inspector.kept) == 1
    await reset(client, pack=SHOP)
    clock = (await control(client, "GET", "/clock")).json()
    assert clock["frozen"] is False
    assert sandbox.faults.faults == []
    assert list(sandbox.inspector.kept) == []
    assert len(limiter_calls) == 2


async def test_a_bare_reset_goes_back_to_the_start_seed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await reset(client, pack=SHOP)
    response = await control(client, "POST", "/reset")
    assert response.status_code == 200
    assert response.json()["seed"] == "empty"
    assert await count(session, Organization) == 0


@pytest.mark.parametrize(
    ("body", "status", "parameter"),
    [
        (b"{not json", 400, None),
        (b"[1, 2]", 400, "data"),
        (b'{"seed": 3}', 400, "seed"),
        (b'{"seed": "no-such-pack"}', 400, "seed"),
        (b'{"seed": "demo", "pack": {}}', 400, "data"),
        (b'{"keep_clock": "yes"}', 400, "keep_clock"),
        (b'{"surprise": true}', 400, "surprise"),
        (b'{"pack": {"organizations": [{"handle": "x"}]}}', 400, "pack.organizations.0.name"),
        (
            b'{"pack": {"hackers": [{"username": "x", "reputation": 1e12}]}}',
            400,
            "pack.hackers.0.reputation",
        ),
        (
            b'{"pack": {"hackers": [{"username": "x", "address": {"street": "s", "city": "c",'
            b' "postal_code": "1", "country": "' + b"x" * 101 + b'"}}]}}',
            400,
            "pack.hackers.0.address.country",
        ),
        (
            b'{"pack": {"reports": [{"program": "p", "reporter": "r", "title": "t",'
            b' "history": [{"action": "fly"}]}]}}',
            400,
            "pack.reports.0.history.0",
        ),
    ],
)
async def test_bad_reset_bodies_are_refused_with_an_error_body(
    client: httpx.AsyncClient, body: bytes, status: int, parameter: str | None
) -> None:
    response = await client.post(
        "/_sandbox/reset",
        content=body,
        headers={**CONTROL, "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    error = error_of(response)
    if parameter is not None:
        assert error["source"]["parameter"] == parameter


@pytest.mark.parametrize(
    ("pack", "detail"),
    [
        ({"reports": [{"program": "nowhere", "reporter": "x", "title": "t"}]}, "No program"),
        (
            {
                **SHOP,
                "reports": [
                    {
                        "program": "shop",
                        "reporter": "finder",
                        "title": "t",
                        "history": [
                            {"action": "state", "state": "resolved"},
                            {"action": "state", "state": "spam"},
                        ],
                    }
                ],
            },
            "cannot move from 'resolved' to 'spam'",
        ),
        ({**SHOP, "hackers": [{"username": "finder"}, {"username": "finder"}]}, "is taken"),
        (
            {
                **SHOP,
                "reports": [
                    {
                        "program": "shop",
                        "reporter": "finder",
                        "title": "t",
                        "severity": "CVSS:3.1/AV:X",
                    }
                ],
            },
            "not a valid CVSS vector",
        ),
        (
            {**SHOP, "intents": [{"hacker": "finder", "program": "nowhere", "description": "x"}]},
            "In the pack's intent 0: The parameter 'team_handle' is invalid.",
        ),
    ],
)
async def test_a_pack_that_does_not_fit_together_is_unprocessable_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, pack: dict[str, Any], detail: str
) -> None:
    await reset(client, pack=SHOP)
    response = await control(client, "POST", "/reset", {"pack": pack})
    assert response.status_code == 422, response.text
    assert detail in error_of(response)["detail"]
    assert await count(session, Report) == 2
