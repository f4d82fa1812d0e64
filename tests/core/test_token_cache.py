"""Reads while the database is known unchanged (core/auth.py TokenCache, db/feed.py): the token's
actor comes from memory and a cached document costs no statement at all, yet a revoked token, a
wrong secret, an address outside the allow-list and every write are refused or checked as
before."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.core.auth import Actor, KnownToken, TokenCache, TokenKind, hash_secret
from bountybox.core.clock import Clock
from bountybox.core.errors import Forbidden, Unauthenticated
from bountybox.db.engine import make_engine, session_factory
from bountybox.db.models import ApiToken, Report
from tests.builders import Token, make_org, make_program, make_report, make_token, make_user
from tests.conftest import PG_URL, TEST_SCHEMA, QueryCounter
from tests.db.test_feed import eventually

# ---- the map itself ----


def basic(identifier: str, value: str) -> str:
    return httpx.BasicAuth(identifier, value)._auth_header


def known(version: str, *, allowlist: list[str] | None = None) -> KnownToken:
    actor = Actor(
        token_id=7, user_id=8, kind=TokenKind.ORGANIZATION, organization_id=9, data_version=version
    )
    return KnownToken(hash_secret("secret"), allowlist or [], actor)


def test_an_actor_is_served_only_with_its_secret_and_under_its_version() -> None:
    version: list[str | None] = ["5"]
    tokens = TokenCache(lambda: version[0])
    tokens.keep("id1", known("5"))
    actor = tokens.actor(basic("id1", "secret"), "127.0.0.1")
    assert actor is not None
    assert actor.token_id == 7
    assert tokens.actor(basic("id1", "wrong"), "127.0.0.1") is None
    assert tokens.actor(basic("id2", "secret"), "127.0.0.1") is None
    with pytest.raises(Unauthenticated):
        tokens.actor("Bearer nothing", "127.0.0.1")
    version[0] = "6"
    assert tokens.actor(basic("id1", "secret"), "127.0.0.1") is None
    version[0] = None  # the feed lost its connection
    assert tokens.actor(basic("id1", "secret"), "127.0.0.1") is None


def test_only_actors_read_under_the_current_version_are_kept() -> None:
    version: list[str | None] = ["5"]
    tokens = TokenCache(lambda: version[0], max_entries=2)
    tokens.keep("old", known("4"))
    tokens.keep("none", known(""))
    assert tokens.entries == {}
    tokens.keep("a", known("5"))
    tokens.keep("b", known("5"))
    tokens.keep("c", known("5"))  # past the bound: start over
    assert list(tokens.entries) == ["c"]
    version[0] = "6"
    tokens.keep("d", known("6"))
    assert list(tokens.entries) == ["d"]


def test_an_actor_is_kept_at_most_max_age_seconds() -> None:
    """Writes made by other programs (psql) move no version."""
    now = [0.0]
    tokens = TokenCache(lambda: "5", max_age=60, timer=lambda: now[0])
    tokens.keep("id1", known("5"))
    now[0] = 60
    assert tokens.actor(basic("id1", "secret"), "127.0.0.1") is not None
    now[0] = 60.5
    assert tokens.actor(basic("id1", "secret"), "127.0.0.1") is None


def test_the_allow_list_is_checked_on_every_request() -> None:
    tokens = TokenCache(lambda: "5")
    tokens.keep("id1", known("5", allowlist=["10.0.0.0/8"]))
    assert tokens.actor(basic("id1", "secret"), "10.1.2.3") is not None
    with pytest.raises(Forbidden):
        tokens.actor(basic("id1", "secret"), "192.0.2.1")


def test_sqlite_sandboxes_and_the_setting_off_have_no_feed(
    settings: Settings, engine: AsyncEngine
) -> None:
    app = create_app(settings, engine=engine)
    state = app.state.bountybox
    if engine.dialect.name == "sqlite":
        assert state.feed is None
        assert state.tokens.version() is None
    else:
        assert state.feed is not None
    sandbox = create_app(settings.model_copy(update={"sandbox": True}), engine=engine)
    assert sandbox.state.bountybox.feed is None
    # Behind a pooler in transaction mode: no LISTEN, every read reads its token.
    off = create_app(settings.model_copy(update={"version_feed": False}), engine=engine)
    assert off.state.bountybox.feed is None
    assert off.state.bountybox.tokens.version() is None


# ---- through the API, with the feed running ----

needs_pg = pytest.mark.skipif(not PG_URL, reason="the feed needs PostgreSQL")


@pytest.fixture
async def served(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"timer_interval_seconds": 0}), engine=engine, clock=Clock()
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def world(session: AsyncSession) -> dict[str, Any]:
    org = await make_org(session)
    program = await make_program(session, org, handle="acme")
    report = await make_report(session, program, reporter=await make_user(session))
    return {"org": org, "report": report, "token": await make_token(session, org)}


async def settled(client: httpx.AsyncClient) -> str:
    """Until the feed has heard of the arranged data's commits: the version it then knows."""
    state = client.app.state.bountybox  # type: ignore[attr-defined]
    async with state.sessionmaker() as session:
        stored = str((await session.execute(text("SELECT version FROM data_version"))).scalar())
    await eventually(lambda: state.feed.known() == stored)
    return stored


