"""Per-token rate limits through HTTP, with low budgets (reads 3/min, report reads 2/min, writes
2/20 s), on the in-process store and on Redis (database 15, under a key prefix of the test's own,
removed afterwards, so concurrent runs do not meet)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.db.models import Activity, Organization, Report
from tests.builders import Token, make_org, make_program, make_report, make_token, make_user

REDIS_URL = "redis://127.0.0.1:6379/15"
JSON_TYPE = "application/json; charset=utf-8"


@dataclass
class World:
    org: Organization
    report: Report
    token: Token


@pytest.fixture
async def world(session: AsyncSession) -> World:
    org = await make_org(session)
    program = await make_program(session, org, handle="acme")
    report = await make_report(session, program, reporter=await make_user(session))
    return World(org=org, report=report, token=await make_token(session, org))


@pytest.fixture(params=["memory", "redis"])
async def limited(
    request: pytest.FixtureRequest,
    data_dir: Path,
    database_url: str,
    engine: AsyncEngine,
    clock: Clock,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with low budgets, kept in memory or in Redis."""
    redis: Redis | None = None
    if request.param == "redis":
        redis = Redis.from_url(REDIS_URL)
        try:
            await redis.ping()
        except (OSError, RedisError):
            await redis.aclose()
            pytest.skip(f"no Redis at {REDIS_URL}")
    namespace = f"bountybox-test-{uuid.uuid4().hex}"
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key="test-secret",
        redis_url=REDIS_URL if redis else None,
        rate_limits_enabled=True,
        rate_limit_namespace=namespace,
        rate_limit_writes="2 per 20 seconds",
        rate_limit_reads="3 per 1 minute",
        rate_limit_report_reads="2 per 1 minute",
    )
    app = create_app(settings, engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    if redis is not None:
        async for key in redis.scan_iter(match=f"*{namespace}*"):
            await redis.delete(key)
        await redis.aclose()


def assert_rate_limited(response: httpx.Response, *, window: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == JSON_TYPE
    body = response.json()
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["status"] == 429
    assert error["title"] == "Too Many Requests"
    assert isinstance(error.get("detail"), str)
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= window


async def activity_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(Activity)) or 0)


def comment(message: str) -> dict[str, object]:
    return {
        "data": {"type": "activity-comment", "attributes": {"message": message, "internal": True}}
    }


async def test_the_fourth_read_gets_429_with_an_errors_body_and_retry_after(
    world: World, limited: httpx.AsyncClient
) -> None:
    for n in range(3):
        response = await limited.get("/v1/me/programs", headers=world.token.header)
        assert response.status_code == 200, n

    blocked = await limited.get("/v1/me/programs", headers=world.token.header)

    assert_rate_limited(blocked, window=60)
    assert blocked.headers["cache-control"] == "no-cache"
    # Every read endpoint shares the budget.
    assert_rate_limited(
        await limited.get("/v1/me/organizations", headers=world.token.header), window=60
    )


async def test_budgets_are_per_token(
    world: World, session: AsyncSession, limited: httpx.AsyncClient
) -> None:
    other = await make_token(session, world.org)
    for _ in range(3):
        assert (await limited.get("/v1/me/programs", headers=world.token.header)).status_code == 200
    assert_rate_limited(await limited.get("/v1/me/programs", headers=world.token.header), window=60)

    for n in range(3):
        response = await limited.get("/v1/me/programs", headers=other.header)
        assert response.status_code == 200, n
    assert_rate_limited(await limited.get("/v1/me/programs", headers=other.header), window=60)


async def test_report_reads_have_their_own_budget(
    world: World, session: AsyncSession, limited: httpx.AsyncClient
) -> None:
    headers = world.token.header
    listing = "/v1/reports?filter[program][]=acme"
    single = f"/v1/reports/{world.report.id}"

    # Spending every general read leaves the report reads untouched ...
    for _ in range(3):
        assert (await limited.get("/v1/me/programs", headers=headers)).status_code == 200
    assert_rate_limited(await limited.get("/v1/me/programs", headers=headers), window=60)
    assert (await limited.get(listing, headers=headers)).status_code == 200
    assert (await limited.get(single, headers=headers)).status_code == 200
    # ... which have a budget of two, shared by the list and the single report.
    assert_rate_limited(await limited.get(single, headers=headers), window=60)
    assert_rate_limited(await limited.get(listing, headers=headers), window=60)

    # And spending the report reads leaves the general reads untouched.
    fresh = (await make_token(session, world.org)).header
    assert (await limited.get(single, headers=fresh)).status_code == 200
    assert (await limited.get(single, headers=fresh)).status_code == 200
    assert_rate_limited(await limited.get(listing, headers=fresh), window=60)
    assert (await limited.get("/v1/me/programs", headers=fresh)).status_code == 200


async def test_writes_have_their_own_budget_and_a_refused_write_writes_nothing(
    world: World, limited: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    path = f"/v1/reports/{world.report.id}/activities"
    headers = world.token.header
    before = await activity_count(engine)

    for n in range(2):
        response = await limited.post(path, json=comment(f"c{n}"), headers=headers)
        assert response.status_code == 201, response.text
    blocked = await limited.post(path, json=comment("c2"), headers=headers)

    assert_rate_limited(blocked, window=20)
    assert await activity_count(engine) == before + 2
    # Writes did not spend the read budgets.
    for _ in range(3):
        assert (await limited.get("/v1/me/programs", headers=headers)).status_code == 200
    assert (await limited.get(f"/v1/reports/{world.report.id}", headers=headers)).status_code == 200


async def test_requests_with_bad_credentials_spend_no_budget(
    world: World, limited: httpx.AsyncClient
) -> None:
    wrong = httpx.BasicAuth(world.token.identifier, "wrong-secret")
    for _ in range(5):
        response = await limited.get("/v1/me/programs", auth=wrong)
        assert response.status_code == 401

    for n in range(3):
        response = await limited.get("/v1/me/programs", headers=world.token.header)
        assert response.status_code == 200, n


async def test_disabled_limits_never_answer_429(world: World, client: httpx.AsyncClient) -> None:
    for _ in range(20):
        response = await client.get(f"/v1/reports/{world.report.id}", headers=world.token.header)
        assert response.status_code == 200


async def test_exempt_tokens_are_never_refused_and_others_still_are(
    world: World, session: AsyncSession, data_dir: Path, database_url: str, engine: AsyncEngine
) -> None:
    other = await make_token(session, world.org)
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key="test-secret",
        rate_limits_enabled=True,
        rate_limit_namespace=f"bountybox-test-{uuid.uuid4().hex}",
        rate_limit_report_reads="2 per 1 minute",
        rate_limit_exempt_tokens=[world.token.identifier],
    )
    app = create_app(settings, engine=engine, clock=Clock())
    single = f"/v1/reports/{world.report.id}"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for n in range(5):
            response = await client.get(single, headers=world.token.header)
            assert response.status_code == 200, n
        for _ in range(2):
            assert (await client.get(single, headers=other.header)).status_code == 200
        assert_rate_limited(await client.get(single, headers=other.header), window=60)


def test_exempt_tokens_are_read_from_a_comma_separated_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOUNTYBOX_RATE_LIMIT_EXEMPT_TOKENS", "bench, load-test")

    assert Settings().rate_limit_exempt_tokens == ["bench", "load-test"]
