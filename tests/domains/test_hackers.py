"""The hacker API (/v1/hackers): each of the 21 operations (happy path, wrong token, one bad input),
the visibility matrix over every hacker route, hacktivity search, and the money the customer side
awards showing up on the hacker side to the cent."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.api import all_endpoints
from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.db.engine import session_factory
from bountybox.db.models import (
    Activity,
    Attachment,
    Bounty,
    Organization,
    Program,
    ProgramHacker,
    Report,
    ReportCollaborator,
    ReportIntent,
    ScopeExclusion,
    StructuredScope,
    User,
    Weakness,
    WebhookDelivery,
    program_weaknesses,
)
from bountybox.domains.billing.service import top_up
from bountybox.domains.hackers import service as hacker_service
from bountybox.domains.webhooks.service import configure_sessions
from tests.builders import (
    T0,
    Token,
    make_activity,
    make_org,
    make_program,
    make_report,
    make_scope,
    make_token,
    make_user,
    make_weakness,
    make_webhook,
)
from tests.conftest import QueryCounter

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def make_hacker(session: AsyncSession, username: str) -> tuple[User, Token]:
    issued = await hacker_service.issue_hacker_token(
        session=session, clock=Clock(), username=username
    )
    await session.commit()
    user = await session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user, Token(issued.identifier, issued.value)


async def allow(session: AsyncSession, program: Program, user: User) -> None:
    session.add(ProgramHacker(program_id=program.id, user_id=user.id, created_at=T0))
    await session.commit()


async def make_private_program(session: AsyncSession, org: Organization, handle: str) -> Program:
    program = await make_program(session, org, handle=handle)
    program.state = "private"
    program.offers_bounties = False
    await session.commit()
    return program


async def disclose(session: AsyncSession, report: Report, at: dt.datetime) -> None:
    report.disclosed_at = at
    report.disclosure_substate = report.disclosure_substate or "full"
    report.last_public_activity_at = at
    await session.commit()
    await make_activity(session, report, type="activity-report-became-public", at=at)


@dataclass
class World:
    org: Organization
    public: Program
    private: Program
    secret: Program
    weakness: Weakness
    scope: StructuredScope
    closed_scope: StructuredScope
    alice: User
    alice_token: Token
    bob: User
    bob_token: Token
    org_token: Token
    own: Report
    collaborated: Report
    bobs: Report
    disclosed: Report
    secret_disclosed: Report
    bobs_intent: ReportIntent


# Strings that must never reach alice, whatever hacker route she calls.
FORBIDDEN = ("BOB-UNDISCLOSED", "SECRET-DISCLOSED", "secret-program", "INTERNAL-NOTE", "BOB-INTENT")


@pytest.fixture
async def world(session: AsyncSession) -> World:
    """Alice is allowed on `private-program`; Bob on `secret-program`. Bob has an undisclosed
    report on the public program, a disclosed one there, a report alice collaborates on, a
    disclosed report on the secret program and a draft."""
    org = await make_org(session, handle="acmeorg")
    public = await make_program(session, org, handle="public-program")
    private = await make_private_program(session, org, "private-program")
    secret = await make_private_program(session, org, "secret-program")
    weakness = await make_weakness(session, public)
    # Builders number external ids from a shared counter; keep clear of the real CWEs used here.
    weakness.external_id = "cwe-world"
    scope = await make_scope(session, public, identifier="app.public.test")
    scope.max_severity = "high"
    closed_scope = await make_scope(session, public, identifier="legacy.public.test")
    closed_scope.eligible_for_submission = False
    await make_scope(session, private, identifier="app.private.test")
    await make_scope(session, secret, identifier="app.secret-program.test")
    await session.commit()
    alice, alice_token = await make_hacker(session, "alice")
    bob, bob_token = await make_hacker(session, "bob")
    await allow(session, private, alice)
    await allow(session, secret, bob)
    own = await make_report(
        session,
        public,
        reporter=alice,
        title="Alice's own report",
        rating="medium",
        vulnerability_information="Steps\n\n## Impact\n\nBad things",
        structured_scope_id=scope.id,
        weakness_id=weakness.id,
    )
    await make_activity(session, own, at=T0, internal=True)
    note = await session.scalar(select(Activity).where(Activity.report_id == own.id))
    assert note is not None
    note.message = "INTERNAL-NOTE about alice"
    collaborated = await make_report(session, public, reporter=bob, title="Shared finding")
    session.add(ReportCollaborator(report_id=collaborated.id, user_id=alice.id, weight=0.5))
    bobs = await make_report(session, public, reporter=bob, title="BOB-UNDISCLOSED finding")
    disclosed = await make_report(session, public, reporter=bob, title="Disclosed finding")
    await disclose(session, disclosed, T0 + dt.timedelta(days=3))
    secret_disclosed = await make_report(
        session, secret, reporter=bob, title="SECRET-DISCLOSED finding"
    )
    await disclose(session, secret_disclosed, T0 + dt.timedelta(days=4))
    intent = ReportIntent(
        user_id=bob.id,
        program_id=public.id,
        description="BOB-INTENT draft",
        title="BOB-INTENT draft",
        state="ready_to_submit",
        extracted={},
        job_status={},
        created_at=T0,
        updated_at=T0,
    )
    session.add(intent)
    await session.commit()
    return World(
        org=org,
        public=public,
        private=private,
        secret=secret,
        weakness=weakness,
        scope=scope,
        closed_scope=closed_scope,
        alice=alice,
        alice_token=alice_token,
        bob=bob,
        bob_token=bob_token,
        org_token=await make_token(session, org),
        own=own,
        collaborated=collaborated,
        bobs=bobs,
        disclosed=disclosed,
        secret_disclosed=secret_disclosed,
        bobs_intent=intent,
    )


def assert_error(response: httpx.Response, status: int, parameter: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["errors"][0]
    assert error["status"] == status
    if parameter is not None:
        assert error["source"] == {"parameter": parameter}, error


async def assert_hacker_only(
    client: httpx.AsyncClient, world: World, method: str, url: str, **kwargs: Any
) -> None:
    """Organization tokens and missing tokens get 401 on hacker routes."""
    assert_error(await client.request(method, url, auth=world.org_token.auth, **kwargs), 401)
    assert_error(await client.request(method, url, **kwargs), 401)


def report_body(**attributes: Any) -> dict[str, Any]:
    base = {
        "team_handle": "public-program",
        "title": "XSS in the search box",
        "vulnerability_information": "1. Search for <script>",
        "impact": "Session theft",
    }
    return {"data": {"type": "report", "attributes": {**base, **attributes}}}


# ---- tokens ----


async def test_hacker_tokens_are_refused_on_customer_routes_and_the_other_way_round(
    client: httpx.AsyncClient, world: World
) -> None:
    for path in (
        "/v1/me/programs",
        f"/v1/reports/{world.own.id}",
        f"/v1/programs/{world.public.id}",
    ):
        assert_error(await client.get(path, auth=world.alice_token.auth), 401)
    assert_error(await client.get("/v1/hackers/programs", auth=world.org_token.auth), 401)
    assert_error(await client.get("/v1/hackers/me", auth=world.alice_token.auth), 401)


async def test_issuing_a_token_again_replaces_the_old_value(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    old = world.alice_token
    issued = await hacker_service.issue_hacker_token(
        session=session, clock=Clock(), username="alice"
    )
    await session.commit()

    assert_error(await client.get("/v1/hackers/payments/balance", auth=old.auth), 401)
    fresh = await client.get("/v1/hackers/payments/balance", auth=(issued.identifier, issued.value))
    assert fresh.status_code == 200


# ---- 1. GET /hackers/me/reports ----


async def test_my_reports_lists_only_what_i_filed_and_ignores_filters(
    client: httpx.AsyncClient, world: World
) -> None:
    url = "/v1/hackers/me/reports"
    response = await client.get(url, auth=world.alice_token.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["id"] for r in body["data"]] == [str(world.own.id)]
    assert body["links"] == {}
    item = body["data"][0]
    assert item["attributes"]["vulnerability_information"] == "Steps"
    assert "impact" not in item["attributes"]
    assert item["attributes"]["last_activity_at"] is None
    relationships = item["relationships"]
    assert set(relationships) == {"program", "reporter", "severity", "structured_scope"}
    assert relationships["program"]["data"]["attributes"]["handle"] == "public-program"
    assert relationships["reporter"]["data"]["attributes"]["username"] == "alice"
    assert relationships["severity"]["data"]["attributes"]["rating"] == "medium"
    assert relationships["structured_scope"]["data"]["attributes"]["asset_identifier"] == (
        "app.public.test"
    )

    filtered = await client.get(
        url,
        params={"filter[state][]": "nonsense", "sort": "bogus", "filter[program][]": "x"},
        auth=world.alice_token.auth,
    )
    assert filtered.json() == body
    await assert_hacker_only(client, world, "GET", url)
    assert_error(
        await client.get(url, params={"page[size]": "0"}, auth=world.alice_token.auth),
        400,
        "page[size]",
    )


# ---- 2. GET /hackers/reports/{id} ----


async def test_a_report_shows_public_activities_and_the_write_up_to_its_reporter(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get(f"/v1/hackers/reports/{world.own.id}", auth=world.alice_token.auth)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["type"] == "report"
    assert data["attributes"]["vulnerability_information"] == "Steps"
    assert data["attributes"]["impact"] == "Bad things"
    relationships = data["relationships"]
    assert {"weakness", "bounties", "swag", "attachments", "activities", "summaries"} <= set(
        relationships
    )
    assert relationships["activities"]["data"] == []
    assert "INTERNAL-NOTE" not in response.text
    for hidden in ("assignee", "inboxes", "custom_field_values", "collaborators"):
        assert hidden not in relationships
    for hidden in ("report_tags", "issue_tracker_reference_id", "timer_report_triage_miss_at"):
        assert hidden not in data["attributes"]


async def test_collaborated_and_disclosed_reports_are_readable_the_rest_is_404(
    client: httpx.AsyncClient, world: World
) -> None:
    collaborated = await client.get(
        f"/v1/hackers/reports/{world.collaborated.id}", auth=world.alice_token.auth
    )
    assert collaborated.status_code == 200
    assert "vulnerability_information" in collaborated.json()["data"]["attributes"]

    disclosed = await client.get(
        f"/v1/hackers/reports/{world.disclosed.id}", auth=world.alice_token.auth
    )
    assert disclosed.status_code == 200
    attributes = disclosed.json()["data"]["attributes"]
    assert "vulnerability_information" not in attributes
    assert attributes["disclosed_at"] == "2026-01-04T12:00:00.000Z"
    activities = disclosed.json()["data"]["relationships"]["activities"]["data"]
    assert [a["type"] for a in activities] == ["activity-report-became-public"]

    for report in (world.bobs, world.secret_disclosed):
        response = await client.get(f"/v1/hackers/reports/{report.id}", auth=world.alice_token.auth)
        assert_error(response, 404)
    for bad in ("abc", "0", "99999999999999999999"):
        assert_error(
            await client.get(f"/v1/hackers/reports/{bad}", auth=world.alice_token.auth), 404
        )
    await assert_hacker_only(client, world, "GET", f"/v1/hackers/reports/{world.own.id}")


async def test_a_limited_disclosure_shows_others_no_conversation(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    world.disclosed.disclosure_substate = "no-content"
    await session.commit()
    url = f"/v1/hackers/reports/{world.disclosed.id}"

    seen = (await client.get(url, auth=world.alice_token.auth)).json()["data"]
    assert seen["relationships"]["activities"]["data"] == []
    assert seen["attributes"]["title"] == "Disclosed finding"
    own = (await client.get(url, auth=world.bob_token.auth)).json()["data"]
    assert [a["type"] for a in own["relationships"]["activities"]["data"]] == [
        "activity-report-became-public"
    ]


# ---- 3. POST /hackers/reports ----


async def test_a_submitted_report_reaches_the_programs_team_at_once(
    client: httpx.AsyncClient, world: World
) -> None:
    body = report_body(
        severity_rating="high",
        weakness_id=str(world.weakness.id),
        structured_scope_id=world.scope.id,
    )
    response = await client.post("/v1/hackers/reports", json=body, auth=world.alice_token.auth)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["attributes"]["state"] == "new"
    assert data["attributes"]["vulnerability_information"] == "1. Search for <script>"
    assert data["attributes"]["impact"] == "Session theft"
    assert data["attributes"]["first_program_activity_at"] is None
    assert data["relationships"]["weakness"]["data"]["id"] == str(world.weakness.id)
    assert data["relationships"]["severity"]["data"]["attributes"]["rating"] == "high"
    assert data["relationships"]["reporter"]["data"]["attributes"]["username"] == "alice"

    team = await client.get(
        "/v1/reports", params={"filter[program][]": "public-program"}, auth=world.org_token.auth
    )
    assert data["id"] in [r["id"] for r in team.json()["data"]]
    report = (await client.get(f"/v1/reports/{data['id']}", auth=world.org_token.auth)).json()
    assert report["data"]["attributes"]["vulnerability_information"] == (
        "1. Search for <script>\n\n## Impact\n\nSession theft"
    )
    activities = report["data"]["relationships"]["activities"]["data"]
    assert [a["type"] for a in activities] == ["activity-bug-filed"]
    assert activities[0]["relationships"]["actor"]["data"]["attributes"]["username"] == "alice"
    mine = await client.get("/v1/hackers/me/reports", auth=world.alice_token.auth)
    assert data["id"] in [r["id"] for r in mine.json()["data"]]


async def test_the_older_flat_body_and_cvss_vectors_are_accepted(
    client: httpx.AsyncClient, world: World
) -> None:
    flat = report_body()["data"]["attributes"]
    flat["cvss_vector_string"] = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"
    flat["weakness_id"] = "cwe-79"
    response = await client.post(
        "/v1/hackers/reports",
        json={"data": {**flat, "relationships": {"weakness": {"data": {"id": "1"}}}}},
        auth=world.alice_token.auth,
    )
    assert response.status_code == 201, response.text
    severity = response.json()["data"]["relationships"]["severity"]["data"]["attributes"]
    assert severity["rating"] == "medium"
    assert severity["calculation_method"] == "cvss_3_1"
    assert severity["score"] == 5.4
    assert "weakness" not in response.json()["data"]["relationships"]


@pytest.mark.parametrize(
    ("attributes", "parameter"),
    [
        ({"team_handle": "secret-program"}, "team_handle"),
        ({"team_handle": "nope"}, "team_handle"),
        ({"title": ""}, "title"),
        ({"severity_rating": "urgent"}, "severity_rating"),
        ({"severity_rating": "critical", "structured_scope_id": "SCOPE"}, "severity_rating"),
        ({"structured_scope_id": "CLOSED"}, "structured_scope_id"),
        ({"weakness_id": 0}, "weakness_id"),
        ({"weakness_id": 999999}, "weakness_id"),
        ({"cvss_vector_string": "CVSS:3.1/AV:N"}, "cvss_vector_string"),
        ({"state": "triaged"}, "state"),
    ],
)
async def test_bad_submissions_write_nothing(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: World,
    attributes: dict[str, Any],
    parameter: str,
) -> None:
    ids = {"SCOPE": world.scope.id, "CLOSED": world.closed_scope.id}
    attributes = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in attributes.items()}
    before = await session.scalar(select(func.count()).select_from(Report))

    response = await client.post(
        "/v1/hackers/reports", json=report_body(**attributes), auth=world.alice_token.auth
    )

    assert_error(response, 400, parameter)
    assert await session.scalar(select(func.count()).select_from(Report)) == before


async def delivered_events(session: AsyncSession) -> list[WebhookDelivery]:
    await session.commit()
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id)
    return list(await session.scalars(stmt.execution_options(populate_existing=True)))


async def test_submissions_fire_report_created_once_with_the_stored_activity(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    await make_webhook(session, world.public, url="http://127.0.0.1:9/hooks")
    submitted = await client.post(
        "/v1/hackers/reports", json=report_body(), auth=world.alice_token.auth
    )
    assert submitted.status_code == 201, submitted.text
    intent_id = await create_intent(client, world.alice_token)
    from_intent = await client.post(
        f"/v1/hackers/report_intents/{intent_id}/submit", auth=world.alice_token.auth
    )
    assert from_intent.status_code == 200, from_intent.text

    rows = await delivered_events(session)
    assert [row.event for row in rows] == ["report_created", "report_created"]
    first = orjson.loads(rows[0].body)["data"]
    assert first["activity"]["type"] == "activity-bug-filed"
    assert first["activity"]["id"]
    assert first["report"]["id"] == submitted.json()["data"]["id"]
    second = orjson.loads(rows[1].body)["data"]
    assert (
        second["report"]["id"]
        == from_intent.json()["data"]["relationships"]["report"]["data"]["id"]
    )


async def test_allowing_and_removing_hackers_fire_the_program_events(
    session: AsyncSession, engine: AsyncEngine, settings: Settings, world: World
) -> None:
    await make_webhook(session, world.private, url="http://127.0.0.1:9/hooks")
    sessions = session_factory(engine)
    configure_sessions(sessions, settings)
    async with sessions() as writer, writer.begin():
        program = await writer.get(Program, world.private.id)
        assert program is not None
        added = await hacker_service.allow_hackers(
            session=writer, clock=Clock(), program=program, usernames=["bob", "alice"]
        )
        removed = await hacker_service.remove_hackers(
            session=writer, clock=Clock(), program=program, usernames=["alice", "bob", "alice"]
        )
    assert added == ["bob"]
    assert removed == ["alice", "bob"]
    rows = await delivered_events(session)
    assert [row.event for row in rows] == [
        "program_hacker_joined",
        "program_hacker_left",
        "program_hacker_left",
    ]
    actor = orjson.loads(rows[0].body)["data"]["activity"]["relationships"]["actor"]
    assert actor["data"]["attributes"]["username"] == "bob"
    assert await session.scalar(select(func.count()).select_from(ProgramHacker)) == 1


async def test_submitting_needs_a_hacker_token(client: httpx.AsyncClient, world: World) -> None:
    await assert_hacker_only(client, world, "POST", "/v1/hackers/reports", json=report_body())


# ---- 4. GET /hackers/hacktivity (the search itself is tested further down) ----


async def test_hacktivity_lists_disclosed_reports_of_visible_programs(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get("/v1/hackers/hacktivity", auth=world.alice_token.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["links"] == {}
    assert [item["id"] for item in body["data"]] == [world.disclosed.id]
    item = body["data"][0]
    assert item["type"] == "hacktivity_item"
    assert item["attributes"]["disclosed"] is True
    assert item["attributes"]["latest_disclosable_action"] == "Activities::ReportBecamePublic"
    assert item["attributes"]["url"] == f"http://testserver/v1/hackers/reports/{world.disclosed.id}"
    assert item["relationships"]["program"]["data"]["attributes"]["handle"] == "public-program"
    assert item["relationships"]["reporter"]["data"]["attributes"]["username"] == "bob"

    await assert_hacker_only(client, world, "GET", "/v1/hackers/hacktivity")
    assert_error(
        await client.get(
            "/v1/hackers/hacktivity", params={"sort": "-popularity"}, auth=world.alice_token.auth
        ),
        400,
        "sort",
    )


# ---- 5. GET /hackers/programs ----


async def test_programs_are_the_public_ones_and_the_private_ones_i_am_allowed_on(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get("/v1/hackers/programs", auth=world.alice_token.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    handles = [p["attributes"]["handle"] for p in body["data"]]
    assert handles == ["public-program", "private-program"]
    assert body["links"] == {}
    public, private = body["data"]
    assert "relationships" not in public
    assert public["attributes"]["state"] == "public_mode"
    assert private["attributes"]["state"] == "soft_launched"
    assert public["attributes"]["number_of_reports_for_user"] == 1
    assert public["attributes"]["policy"] == "Be nice."
    assert private["attributes"]["last_invitation_accepted_at_for_user"] == (
        "2026-01-01T12:00:00.000Z"
    )
    bob = await client.get("/v1/hackers/programs", auth=world.bob_token.auth)
    assert [p["attributes"]["handle"] for p in bob.json()["data"]] == [
        "public-program",
        "secret-program",
    ]
    await assert_hacker_only(client, world, "GET", "/v1/hackers/programs")
    assert_error(
        await client.get(
            "/v1/hackers/programs", params={"page[size]": "101"}, auth=world.alice_token.auth
        ),
        400,
        "page[size]",
    )


# ---- 6. GET /hackers/programs/{handle} ----


async def test_program_detail_is_unwrapped_with_its_scopes(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get("/v1/hackers/programs/public-program", auth=world.alice_token.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "data" not in body
    assert body["type"] == "program"
    assert body["id"] == str(world.public.id)
    scopes = body["relationships"]["structured_scopes"]["data"]
    assert [s["attributes"]["asset_identifier"] for s in scopes] == [
        "app.public.test",
        "legacy.public.test",
    ]
    assert scopes[0]["type"] == "structured-scope"

    for handle in ("secret-program", "nope", str(world.public.id)):
        response = await client.get(f"/v1/hackers/programs/{handle}", auth=world.alice_token.auth)
        assert_error(response, 404)
    await assert_hacker_only(client, world, "GET", "/v1/hackers/programs/public-program")


# ---- 7. GET /hackers/programs/{handle}/structured_scopes ----


async def test_structured_scopes_filter_by_id_and_time(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    later = await make_scope(session, world.public, identifier="new.public.test")
    later.created_at = later.updated_at = T0 + dt.timedelta(days=10)
    await session.commit()
    url = "/v1/hackers/programs/public-program/structured_scopes"

    async def identifiers(**params: str) -> list[str]:
        response = await client.get(url, params=params, auth=world.alice_token.auth)
        assert response.status_code == 200, response.text
        return [s["attributes"]["asset_identifier"] for s in response.json()["data"]]

    assert await identifiers() == ["app.public.test", "legacy.public.test", "new.public.test"]
    assert await identifiers(**{"filter[id__gt]": str(world.scope.id)}) == [
        "legacy.public.test",
        "new.public.test",
    ]
    assert await identifiers(**{"filter[created_at__gt]": "2026-01-05T00:00:00+00:00"}) == [
        "new.public.test"
    ]
    assert await identifiers(**{"filter[updated_at__gt]": "2026-01-20T00:00:00Z"}) == []
    paged = await client.get(url, params={"page[size]": "1"}, auth=world.alice_token.auth)
    assert set(paged.json()["links"]) == {"self", "first", "next", "last"}

    assert_error(
        await client.get(
            url, params={"filter[created_at__gt]": "soon"}, auth=world.alice_token.auth
        ),
        400,
        "filter[created_at__gt]",
    )
    assert_error(
        await client.get(url, params={"filter[asset_type]": "URL"}, auth=world.alice_token.auth),
        400,
        "filter[asset_type]",
    )
    assert_error(
        await client.get(
            "/v1/hackers/programs/secret-program/structured_scopes", auth=world.alice_token.auth
        ),
        404,
    )
    await assert_hacker_only(client, world, "GET", url)


# ---- 8. GET /hackers/programs/{handle}/weaknesses ----


async def test_weaknesses_of_a_program(client: httpx.AsyncClient, world: World) -> None:
    url = "/v1/hackers/programs/public-program/weaknesses"
    response = await client.get(url, auth=world.alice_token.auth)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "data": [
            {
                "id": str(world.weakness.id),
                "type": "weakness",
                "attributes": {
                    "name": world.weakness.name,
                    "description": "desc",
                    "external_id": world.weakness.external_id,
                    "created_at": "2026-01-01T12:00:00.000Z",
                },
            }
        ],
        "links": {},
    }
    assert_error(
        await client.get(
            "/v1/hackers/programs/secret-program/weaknesses", auth=world.alice_token.auth
        ),
        404,
    )
    await assert_hacker_only(client, world, "GET", url)


# ---- 9. GET /hackers/programs/{handle}/scope_exclusions ----


async def test_scope_exclusions_of_a_program(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    session.add(
        ScopeExclusion(
            program_id=world.public.id,
            category="Denial of Service",
            details="No load tests.",
            created_at=T0,
            updated_at=T0,
        )
    )
    await session.commit()
    url = "/v1/hackers/programs/public-program/scope_exclusions"
    response = await client.get(url, auth=world.alice_token.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data"}
    assert body["data"][0]["type"] == "scope-exclusion"
    assert body["data"][0]["attributes"] == {
        "category": "Denial of Service",
        "details": "No load tests.",
        "created_at": "2026-01-01T12:00:00.000Z",
        "updated_at": "2026-01-01T12:00:00.000Z",
    }
    assert_error(
        await client.get(
            "/v1/hackers/programs/secret-program/scope_exclusions", auth=world.alice_token.auth
        ),
        404,
    )
    await assert_hacker_only(client, world, "GET", url)


# ---- 10-12. payments ----


async def award(
    client: httpx.AsyncClient, world: World, report: Report, amount: str, bonus: str | None
) -> httpx.Response:
    body: dict[str, Any] = {"message": "Thanks!", "amount": amount}
    if bonus is not None:
        body["bonus_amount"] = bonus
    response = await client.post(
        f"/v1/reports/{report.id}/bounties", json={"data": body}, auth=world.org_token.auth
    )
    assert response.status_code == 201, response.text
    return response


async def test_a_bounty_awarded_by_the_team_is_in_earnings_and_balance_to_the_cent(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    await top_up(session, Clock(), program=world.public, amount_cents=10_000_00)
    world.public.bounty_fee_basis_points = 2000
    await session.commit()
    await award(client, world, world.own, "123.45", "10.05")
    await award(client, world, world.own, "0.10", None)

    earnings = await client.get("/v1/hackers/payments/earnings", auth=world.alice_token.auth)
    assert earnings.status_code == 200, earnings.text
    items = earnings.json()["data"]
    assert [e["type"] for e in items] == ["earning-bounty-earned", "earning-bounty-earned"]
    assert sorted(e["attributes"]["amount"] for e in items) == [0.1, 133.5]
    big = next(e for e in items if e["attributes"]["amount"] == 133.5)
    bounty = big["relationships"]["bounty"]["data"]
    assert bounty["attributes"]["amount"] == "123.45"
    assert bounty["attributes"]["bonus_amount"] == "10.05"
    assert bounty["relationships"]["report"]["data"]["id"] == str(world.own.id)
    assert bounty["relationships"]["report"]["data"]["attributes"]["title"] == "Alice's own report"
    assert big["relationships"]["program"]["data"]["attributes"]["handle"] == "public-program"

    balance = await client.get("/v1/hackers/payments/balance", auth=world.alice_token.auth)
    assert balance.json() == {"data": {"balance": 133.6}}
    assert Decimal(str(balance.json()["data"]["balance"])) == Decimal("133.60")
    programs = await client.get("/v1/hackers/programs", auth=world.alice_token.auth)
    assert programs.json()["data"][0]["attributes"]["bounty_earned_for_user"] == 133.6
    # Bob earned nothing; the fee is the platform's, not a hacker's.
    bob = await client.get("/v1/hackers/payments/balance", auth=world.bob_token.auth)
    assert bob.json() == {"data": {"balance": 0.0}}


async def test_retest_awards_are_earnings_and_payouts_lower_the_balance(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    await top_up(session, Clock(), program=world.public, amount_cents=1_000_00)
    world.own.state = "resolved"
    await session.commit()
    retest = await client.post(
        f"/v1/reports/{world.own.id}/retests",
        json={"data": {"attributes": {"retest_award_amount": "50"}}},
        auth=world.org_token.auth,
    )
    assert retest.status_code == 201, retest.text
    approved = await client.post(
        f"/v1/reports/{world.own.id}/retests/approve",
        json={"data": {"attributes": {}}},
        auth=world.org_token.auth,
    )
    assert approved.status_code == 200, approved.text
    await award(client, world, world.own, "200", None)
    await hacker_service.record_payout(
        session=session,
        clock=Clock(),
        user=world.alice,
        amount_cents=120_00,
        provider="PayPal",
        reference="PP-1",
    )
    await session.commit()

    earnings = (
        await client.get("/v1/hackers/payments/earnings", auth=world.alice_token.auth)
    ).json()["data"]
    assert {e["type"] for e in earnings} == {"earning-bounty-earned", "earning-retest-completed"}
    retest_earning = next(e for e in earnings if e["type"] == "earning-retest-completed")
    assert retest_earning["attributes"]["amount"] == 50.0
    retest_user = retest_earning["relationships"]["report_retest_user"]["data"]
    assert retest_user["type"] == "report-retest-user"
    report_retest = retest_user["relationships"]["report_retest"]["data"]
    assert report_retest["relationships"]["report"]["data"]["id"] == str(world.own.id)

    payouts = await client.get("/v1/hackers/payments/payouts", auth=world.alice_token.auth)
    assert payouts.json()["data"] == [
        {
            "amount": 120.0,
            "paid_out_at": payouts.json()["data"][0]["paid_out_at"],
            "reference": "PP-1",
            "payout_provider": "PayPal",
            "status": "sent",
        }
    ]
    assert payouts.json()["links"] == {}
    balance = await client.get("/v1/hackers/payments/balance", auth=world.alice_token.auth)
    assert balance.json() == {"data": {"balance": 130.0}}
    with pytest.raises(Exception, match=r"at most the balance of 130\.00"):
        await hacker_service.record_payout(
            session=session,
            clock=Clock(),
            user=world.alice,
            amount_cents=130_01,
            provider=None,
            reference=None,
        )


async def test_payment_routes_need_a_hacker_token_and_valid_pages(
    client: httpx.AsyncClient, world: World
) -> None:
    for path in ("balance", "earnings", "payouts"):
        await assert_hacker_only(client, world, "GET", f"/v1/hackers/payments/{path}")
    assert_error(
        await client.get(
            "/v1/hackers/payments/balance", auth=(world.alice_token.identifier, "wrong")
        ),
        401,
    )
    assert_error(
        await client.get(
            "/v1/hackers/payments/earnings",
            params={"page[number]": "0"},
            auth=world.alice_token.auth,
        ),
        400,
        "page[number]",
    )
    assert_error(
        await client.get(
            "/v1/hackers/payments/payouts", params={"page[size]": "x"}, auth=world.alice_token.auth
        ),
        400,
        "page[size]",
    )


# ---- 13-21. report intents ----


def intent_body(**attributes: Any) -> dict[str, Any]:
    base = {
        "team_handle": "public-program",
        "description": "# Reflected XSS in search\n\nA POST to https://app.public.test/search "
        "reflects the parameter `q` unescaped.",
    }
    return {"data": {"type": "report-intent", "attributes": {**base, **attributes}}}


async def create_intent(client: httpx.AsyncClient, token: Token, **attributes: Any) -> str:
    response = await client.post(
        "/v1/hackers/report_intents", json=intent_body(**attributes), auth=token.auth
    )
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


async def test_an_intent_is_drafted_analysed_and_listed(
    client: httpx.AsyncClient, world: World
) -> None:
    created = await client.post(
        "/v1/hackers/report_intents", json=intent_body(), auth=world.alice_token.auth
    )
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["type"] == "report-intent"
    assert data["attributes"]["state"] == "pending"
    assert data["attributes"]["title"] == f"Report Intent #{data['id']}"
    assert data["relationships"]["program"]["data"]["attributes"]["handle"] == "public-program"
    assert "report" not in data["relationships"]

    fetched = await client.get(
        f"/v1/hackers/report_intents/{data['id']}", auth=world.alice_token.auth
    )
    attributes = fetched.json()["data"]["attributes"]
    assert attributes["state"] == "ready_to_submit"
    assert attributes["title"] == "Reflected XSS in search"
    assert attributes["metadata"] == {
        "bug_class": "xss",
        "http_method": "POST",
        "vulnerable_url": "https://app.public.test/search",
        "vulnerable_parameter": "q",
    }
    assert set(attributes["job_status_by_type"].values()) == {"completed"}
    assert attributes["has_failing_jobs"] is False

    listed = await client.get("/v1/hackers/report_intents", auth=world.alice_token.auth)
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()["data"]] == [data["id"]]
    assert "links" not in listed.json()
    await assert_hacker_only(client, world, "GET", "/v1/hackers/report_intents")
    await assert_hacker_only(
        client, world, "POST", "/v1/hackers/report_intents", json=intent_body()
    )
    assert_error(
        await client.get(
            "/v1/hackers/report_intents", params={"page[size]": "-1"}, auth=world.alice_token.auth
        ),
        400,
        "page[size]",
    )


@pytest.mark.parametrize(
    ("attributes", "parameter"),
    [
        ({"title": "Mine"}, "title"),
        ({"team_handle": "secret-program"}, "team_handle"),
        ({"description": ""}, "description"),
        ({"severity_rating": "high"}, "severity_rating"),
    ],
)
async def test_bad_intents_are_refused(
    client: httpx.AsyncClient, world: World, attributes: dict[str, Any], parameter: str
) -> None:
    response = await client.post(
        "/v1/hackers/report_intents", json=intent_body(**attributes), auth=world.alice_token.auth
    )
    assert_error(response, 400, parameter)


async def test_an_intent_is_updated_and_deleted_by_its_owner_only(
    client: httpx.AsyncClient, world: World
) -> None:
    intent_id = await create_intent(client, world.alice_token)
    url = f"/v1/hackers/report_intents/{intent_id}"
    patch = {
        "data": {
            "type": "report-intent",
            "id": intent_id,
            "attributes": {"description": "## SSRF\nGET http://x"},
        }
    }

    updated = await client.patch(url, json=patch, auth=world.alice_token.auth)
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["attributes"]["state"] == "pending"
    assert updated.json()["data"]["attributes"]["description"] == "## SSRF\nGET http://x"
    fetched = (await client.get(url, auth=world.alice_token.auth)).json()["data"]["attributes"]
    assert fetched["title"] == "SSRF"
    assert fetched["metadata"]["bug_class"] == "ssrf"

    title = {"data": {"attributes": {"title": "Mine"}}}
    assert_error(await client.patch(url, json=title, auth=world.alice_token.auth), 400, "title")
    assert_error(await client.patch(url, json=patch, auth=world.bob_token.auth), 404)
    assert_error(await client.get(url, auth=world.bob_token.auth), 404)
    assert_error(await client.delete(url, auth=world.bob_token.auth), 404)
    await assert_hacker_only(client, world, "PATCH", url, json=patch)
    await assert_hacker_only(client, world, "GET", url)
    await assert_hacker_only(client, world, "DELETE", url)

    deleted = await client.delete(url, auth=world.alice_token.auth)
    assert deleted.status_code == 204
    assert_error(await client.get(url, auth=world.alice_token.auth), 404)
    assert_error(await client.get("/v1/hackers/report_intents/x", auth=world.alice_token.auth), 404)


async def test_submitting_an_intent_files_a_report_with_its_files(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    weakness = Weakness(
        name="Cross-site Scripting (XSS) - Reflected",
        description="d",
        external_id="cwe-79",
        created_at=T0,
    )
    session.add(weakness)
    await session.flush()
    await session.execute(
        insert(program_weaknesses),
        [{"program_id": world.public.id, "weakness_id": weakness.id}],
    )
    await session.commit()
    intent_id = await create_intent(client, world.alice_token)
    files_url = f"/v1/hackers/report_intents/{intent_id}/attachments"
    uploaded = await client.post(
        files_url,
        files=[
            ("files[]", ("poc.png", PNG, "image/png")),
            ("files[]", ("notes.txt", b"hi", "text/plain")),
        ],
        auth=world.alice_token.auth,
    )
    assert uploaded.status_code == 201, uploaded.text
    files = uploaded.json()["data"]
    assert [f["attributes"]["file_name"] for f in files] == ["poc.png", "notes.txt"]
    download = await client.get(files[0]["attributes"]["expiring_url"])
    assert download.status_code == 200
    assert download.content == PNG
    # A report-attachment link for the same id does not open the intent's file.
    forged = files[0]["attributes"]["expiring_url"].replace(
        "/report_intent_attachments/", "/attachments/"
    )
    assert (await client.get(forged)).status_code in (403, 404)

    submitted = await client.post(
        f"/v1/hackers/report_intents/{intent_id}/submit", auth=world.alice_token.auth
    )
    assert submitted.status_code == 200, submitted.text
    data = submitted.json()["data"]
    assert data["type"] == "report-intent"
    assert data["attributes"]["state"] == "submitted"
    report_id = data["relationships"]["report"]["data"]["id"]
    assert data["relationships"]["report"]["data"]["type"] == "report"

    report = (
        await client.get(f"/v1/hackers/reports/{report_id}", auth=world.alice_token.auth)
    ).json()["data"]
    assert report["attributes"]["title"] == "Reflected XSS in search"
    assert report["relationships"]["structured_scope"]["data"]["id"] == str(world.scope.id)
    assert report["relationships"]["weakness"]["data"]["id"] == str(weakness.id)
    assert [
        a["attributes"]["file_name"] for a in report["relationships"]["attachments"]["data"]
    ] == [
        "poc.png",
        "notes.txt",
    ]
    team = (await client.get(f"/v1/reports/{report_id}", auth=world.org_token.auth)).json()["data"]
    assert len(team["relationships"]["attachments"]["data"]) == 2
    team_file = await client.get(
        team["relationships"]["attachments"]["data"][0]["attributes"]["expiring_url"]
    )
    assert team_file.content == PNG

    listed = await client.get("/v1/hackers/report_intents", auth=world.alice_token.auth)
    assert listed.json()["data"] == []
    again = await client.post(
        f"/v1/hackers/report_intents/{intent_id}/submit", auth=world.alice_token.auth
    )
    assert_error(again, 400, "state")
    patch = {"data": {"attributes": {"description": "more"}}}
    assert_error(
        await client.patch(
            f"/v1/hackers/report_intents/{intent_id}", json=patch, auth=world.alice_token.auth
        ),
        400,
        "state",
    )
    assert_error(
        await client.delete(f"/v1/hackers/report_intents/{intent_id}", auth=world.alice_token.auth),
        400,
        "state",
    )
    assert_error(
        await client.delete(f"{files_url}/{files[0]['id']}", auth=world.alice_token.auth),
        400,
        "state",
    )
    await assert_hacker_only(
        client, world, "POST", f"/v1/hackers/report_intents/{intent_id}/submit"
    )


async def test_intent_files_are_listed_checked_and_deleted(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    intent_id = await create_intent(client, world.alice_token)
    url = f"/v1/hackers/report_intents/{intent_id}/attachments"
    uploaded = await client.post(
        url, files={"files[]": ("poc.png", PNG, "image/png")}, auth=world.alice_token.auth
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["data"][0]["id"]

    listed = await client.get(url, auth=world.alice_token.auth)
    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()["data"]] == [file_id]
    assert listed.json()["data"][0]["attributes"]["content_type"] == "image/png"
    assert listed.json()["data"][0]["attributes"]["file_size"] == len(PNG)

    html = await client.post(
        url, files={"files[]": ("x.html", b"<script>", "text/html")}, auth=world.alice_token.auth
    )
    assert_error(html, 400, "files[]")
    assert_error(
        await client.post(url, data={"a": "b"}, auth=world.alice_token.auth), 400, "files[]"
    )
    assert_error(await client.get(url, auth=world.bob_token.auth), 404)
    assert_error(
        await client.post(
            url, files={"files[]": ("poc.png", PNG, "image/png")}, auth=world.bob_token.auth
        ),
        404,
    )
    await assert_hacker_only(client, world, "GET", url)
    await assert_hacker_only(
        client, world, "POST", url, files={"files[]": ("poc.png", PNG, "image/png")}
    )
    await assert_hacker_only(client, world, "DELETE", f"{url}/{file_id}")
    assert_error(await client.delete(f"{url}/999999", auth=world.alice_token.auth), 404)
    assert_error(await client.delete(f"{url}/{file_id}", auth=world.bob_token.auth), 404)

    deleted = await client.delete(f"{url}/{file_id}", auth=world.alice_token.auth)
    assert deleted.status_code == 204
    assert (await client.get(url, auth=world.alice_token.auth)).json()["data"] == []
    assert await session.scalar(select(func.count()).select_from(Attachment)) == 0


# ---- the visibility matrix ----


def route_requests(world: World) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """For each hacker route, requests that aim at what alice must not see."""
    bob_report = world.bobs.id
    secret_report = world.secret_disclosed.id
    intent = world.bobs_intent.id
    return {
        ("GET", "/v1/hackers/me/reports"): [{"params": {"filter[program][]": "secret-program"}}],
        ("GET", "/v1/hackers/reports/{id}"): [
            {"path": {"id": bob_report}},
            {"path": {"id": secret_report}},
            {"path": {"id": world.own.id}},
            {"path": {"id": world.disclosed.id}},
        ],
        ("POST", "/v1/hackers/reports"): [
            {"json": report_body(team_handle="secret-program")},
            {"json": report_body(structured_scope_id=world.closed_scope.id + 1)},
        ],
        ("GET", "/v1/hackers/hacktivity"): [
            {},
            {"params": {"queryString": "team:secret-program"}},
            {"params": {"queryString": "BOB-UNDISCLOSED OR SECRET-DISCLOSED"}},
        ],
        ("GET", "/v1/hackers/programs"): [{}, {"params": {"page[size]": "100"}}],
        ("GET", "/v1/hackers/programs/{handle}"): [{"path": {"handle": "secret-program"}}],
        ("GET", "/v1/hackers/programs/{handle}/structured_scopes"): [
            {"path": {"handle": "secret-program"}}
        ],
        ("GET", "/v1/hackers/programs/{handle}/weaknesses"): [
            {"path": {"handle": "secret-program"}}
        ],
        ("GET", "/v1/hackers/programs/{handle}/scope_exclusions"): [
            {"path": {"handle": "secret-program"}}
        ],
        ("GET", "/v1/hackers/payments/balance"): [{}],
        ("GET", "/v1/hackers/payments/earnings"): [{}],
        ("GET", "/v1/hackers/payments/payouts"): [{}],
        ("GET", "/v1/hackers/report_intents"): [{}],
        ("POST", "/v1/hackers/report_intents"): [
            {"json": intent_body(team_handle="secret-program")}
        ],
        ("GET", "/v1/hackers/report_intents/{id}"): [{"path": {"id": intent}}],
        ("PATCH", "/v1/hackers/report_intents/{id}"): [
            {"path": {"id": intent}, "json": {"data": {"attributes": {"description": "mine"}}}}
        ],
        ("DELETE", "/v1/hackers/report_intents/{id}"): [{"path": {"id": intent}}],
        ("POST", "/v1/hackers/report_intents/{id}/submit"): [{"path": {"id": intent}}],
        ("GET", "/v1/hackers/report_intents/{report_intent_id}/attachments"): [
            {"path": {"report_intent_id": intent}}
        ],
        ("POST", "/v1/hackers/report_intents/{report_intent_id}/attachments"): [
            {
                "path": {"report_intent_id": intent},
                "files": {"files[]": ("poc.png", PNG, "image/png")},
            }
        ],
        ("DELETE", "/v1/hackers/report_intents/{report_intent_id}/attachments/{id}"): [
            {"path": {"report_intent_id": intent, "id": 1}}
        ],
    }


async def test_no_hacker_route_shows_what_the_hacker_may_not_see(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    session.add(
        ScopeExclusion(
            program_id=world.secret.id,
            category="secret-program exclusion",
            created_at=T0,
            updated_at=T0,
        )
    )
    await session.commit()
    requests = route_requests(world)
    routes = {(e.method, e.path) for e in all_endpoints() if e.path.startswith("/v1/hackers/")}
    assert routes == set(requests), "every hacker route is in the matrix"

    for (method, path), cases in requests.items():
        for case in cases:
            url = path.format(**case.get("path", {}))
            response = await client.request(
                method,
                url,
                params=case.get("params"),
                json=case.get("json"),
                files=case.get("files"),
                auth=world.alice_token.auth,
            )
            context = (method, url, case.get("params"))
            assert response.status_code < 500, context
            for forbidden in FORBIDDEN:
                assert forbidden not in response.text, (context, forbidden)
    # Nothing of Bob's changed.
    await session.refresh(world.bobs_intent)
    assert world.bobs_intent.description == "BOB-INTENT draft"
    assert world.bobs_intent.state == "ready_to_submit"


# ---- fixed query costs ----


async def test_hacker_pages_cost_the_same_queries_for_few_and_many_items(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: World,
    query_counter: QueryCounter,
) -> None:
    """Every list route of the hacker API loads what its page embeds in batches."""
    await top_up(session, Clock(), program=world.public, amount_cents=100_000_00)
    await session.commit()
    routes = [
        "/v1/hackers/me/reports",
        "/v1/hackers/hacktivity",
        "/v1/hackers/programs",
        "/v1/hackers/payments/earnings",
        "/v1/hackers/payments/payouts",
        "/v1/hackers/report_intents",
    ]

    async def add_items(count: int) -> None:
        for n in range(count):
            program = await make_program(session, world.org)
            report = await make_report(
                session,
                world.public,
                reporter=world.alice,
                rating="low",
                weakness_id=world.weakness.id,
                structured_scope_id=world.scope.id,
            )
            await disclose(session, report, T0 + dt.timedelta(hours=n))
            session.add(ReportCollaborator(report_id=report.id, user_id=world.bob.id, weight=1))
            session.add(Bounty(report_id=report.id, amount_cents=100, created_at=T0))
            await session.commit()
            await award(client, world, report, "1.00", "1.00")
            await create_intent(client, world.alice_token, team_handle=program.handle)
            await hacker_service.record_payout(
                session=session,
                clock=Clock(),
                user=world.alice,
                amount_cents=100,
                provider=None,
                reference=None,
            )
            await session.commit()

    async def costs() -> dict[str, int]:
        counted = {}
        for route in routes:
            query_counter.count = 0
            response = await client.get(
                route, params={"page[size]": "50"}, auth=world.alice_token.auth
            )
            assert response.status_code == 200, response.text
            counted[route] = query_counter.count
        return counted

    await add_items(2)
    few = await costs()
    await add_items(8)
    many = await costs()
    assert few == many
    assert max(many.values()) <= 16


# ---- rate limits ----


async def test_hacker_tokens_have_the_same_budgets_and_scopes_their_own(
    settings: Settings, engine: AsyncEngine, world: World
) -> None:
    limited = settings.model_copy(
        update={
            "rate_limits_enabled": True,
            "rate_limit_reads": "3 per 1 minute",
            "rate_limit_scope_reads": "2 per 1 minute",
            "rate_limit_namespace": f"hackers-{id(world)}",
        }
    )
    app = create_app(limited, engine=engine, clock=Clock())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        scopes = "/v1/hackers/programs/public-program/structured_scopes"
        assert (await client.get(scopes, auth=world.alice_token.auth)).status_code == 200
        assert (await client.get(scopes, auth=world.alice_token.auth)).status_code == 200
        limited_scopes = await client.get(scopes, auth=world.alice_token.auth)
        assert_error(limited_scopes, 429)
        assert "Retry-After" in limited_scopes.headers
        for _ in range(3):
            response = await client.get("/v1/hackers/programs", auth=world.alice_token.auth)
            assert response.status_code == 200
        assert_error(await client.get("/v1/hackers/programs", auth=world.alice_token.auth), 429)
        # Budgets are per token: Bob is untouched.
        assert (await client.get(scopes, auth=world.bob_token.auth)).status_code == 200


# ---- hacktivity search ----


@dataclass
class Feed:
    titles: dict[str, int]


@pytest.fixture
async def feed(session: AsyncSession, world: World) -> Feed:
    """Five disclosed reports alice can see (plus the world's), one she cannot, and undisclosed
    ones that must never match."""
    carol = await make_user(session, username="carol")
    dod = await make_program(session, world.org, handle="dept-of-defense")
    xss = Weakness(
        name="Cross-site Scripting (XSS) - Stored",
        description="d",
        external_id="cwe-79",
        created_at=T0,
    )
    sqli = Weakness(name="SQL Injection", description="d", external_id="cwe-89", created_at=T0)
    redirect = Weakness(name="Open Redirect", description="d", external_id="cwe-601", created_at=T0)
    session.add_all([xss, sqli, redirect])
    wildcard = await make_scope(session, world.public, identifier="*.public.test")
    wildcard.asset_type = "WILDCARD"
    await session.commit()

    async def disclosed(
        program: Program,
        reporter: User,
        title: str,
        *,
        day: dt.datetime,
        rating: str,
        bounty: int = 0,
        **fields: Any,
    ) -> Report:
        report = await make_report(
            session, program, reporter=reporter, title=title, rating=rating, **fields
        )
        if bounty:
            session.add(Bounty(report_id=report.id, amount_cents=bounty, created_at=day))
        await disclose(session, report, day)
        return report

    h1 = await disclosed(
        world.public,
        world.alice,
        "Stored XSS in profile",
        day=dt.datetime(2024, 1, 15, 10, tzinfo=dt.UTC),
        rating="critical",
        bounty=500_00,
        weakness_id=xss.id,
        structured_scope_id=world.scope.id,
        cve_ids=["CVE-2024-1111"],
        state="resolved",
        vulnerability_information="The giraffe payload",
    )
    session.add(ReportCollaborator(report_id=h1.id, user_id=world.bob.id, weight=0.5))
    h2 = await disclosed(
        world.public,
        world.bob,
        "SQL injection in search",
        day=dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
        rating="high",
        bounty=1500_50,
        weakness_id=sqli.id,
        structured_scope_id=wildcard.id,
        state="resolved",
        vulnerability_information="The zebra payload",
        disclosure_substate="no-content",
    )
    h3 = await disclosed(
        world.public,
        carol,
        "Open redirect on login",
        day=dt.datetime(2023, 12, 31, 23, tzinfo=dt.UTC),
        rating="low",
        weakness_id=redirect.id,
        state="informative",
    )
    h4 = await disclosed(
        dod,
        world.bob,
        "SSRF via the importer",
        day=dt.datetime(2024, 2, 10, tzinfo=dt.UTC),
        rating="critical",
        bounty=100_00,
        state="resolved",
    )
    h5 = await disclosed(
        world.private,
        world.bob,
        "Private IDOR",
        day=dt.datetime(2024, 2, 20, tzinfo=dt.UTC),
        rating="medium",
        state="resolved",
    )
    await make_report(session, world.public, reporter=carol, title="Undisclosed XSS giraffe")
    await session.commit()
    return Feed(
        titles={
            "H1": h1.id,
            "H2": h2.id,
            "H3": h3.id,
            "H4": h4.id,
            "H5": h5.id,
            "D": world.disclosed.id,
        }
    )


ALL = {"H1", "H2", "H3", "H4", "H5", "D"}
HACKTIVITY_CASES: list[tuple[str, set[str]]] = [
    ("", ALL),
    ("*", ALL),
    ("*:*", ALL),
    ("severity_rating:critical", {"H1", "H4"}),
    ("severity_rating:CRITICAL", {"H1", "H4"}),
    ("severity_rating:(critical OR low)", {"H1", "H3", "H4"}),
    ("severity_rating:critical AND disclosed_at:>=01-02-2024", {"H4"}),
    ("severity_rating:critical && disclosed_at:>=2024-02-01", {"H4"}),
    ('team_handle:"dept-of-defense"', {"H4"}),
    ("team:dept-of-defense", {"H4"}),
    ("team:dept-*", {"H4"}),
    ("team:(private-program OR dept-of-defense)", {"H4", "H5"}),
    ("NOT severity_rating:critical", {"H2", "H3", "H5", "D"}),
    ("-severity_rating:critical", {"H2", "H3", "H5", "D"}),
    ("!team:public-program", {"H4", "H5"}),
    ("total_awarded_amount:>1000", {"H2"}),
    ("total_awarded_amount:>=500", {"H1", "H2"}),
    ("total_awarded_amount:[100 TO 500]", {"H1", "H4"}),
    ("total_awarded_amount:{100 TO 500]", {"H1"}),
    ("total_awarded_amount:1500.50", {"H2"}),
    ("total_awarded_amount:0", {"H3", "H5", "D"}),
    ("cwe:xss", {"H1"}),
    ('cwe:"cwe-89"', {"H2"}),
    ('cwe:"open redirect"', {"H3"}),
    ("cve_ids:CVE-2024-1111", {"H1"}),
    ("cve_ids:cve-2024-*", {"H1"}),
    ("cve_ids:*", {"H1"}),
    ("reporter:bob", {"H2", "H4", "H5", "D"}),
    ("reporter:bob AND severity_rating:critical", {"H4"}),
    ("asset_type:WILDCARD", {"H2"}),
    ("asset_type:url", {"H1"}),
    ("substate:informative", {"H3"}),
    ("has_collaboration:true", {"H1"}),
    ("has_collaboration:false", ALL - {"H1"}),
    ("disclosed:true", ALL),
    ("disclosed:false", set()),
    ("disclosed_at:[2024-01-01 TO 2024-01-31]", {"H1"}),
    ("disclosed_at:{2023-12-31 TO 2024-01-15}", set()),
    ("disclosed_at:[2023-12-31 TO 2024-01-15]", {"H1", "H3"}),
    ("disclosed_at:2023-12-31", {"H3"}),
    ("disclosed_at:<2024-01-01", {"H3"}),
    ("disclosed_at:>2025-01-01", {"D"}),
    ("disclosed_at:[2024-03-01T00:00:00Z TO 2024-03-01T00:00:00Z]", {"H2"}),
    ("xss", {"H1"}),
    ("giraffe", {"H1"}),
    ("zebra", set()),
    ('"open redirect"', {"H3"}),
    ("login OR search", {"H2", "H3"}),
    ("title:ssrf", {"H4"}),
    ("title:ssrf OR title:idor", {"H4", "H5"}),
    ("(severity_rating:critical OR severity_rating:low) AND reporter:alice", {"H1"}),
    ("unknown_field:foo", set()),
    ("unknown_field:foo OR severity_rating:low", {"H3"}),
    ("votes:0", ALL),
    ("votes:>0", set()),
    ("SECRET-DISCLOSED", set()),
    ("BOB-UNDISCLOSED", set()),
]


@pytest.mark.parametrize(("query", "expected"), HACKTIVITY_CASES)
async def test_hacktivity_query_selects_what_it_says(
    client: httpx.AsyncClient, world: World, feed: Feed, query: str, expected: set[str]
) -> None:
    response = await client.get(
        "/v1/hackers/hacktivity",
        params={"queryString": query, "page[size]": "50"},
        auth=world.alice_token.auth,
    )
    assert response.status_code == 200, response.text
    names = {v: k for k, v in feed.titles.items()}
    assert {names[item["id"]] for item in response.json()["data"]} == expected


@pytest.mark.parametrize(
    "query",
    [
        "severity_rating:(critical",
        "total_awarded_amount:abc",
        "disclosed_at:yesterday",
        "title:[a TO b]",
        "disclosed:maybe",
        "xss~2",
        "total_awarded_amount:1*",
        "AND xss",
    ],
)
@pytest.mark.usefixtures("feed")
async def test_bad_hacktivity_queries_are_400(
    client: httpx.AsyncClient, world: World, query: str
) -> None:
    response = await client.get(
        "/v1/hackers/hacktivity", params={"queryString": query}, auth=world.alice_token.auth
    )
    assert_error(response, 400, "queryString")


async def test_hacktivity_sorts_by_each_key(
    client: httpx.AsyncClient, world: World, feed: Feed
) -> None:
    async def order(sort: str | None) -> list[str]:
        params = {"sort": sort} if sort is not None else {}
        response = await client.get(
            "/v1/hackers/hacktivity", params=params, auth=world.alice_token.auth
        )
        assert response.status_code == 200, response.text
        names = {v: k for k, v in feed.titles.items()}
        return [names[item["id"]] for item in response.json()["data"]]

    by_disclosure = ["D", "H2", "H5", "H4", "H1", "H3"]
    assert await order(None) == by_disclosure
    assert await order("-latest_disclosable_activity_at") == by_disclosure
    assert await order("disclosed_at") == by_disclosure[::-1]
    assert (await order("-total_awarded_amount"))[:3] == ["H2", "H1", "H4"]
    assert (await order("total_awarded_amount"))[-3:] == ["H4", "H1", "H2"]
    assert await order("-votes") == sorted(by_disclosure, key=lambda n: -feed.titles[n])
    assert await order("-votes,disclosed_at") == by_disclosure[::-1]


async def test_hacktivity_pages_hold_at_most_50_items(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    for n in range(55):
        report = await make_report(session, world.public, reporter=world.bob, title=f"Old {n}")
        report.disclosed_at = T0 + dt.timedelta(minutes=n)
        report.disclosure_substate = "full"
    await session.commit()

    first = await client.get(
        "/v1/hackers/hacktivity", params={"page[size]": "100"}, auth=world.alice_token.auth
    )
    assert first.status_code == 200
    assert len(first.json()["data"]) == 50
    assert first.json()["links"] == {}
    second = await client.get(
        "/v1/hackers/hacktivity",
        params={"page[size]": "100", "page[number]": "2"},
        auth=world.alice_token.auth,
    )
    assert len(second.json()["data"]) == 6
    item = second.json()["data"][-1]
    assert item["attributes"]["total_awarded_amount"] is None
    assert item["attributes"]["latest_disclosable_action"] is None
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", item["attributes"]["disclosed_at"]
    )


async def test_hacktivity_items_carry_the_documented_fields(
    client: httpx.AsyncClient, world: World, feed: Feed, session: AsyncSession
) -> None:
    from bountybox.db.models import ReportSummary

    session.add(
        ReportSummary(
            report_id=feed.titles["H1"],
            user_id=world.alice.id,
            content="The researcher found a stored XSS.",
            category="team",
            created_at=T0,
            updated_at=T0,
        )
    )
    await session.commit()
    response = await client.get(
        "/v1/hackers/hacktivity", params={"queryString": "xss"}, auth=world.alice_token.auth
    )
    item = response.json()["data"][0]
    assert item["id"] == feed.titles["H1"]
    assert item["attributes"] == {
        "title": "Stored XSS in profile",
        "substate": "resolved",
        "url": f"http://testserver/v1/hackers/reports/{feed.titles['H1']}",
        "disclosed_at": "2024-01-15T10:00:00.000Z",
        "submitted_at": "2026-01-01T12:00:00.000Z",
        "disclosed": True,
        "cve_ids": ["CVE-2024-1111"],
        "cwe": "Cross-site Scripting (XSS) - Stored",
        "severity_rating": "critical",
        "votes": 0,
        "total_awarded_amount": 500.0,
        "latest_disclosable_action": "Activities::ReportBecamePublic",
        "latest_disclosable_activity_at": "2024-01-15T10:00:00.000Z",
    }
    assert item["relationships"]["reporter"] == {
        "data": {"type": "user", "attributes": {"username": "alice", "name": world.alice.name}}
    }
    program = item["relationships"]["program"]["data"]["attributes"]
    assert program["handle"] == "public-program"
    assert program["url"] == "http://testserver/v1/hackers/programs/public-program"
    generated = item["relationships"]["report_generated_content"]["data"]
    assert generated["attributes"] == {"hacktivity_summary": "The researcher found a stored XSS."}