def token_statements(counter: QueryCounter) -> list[str]:
    return [s for s in counter.statements if "api_tokens" in s]


async def comment(client: httpx.AsyncClient, report_id: int, token: Token, message: str) -> None:
    attributes = {"message": message, "internal": True}
    response = await client.post(
        f"/v1/reports/{report_id}/activities",
        json={"data": {"type": "activity-comment", "attributes": attributes}},
        auth=token.auth,
    )
    assert response.status_code == 201, response.text


@needs_pg
async def test_a_document_read_again_costs_no_statement(
    served: httpx.AsyncClient, world: dict[str, Any], query_counter: QueryCounter
) -> None:
    url = f"/v1/reports/{world['report'].id}"
    await settled(served)
    first = await served.get(url, auth=world["token"].auth)
    assert first.status_code == 200
    query_counter.count = 0
    again = await served.get(url, auth=world["token"].auth)
    assert again.content == first.content
    assert query_counter.count == 0, query_counter.statements
    # Any other read skips the token's statement and runs only its own.
    query_counter.statements.clear()
    programs = await served.get("/v1/me/programs", auth=world["token"].auth)
    assert programs.status_code == 200
    assert query_counter.statements
    assert not token_statements(query_counter)


@needs_pg
async def test_writes_always_read_their_token(
    served: httpx.AsyncClient, world: dict[str, Any], query_counter: QueryCounter
) -> None:
    await settled(served)
    assert (await served.get("/v1/me/programs", auth=world["token"].auth)).status_code == 200
    query_counter.statements.clear()
    await comment(served, world["report"].id, world["token"], "hi")
    assert len(token_statements(query_counter)) == 1


async def titles(client: httpx.AsyncClient, url: str, token: Token) -> tuple[str, list[str]]:
    document = (await client.get(url, auth=token.auth)).json()["data"]
    activities = document["relationships"]["activities"]["data"]
    return document["attributes"]["title"], [a["attributes"].get("message") for a in activities]


@needs_pg
async def test_a_cached_document_shows_a_write_of_this_process_in_the_next_read(
    served: httpx.AsyncClient, world: dict[str, Any], query_counter: QueryCounter
) -> None:
    url = f"/v1/reports/{world['report'].id}"
    await settled(served)
    await titles(served, url, world["token"])
    query_counter.count = 0
    await titles(served, url, world["token"])
    assert query_counter.count == 0  # served from memory
    await comment(served, world["report"].id, world["token"], "fresh comment")
    _, messages = await titles(served, url, world["token"])
    assert "fresh comment" in messages


@needs_pg
async def test_a_cached_document_shows_a_write_of_another_process_once_notified(
    served: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    url = f"/v1/reports/{world['report'].id}"
    before = await settled(served)
    assert (await titles(served, url, world["token"]))[0] != "Renamed elsewhere"
    other = make_engine(PG_URL or "", search_path=TEST_SCHEMA)
    try:
        async with session_factory(other)() as session, session.begin():
            await session.execute(
                update(Report)
                .where(Report.id == world["report"].id)
                .values(title="Renamed elsewhere")
            )
    finally:
        await other.dispose()
    feed = served.app.state.bountybox.feed  # type: ignore[attr-defined]
    await eventually(lambda: feed.known() not in (None, before))
    assert (await titles(served, url, world["token"]))[0] == "Renamed elsewhere"


async def revoke(engine: AsyncEngine, token: Token) -> None:
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(ApiToken)
            .where(ApiToken.identifier == token.identifier)
            .values(revoked_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
        )


@needs_pg
async def test_a_token_revoked_in_this_process_is_refused_at_once(
    served: httpx.AsyncClient, world: dict[str, Any], engine: AsyncEngine
) -> None:
    url = f"/v1/reports/{world['report'].id}"
    await settled(served)
    for _ in range(2):
        assert (await served.get(url, auth=world["token"].auth)).status_code == 200
    await revoke(engine, world["token"])
    assert (await served.get(url, auth=world["token"].auth)).status_code == 401


@needs_pg
async def test_a_token_revoked_by_another_process_is_refused_once_notified(
    served: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    url = f"/v1/reports/{world['report'].id}"
    before = await settled(served)
    assert (await served.get(url, auth=world["token"].auth)).status_code == 200
    other = make_engine(PG_URL or "", search_path=TEST_SCHEMA)
    try:
        await revoke(other, world["token"])
    finally:
        await other.dispose()
    feed = served.app.state.bountybox.feed  # type: ignore[attr-defined]
    await eventually(lambda: feed.known() not in (None, before))
    assert (await served.get(url, auth=world["token"].auth)).status_code == 401


@needs_pg
async def test_a_wrong_secret_or_address_is_refused_with_the_actor_in_memory(
    served: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await make_org(session, allowlist=["127.0.0.0/8"])
    await make_program(session, org)
    token = await make_token(session, org)
    await settled(served)
    assert (await served.get("/v1/me/programs", auth=token.auth)).status_code == 200
    wrong = (token.identifier, "not-the-secret")
    assert (await served.get("/v1/me/programs", auth=wrong)).status_code == 401
    app = served.app  # type: ignore[attr-defined]
    elsewhere = httpx.ASGITransport(app=app, client=("192.0.2.1", 5000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://testserver") as client:
        assert (await client.get("/v1/me/programs", auth=token.auth)).status_code == 403
