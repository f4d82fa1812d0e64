"""The response cache (core/cache.py): documents read again before anything changed are served
from memory after the token's statement; any committed write, wherever it comes from, makes the
next read render again; an entry never crosses to another token."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.core.cache import ENTRY_OVERHEAD, ResponseCache, compress
from bountybox.core.clock import Clock
from bountybox.db.engine import session_factory
from bountybox.db.models import ApiToken, Report, User
from bountybox.domains.hackers import service as hacker_service
from tests.builders import (
    Token,
    make_org,
    make_program,
    make_report,
    make_token,
    make_user,
)
from tests.conftest import QueryCounter

# ---- the map itself ----


class Timer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_served_only_under_the_version_it_was_stored_with() -> None:
    cache = ResponseCache(1 << 20, 60)
    cache.put((1, "/a"), "v1", b"body")
    assert cache.get((1, "/a"), "v1") == b"body"
    assert cache.get((2, "/a"), "v1") is None
    assert cache.get((1, "/a"), "v2") is None
    # A stale entry is dropped, not kept beside the newer version.
    assert cache.get((1, "/a"), "v1") is None
    assert cache.size == 0


def test_entries_expire_after_max_age() -> None:
    timer = Timer()
    cache = ResponseCache(1 << 20, 60, timer=timer)
    cache.put((1, "/a"), "v1", b"body")
    timer.now = 60
    assert cache.get((1, "/a"), "v1") == b"body"
    timer.now = 60.5
    assert cache.get((1, "/a"), "v1") is None


def test_the_least_recently_used_entries_go_first_and_the_size_stays_bounded() -> None:
    bodies = [os.urandom(600) for _ in range(12)]  # compressing random bytes saves nothing
    cost = len(compress(bodies[0])) + ENTRY_OVERHEAD
    cache = ResponseCache(cost * 10, 60)
    for n in range(10):
        cache.put((1, f"/{n}"), "v", bodies[n])
    assert cache.get((1, "/0"), "v") == bodies[0]  # now the most recently used
    cache.put((1, "/10"), "v", bodies[10])
    assert cache.get((1, "/1"), "v") is None
    assert cache.get((1, "/0"), "v") == bodies[0]
    assert cache.size == cost * 10 == sum(e.cost for e in cache.entries.values())
    # Storing a key again replaces its entry without counting it twice.
    cache.put((1, "/0"), "w", bodies[11])
    assert cache.size == cost * 10
    assert cache.get((1, "/0"), "w") == bodies[11]


def test_bodies_are_kept_compressed() -> None:
    cache = ResponseCache(1 << 20, 60)
    body = b'{"data":{"type":"report","attributes":{}}}' * 300
    cache.put((1, "/a"), "v", body)
    assert cache.size < len(body) // 10
    assert cache.get((1, "/a"), "v") == body


def test_nothing_is_kept_without_a_version_or_bigger_than_an_eighth() -> None:
    cache = ResponseCache(8_000, 60)
    cache.put((1, "/a"), "", b"x")
    cache.put((1, "/b"), "v", os.urandom(1_000))
    assert cache.entries == {}
    assert not ResponseCache(0, 60).enabled
    assert not ResponseCache(1 << 20, 0).enabled


# ---- through the API ----


@pytest.fixture
async def world(session: AsyncSession) -> dict[str, Any]:
    org = await make_org(session)
    program = await make_program(session, org, handle="acme")
    hacker = await make_user(session, username="hacker1")
    report = await make_report(session, program, reporter=hacker, title="Cached title")
    other_org = await make_org(session)
    return {
        "org": org,
        "report": report,
        "token": await make_token(session, org),
        "second_token": await make_token(session, org),
        "foreign_token": await make_token(session, other_org),
    }


async def read(client: httpx.AsyncClient, token: Token, report_id: int) -> httpx.Response:
    return await client.get(f"/v1/reports/{report_id}", auth=token.auth)


async def test_a_document_read_again_costs_only_the_tokens_statement(
    client: httpx.AsyncClient, world: dict[str, Any], query_counter: QueryCounter
) -> None:
    report_id = world["report"].id
    first = await read(client, world["token"], report_id)
    assert first.status_code == 200
    query_counter.count = 0
    again = await read(client, world["token"], report_id)
    assert again.status_code == 200
    assert query_counter.count == 1, query_counter.statements
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["cache-control"] == first.headers["cache-control"]
    # Another URL (a query string) is another entry.
    query_counter.count = 0
    assert (await client.get(f"/v1/reports/{report_id}?x=1", auth=world["token"].auth)).content
    assert query_counter.count > 1


async def test_a_write_through_the_api_shows_in_the_next_read(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    report_id = world["report"].id
    assert (await read(client, world["token"], report_id)).status_code == 200
    comment = await client.post(
        f"/v1/reports/{report_id}/activities",
        json={
            "data": {
                "type": "activity-comment",
                "attributes": {"message": "fresh comment", "internal": True},
            }
        },
        auth=world["second_token"].auth,
    )
    assert comment.status_code == 201, comment.text
    document = (await read(client, world["token"], report_id)).json()
    messages = [
        a["attributes"].get("message")
        for a in document["data"]["relationships"]["activities"]["data"]
    ]
    assert "fresh comment" in messages


async def test_a_write_made_outside_the_api_shows_in_the_next_read(
    engine: AsyncEngine, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    """Another process (a worker, the CLI, an operator's script) writing to the database."""
    report_id = world["report"].id
    assert (await read(client, world["token"], report_id)).json()["data"]["attributes"][
        "title"
    ] == "Cached title"
    async with session_factory(engine)() as session, session.begin():
        await session.execute(update(Report).where(Report.id == report_id).values(title="Renamed"))
        reporter = await session.scalar(select(User).where(User.username == "hacker1"))
        assert reporter is not None
        reporter.name = "Renamed Hacker"
    document = (await read(client, world["token"], report_id)).json()
    assert document["data"]["attributes"]["title"] == "Renamed"
    reporter_doc = document["data"]["relationships"]["reporter"]["data"]
    assert reporter_doc["attributes"]["name"] == "Renamed Hacker"


async def test_a_rolled_back_write_keeps_the_entry(
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    query_counter: QueryCounter,
) -> None:
    report_id = world["report"].id
    assert (await read(client, world["token"], report_id)).status_code == 200
    async with session_factory(engine)() as session:
        await session.execute(
            update(Report).where(Report.id == report_id).values(title="Never committed")
        )
        await session.rollback()
    query_counter.count = 0
    document = (await read(client, world["token"], report_id)).json()
    assert document["data"]["attributes"]["title"] == "Cached title"
    assert query_counter.count == 1, query_counter.statements


async def test_an_entry_never_answers_another_token(
    client: httpx.AsyncClient, world: dict[str, Any], session: AsyncSession
) -> None:
    report_id = world["report"].id
    assert (await read(client, world["token"], report_id)).status_code == 200
    assert (await read(client, world["foreign_token"], report_id)).status_code == 403
    # The reporter's hacker token: refused on the customer route, its own view on its route.
    issued = await hacker_service.issue_hacker_token(
        session=session, clock=Clock(), username="hacker1"
    )
    await session.commit()
    hacker = Token(issued.identifier, issued.value)
    assert (await client.get(f"/v1/reports/{report_id}", auth=hacker.auth)).status_code == 401
    own = await client.get(f"/v1/hackers/reports/{report_id}", auth=hacker.auth)
    assert own.status_code == 200
    assert own.content != (await read(client, world["token"], report_id)).content


async def test_a_revoked_token_is_refused_even_with_its_document_cached(
    engine: AsyncEngine, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    report_id = world["report"].id
    assert (await read(client, world["token"], report_id)).status_code == 200
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(ApiToken)
            .where(ApiToken.identifier == world["token"].identifier)
            .values(revoked_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
        )
    assert (await read(client, world["token"], report_id)).status_code == 401


async def test_entries_age_on_the_applications_clock(
    client: httpx.AsyncClient, world: dict[str, Any], clock: Clock, query_counter: QueryCounter
) -> None:
    report_id = world["report"].id
    clock.freeze(dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert (await read(client, world["token"], report_id)).status_code == 200
    clock.freeze(dt.datetime(2026, 3, 1, 0, 2, tzinfo=dt.UTC))
    query_counter.count = 0
    assert (await read(client, world["token"], report_id)).status_code == 200
    assert query_counter.count > 1


@pytest.mark.parametrize("overrides", [{"response_cache_bytes": 0}, {"sandbox": True}])
async def test_the_cache_can_be_turned_off_and_sandboxes_never_use_it(
    settings: Settings,
    engine: AsyncEngine,
    world: dict[str, Any],
    query_counter: QueryCounter,
    overrides: dict[str, Any],
) -> None:
    app = create_app(settings.model_copy(update=overrides), engine=engine, clock=Clock())
    assert not app.state.bountybox.cache.enabled
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await read(client, world["token"], world["report"].id)).status_code == 200
        query_counter.count = 0
        assert (await read(client, world["token"], world["report"].id)).status_code == 200
    assert query_counter.count > 1


async def test_without_the_counter_row_documents_are_served_but_never_cached(
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    query_counter: QueryCounter,
) -> None:
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DELETE FROM data_version")
    try:
        for _ in range(2):
            query_counter.count = 0
            assert (await read(client, world["token"], world["report"].id)).status_code == 200
            assert query_counter.count > 1
    finally:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("INSERT INTO data_version (id, version) VALUES (1, 0)")
