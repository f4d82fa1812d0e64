from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core import pagination
from bountybox.core.jsonapi import query
from bountybox.db.models import (
    Activity,
    ApiToken,
    Bounty,
    CustomFieldAttribute,
    CustomFieldValue,
    Inbox,
    Program,
    Report,
    ReportCollaborator,
    Severity,
    WebhookDelivery,
    report_inboxes,
)
from bountybox.domains.reports.states import TRANSITIONS, ReportState
from tests.builders import (
    T0,
    Token,
    make_activity,
    make_group,
    make_member,
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


async def list_ids(
    client: httpx.AsyncClient, token: Token, params: dict[str, Any] | list[Any]
) -> list[str]:
    response = await client.get("/v1/reports", params=params, auth=token.auth)
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["data"]]


async def count(session: AsyncSession, model: type[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def world(session: AsyncSession) -> dict[str, Any]:
    """One organization with a program, a second organization, and a hacker."""
    org = await make_org(session)
    program = await make_program(session, org, handle="acme")
    other_org = await make_org(session)
    foreign = await make_program(session, other_org, handle="foreign")
    hacker = await make_user(session, username="hacker1")
    return {
        "org": org,
        "program": program,
        "foreign": foreign,
        "hacker": hacker,
        "token": await make_token(session, org),
        "foreign_token": await make_token(session, other_org),
    }


# ---- GET /reports ----


async def test_listing_requires_a_program_or_inbox_filter(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    response = await client.get("/v1/reports", auth=world["token"].auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "filter[program]"}


async def test_listing_never_shows_another_organizations_reports(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    mine = await make_report(session, world["program"], reporter=world["hacker"])
    await make_report(session, world["foreign"], reporter=world["hacker"])

    assert await list_ids(client, world["token"], {"filter[program][]": ["acme", "foreign"]}) == [
        str(mine.id)
    ]
    assert await list_ids(client, world["token"], {"filter[program][]": "foreign"}) == []
    assert (
        await list_ids(
            client, world["token"], {"filter[id][]": [str(mine.id)], "filter[program][]": "foreign"}
        )
        == []
    )


async def test_every_list_filter_selects_what_it_names(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    program, hacker, org = world["program"], world["hacker"], world["org"]
    other_hacker = await make_user(session, username="hacker2")
    bob = await make_member(session, org, username="bob")
    group = await make_group(
        session, org, name="Triage Team", permissions=["report_management"], programs=[program]
    )
    weakness = await make_weakness(session, program)
    scope = await make_scope(session, program)
    a = await make_report(
        session,
        program,
        reporter=hacker,
        state="triaged",
        rating="high",
        weakness_id=weakness.id,
        structured_scope_id=scope.id,
        assignee_user_id=bob.id,
        title="SQL injection in login",
        hacker_published=True,
        issue_tracker_reference_id="JIRA-1",
    )
    b = await make_report(
        session,
        program,
        reporter=other_hacker,
        state="new",
        rating="low",
        assignee_group_id=group.id,
        hai_is_priority=True,
        reporter_agreed_on_going_public_at=T0,
    )
    c = await make_report(
        session,
        program,
        reporter=other_hacker,
        state="resolved",
        title="Open redirect",
        vulnerability_information="uses 100% of CPU",
    )
    inbox = Inbox(
        organization_id=org.id, name="Custom", type="custom", created_at=T0, updated_at=T0
    )
    session.add(inbox)
    await session.flush()
    await session.execute(insert(report_inboxes), [{"report_id": c.id, "inbox_id": inbox.id}])
    field = CustomFieldAttribute(
        program_id=program.id, label="Component", created_at=T0, updated_at=T0
    )
    session.add(field)
    await session.flush()
    session.add(
        CustomFieldValue(
            report_id=b.id,
            custom_field_attribute_id=field.id,
            value="Backend API",
            created_at=T0,
            updated_at=T0,
        )
    )
    await session.commit()
    token = world["token"]
    base = {"filter[program][]": "acme"}

    async def ids(**extra: Any) -> set[str]:
        return set(await list_ids(client, token, {**base, **extra}))

    assert await ids() == {str(a.id), str(b.id), str(c.id)}
    assert set(await list_ids(client, token, {"filter[inbox_ids][]": str(inbox.id)})) == {str(c.id)}
    assert await ids(**{"filter[reporter][]": "hacker2"}) == {str(b.id), str(c.id)}
    assert await ids(**{"filter[assignee][]": "bob"}) == {str(a.id)}
    assert await ids(**{"filter[assignee][]": "bob@example.test"}) == {str(a.id)}
    assert await ids(**{"filter[assignee][]": "Triage Team"}) == {str(b.id)}
    assert await ids(**{"filter[state][]": ["new", "resolved"]}) == {str(b.id), str(c.id)}
    assert await ids(**{"filter[id][]": [str(a.id), str(c.id)]}) == {str(a.id), str(c.id)}
    assert await ids(**{"filter[weakness_id][]": str(weakness.id)}) == {str(a.id)}
    assert await ids(**{"filter[severity][]": "low"}) == {str(b.id)}
    assert await ids(**{"filter[asset_ids][]": str(scope.id)}) == {str(a.id)}
    assert await ids(**{"filter[hacker_published]": "true"}) == {str(a.id)}
    assert await ids(**{"filter[hai_is_priority]": "true"}) == {str(b.id)}
    assert await ids(**{"filter[hai_is_priority]": "false"}) == {str(a.id), str(c.id)}
    assert await ids(**{"filter[reporter_agreed_on_going_public]": "true"}) == {str(b.id)}
    assert await ids(**{"filter[keyword]": "sql INJECTION"}) == {str(a.id)}
    assert await ids(**{"filter[keyword]": "100%"}) == {str(c.id)}
    assert await ids(**{"filter[keyword]": "1_0"}) == set()
    assert await ids(**{"filter[issue_tracker_reference_id]": "JIRA-1"}) == {str(a.id)}
    assert await ids(**{"filter[issue_tracker_reference_id__null]": "true"}) == {
        str(b.id),
        str(c.id),
    }
    assert await ids(
        **{
            "filter[custom_fields][][id__eq]": str(field.id),
            "filter[custom_fields][][value__eq]": "Back%",
        }
    ) == {str(b.id)}
    assert (
        await ids(
            **{
                "filter[custom_fields][][id__eq]": str(field.id),
                "filter[custom_fields][][value__eq]": "Front%",
            }
        )
        == set()
    )


async def test_date_filters_compare_instants_across_offsets(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    program, hacker = world["program"], world["hacker"]
    early = await make_report(session, program, reporter=hacker, created_at=T0)
    late = await make_report(
        session,
        program,
        reporter=hacker,
        created_at=T0 + dt.timedelta(days=2),
        triaged_at=T0 + dt.timedelta(days=3),
        swag_awarded_at=T0 + dt.timedelta(days=3),
    )
    token = world["token"]
    base = {"filter[program][0]": "acme"}

    # 2026-01-01T12:00Z is 02:00 at -10:00.
    after = await list_ids(
        client, token, {**base, "filter[created_at__gt]": "2026-01-01T02:00:00-10:00"}
    )
    assert after == [str(late.id)]
    before = await list_ids(
        client, token, {**base, "filter[created_at__lt]": "2026-01-02T00:00:00.000Z"}
    )
    assert before == [str(early.id)]
    assert await list_ids(client, token, {**base, "filter[triaged_at__null]": "true"}) == [
        str(early.id)
    ]
    assert await list_ids(client, token, {**base, "filter[triaged_at__null]": "false"}) == [
        str(late.id)
    ]
    # hackeroni's older spelling of swag_awarded_at.
    assert await list_ids(client, token, {**base, "filter[swag_at__gt]": "2026-01-02"}) == [
        str(late.id)
    ]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"filter[program][]": "acme", "filter[colour]": "red"}, "filter[colour]"),
        (
            {"filter[program][]": "acme", "filter[created_at__gt]": "yesterday"},
            "filter[created_at__gt]",
        ),
        (
            {"filter[program][]": "acme", "filter[created_at__between]": "2020-01-01"},
            "filter[created_at__between]",
        ),
        ({"filter[program][]": "acme", "filter[state][]": "closed"}, "filter[state]"),
        ({"filter[program][]": "acme", "filter[severity][]": "urgent"}, "filter[severity]"),
        ({"filter[program][]": "acme", "filter[id][]": "abc"}, "filter[id]"),
        ({"filter[program][]": "acme", "filter[id][]": "99999999999999999999999"}, "filter[id]"),
        (
            {"filter[program][]": "acme", "filter[hai_is_priority]": "maybe"},
            "filter[hai_is_priority]",
        ),
        (
            {"filter[program][]": "acme", "filter[custom_fields][][id__eq]": "1"},
            "filter[custom_fields]",
        ),
        ({"filter[program][]": "acme", "sort": "reports.title"}, "sort"),
        ({"filter[program][]": "acme", "page[size]": "0"}, "page[size]"),
        ({"filter[program][]": "acme", "page[size]": "1000"}, "page[size]"),
        ({"filter[program][]": "acme", "page[number]": "0"}, "page[number]"),
        ({"filter[program][]": "acme", "page[number]": "401"}, "page[number]"),
        ({"filter": "acme"}, "filter"),
    ],
)
async def test_bad_query_parameters_get_400_naming_the_parameter(
    client: httpx.AsyncClient, world: dict[str, Any], params: dict[str, str], parameter: str
) -> None:
    response = await client.get("/v1/reports", params=params, auth=world["token"].auth)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["status"] == 400
    assert error["title"] == "Invalid Parameter"
    assert error["source"] == {"parameter": parameter}


async def test_sort_orders_by_each_key_and_direction(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    program, hacker = world["program"], world["hacker"]
    r1 = await make_report(
        session, program, reporter=hacker, created_at=T0, triaged_at=T0 + dt.timedelta(days=5)
    )
    r2 = await make_report(
        session,
        program,
        reporter=hacker,
        created_at=T0 + dt.timedelta(days=1),
        triaged_at=T0 + dt.timedelta(days=2),
    )
    r3 = await make_report(session, program, reporter=hacker, created_at=T0 + dt.timedelta(days=2))
    token, base = world["token"], {"filter[program][]": "acme"}

    assert await list_ids(client, token, base) == [str(r3.id), str(r2.id), str(r1.id)]
    assert await list_ids(client, token, {**base, "sort": "reports.created_at"}) == [
        str(r1.id),
        str(r2.id),
        str(r3.id),
    ]
    assert await list_ids(client, token, {**base, "sort": "-reports.triaged_at"}) == [
        str(r1.id),
        str(r2.id),
        str(r3.id),
    ]
    assert await list_ids(
        client, token, {**base, "sort": "reports.triaged_at,-reports.created_at"}
    ) == [str(r2.id), str(r1.id), str(r3.id)]


@pytest.mark.parametrize("count", [10, 12])
async def test_a_list_past_the_rows_page_numbers_reach_has_no_last_link(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    count: int,
) -> None:
    """Page numbers reach the first MAX_OFFSET rows (10,000; 10 here): the count stops there,
    and a list longer than that links `next` but no `last`, which could not be requested."""
    monkeypatch.setattr(query, "MAX_OFFSET", 10)
    monkeypatch.setattr(pagination, "MAX_OFFSET", 10)
    for i in range(count):
        await make_report(
            session,
            world["program"],
            reporter=world["hacker"],
            created_at=T0 + dt.timedelta(minutes=i),
        )
    token = world["token"]
    params = {"filter[program][]": "acme", "page[size]": "5"}

    first = await client.get("/v1/reports", params=params, auth=token.auth)
    second = await client.get(
        "/v1/reports", params={**params, "page[number]": "2"}, auth=token.auth
    )
    third = await client.get("/v1/reports", params={**params, "page[number]": "3"}, auth=token.auth)

    assert [len(r.json()["data"]) for r in (first, second)] == [5, 5]
    assert third.status_code == 400
    assert third.json()["errors"][0]["source"] == {"parameter": "page[number]"}
    if count == 10:
        assert set(first.json()["links"]) == {"self", "first", "next", "last"}
        assert set(second.json()["links"]) == {"self", "first", "prev", "last"}
    else:
        assert set(first.json()["links"]) == {"self", "first", "next"}
        assert set(second.json()["links"]) == {"self", "first", "prev", "next"}


async def test_pages_link_to_each_other_and_id_gt_continues_past_the_offset_cap(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    reports = [
        await make_report(
            session,
            world["program"],
            reporter=world["hacker"],
            created_at=T0 + dt.timedelta(minutes=i),
        )
        for i in range(7)
    ]
    token = world["token"]
    first = await client.get(
        "/v1/reports", params={"filter[program][]": "acme", "page[size]": "3"}, auth=token.auth
    )
    links = first.json()["links"]
    assert set(links) == {"self", "first", "next", "last"}
    assert links["next"] == (
        "http://testserver/v1/reports?filter%5Bprogram%5D%5B%5D=acme&page%5Bsize%5D=3&page%5Bnumber%5D=2"
    )
    last = await client.get(links["last"], auth=token.auth)
    assert len(last.json()["data"]) == 1
    assert "next" not in last.json()["links"]
    assert "prev" in last.json()["links"]

    after = await list_ids(
        client, token, {"filter[program][]": "acme", "filter[id__gt]": str(reports[3].id)}
    )
    assert after == [str(r.id) for r in reports[4:]]


async def test_list_items_embed_the_list_relationships_only(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    await make_report(session, world["program"], reporter=world["hacker"], rating="medium")
    response = await client.get(
        "/v1/reports", params={"filter[program][]": "acme"}, auth=world["token"].auth
    )
    item = response.json()["data"][0]
    assert set(item["relationships"]) == {
        "reporter",
        "collaborators",
        "program",
        "severity",
        "bounties",
        "inboxes",
        "custom_field_values",
    }
    assert item["attributes"]["main_state"] == "open"


async def build_rich_reports(session: AsyncSession, program: Program, n: int) -> None:
    org_id = program.organization_id
    hacker = await make_user(session)
    collaborator = await make_user(session)
    weakness = await make_weakness(session, program)
    scope = await make_scope(session, program)
    inbox = Inbox(
        organization_id=org_id, name=f"inbox{n}", type="default", created_at=T0, updated_at=T0
    )
    field = CustomFieldAttribute(program_id=program.id, label="C", created_at=T0, updated_at=T0)
    session.add_all([inbox, field])
    await session.flush()
    for i in range(n):
        assignee = await make_user(session, user_type="member")
        report = await make_report(
            session,
            program,
            reporter=await make_user(session) if i % 2 else hacker,
            rating="high",
            weakness_id=weakness.id,
            structured_scope_id=scope.id,
            assignee_user_id=assignee.id,
            created_at=T0 + dt.timedelta(seconds=i),
        )
        session.add_all(
            [
                Bounty(
                    report_id=report.id, amount_cents=10000, bonus_amount_cents=0, created_at=T0
                ),
                ReportCollaborator(report_id=report.id, user_id=collaborator.id, weight=0.5),
                CustomFieldValue(
                    report_id=report.id,
                    custom_field_attribute_id=field.id,
                    value="x",
                    created_at=T0,
                    updated_at=T0,
                ),
                Activity(
                    type="activity-comment",
                    program_id=program.id,
                    report_id=report.id,
                    actor_user_id=assignee.id,
                    message="hi",
                    internal=False,
                    extra={},
                    refs={},
                    created_at=T0,
                    updated_at=T0,
                ),
            ]
        )
        await session.execute(
            insert(report_inboxes), [{"report_id": report.id, "inbox_id": inbox.id}]
        )
    await session.commit()


async def test_a_page_of_reports_costs_the_same_queries_at_10_and_100(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    query_counter: QueryCounter,
) -> None:
    small = await make_program(session, world["org"], handle="small")
    large = await make_program(session, world["org"], handle="large")
    await build_rich_reports(session, small, 10)
    await build_rich_reports(session, large, 100)
    token = world["token"]

    counts = {}
    for handle, size in (("small", 10), ("large", 100)):
        query_counter.count = 0
        response = await client.get(
            "/v1/reports",
            params={"filter[program][]": handle, "page[size]": "100"},
            auth=token.auth,
        )
        assert len(response.json()["data"]) == size
        assert all("assignee" in r["relationships"] for r in response.json()["data"])
        counts[handle] = query_counter.count
    assert counts["small"] == counts["large"]
    assert counts["large"] <= 16


async def test_report_document_costs_a_fixed_number_of_queries(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    query_counter: QueryCounter,
) -> None:
    await build_rich_reports(session, world["program"], 2)
    report_ids = list(await session.scalars(select(Report.id).order_by(Report.id)))
    query_counter.count = 0
    response = await client.get(f"/v1/reports/{report_ids[0]}", auth=world["token"].auth)
    assert response.status_code == 200
    # The four of an ordinary report, then its bounties, collaborators and custom field values
    # (with their fields' attributes).
    assert query_counter.count == 7, query_counter.statements


async def test_an_ordinary_report_document_costs_four_statements(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    query_counter: QueryCounter,
) -> None:
    """The token; the report with its program, severity, weakness, asset, reporter, assignee,
    inboxes and which rarely present children it has; its activities; their actors other than
    the reporter."""
    org, program, hacker = world["org"], world["program"], world["hacker"]
    report = await make_report(session, program, reporter=hacker, rating="high")
    team = [await make_member(session, org) for _ in range(2)]
    for i, actor in enumerate([hacker, *team, hacker]):
        await make_activity(session, report, at=T0 + dt.timedelta(minutes=i), actor=actor)

    query_counter.count = 0
    response = await client.get(f"/v1/reports/{report.id}", auth=world["token"].auth)

    assert response.status_code == 200
    data = response.json()["data"]
    actors = [
        a["relationships"]["actor"]["data"]["id"]
        for a in data["relationships"]["activities"]["data"]
    ]
    assert actors == [str(hacker.id), str(team[1].id), str(team[0].id), str(hacker.id)]
    assert data["relationships"]["reporter"]["data"]["id"] == str(hacker.id)
    assert data["relationships"]["severity"]["data"]["attributes"]["rating"] == "high"
    assert query_counter.count == 4, query_counter.statements


# ---- GET /reports/{id} ----


async def test_missing_and_foreign_reports_are_both_a_bare_403(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    foreign = await make_report(session, world["foreign"], reporter=world["hacker"])
    for path in (
        f"/v1/reports/{foreign.id}",
        "/v1/reports/404",
        "/v1/reports/abc",
        "/v1/reports/" + "9" * 30,
    ):
        response = await client.get(path, auth=world["token"].auth)
        assert response.status_code == 403, path
        assert response.json() == {"errors": [{"status": 403}]}


async def test_group_token_sees_only_its_groups_programs(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    org = world["org"]
    other = await make_program(session, org, handle="other")
    group = await make_group(
        session, org, permissions=["report_management"], programs=[world["program"]]
    )
    token = await make_token(session, org, groups=[group])
    hidden = await make_report(session, other, reporter=world["hacker"])
    visible = await make_report(session, world["program"], reporter=world["hacker"])

    assert (await client.get(f"/v1/reports/{visible.id}", auth=token.auth)).status_code == 200
    assert (await client.get(f"/v1/reports/{hidden.id}", auth=token.auth)).status_code == 403
    assert await list_ids(client, token, {"filter[program][]": ["acme", "other"]}) == [
        str(visible.id)
    ]


# ---- POST /reports ----


def create_body(**attributes: Any) -> dict[str, Any]:
    base = {
        "team_handle": "acme",
        "title": "hi",
        "vulnerability_information": "hi",
        "impact": "string",
        "source": "api",
    }
    return {"data": {"type": "report", "attributes": {**base, **attributes}}}


async def test_creating_a_report_appends_the_impact_and_sets_severity(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    weakness = await make_weakness(session, world["program"])
    scope = await make_scope(session, world["program"])
    body = create_body(
        severity_rating="high", weakness_id=weakness.id, structured_scope_id=scope.id
    )
    response = await client.post("/v1/reports", json=body, auth=world["token"].auth)

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["attributes"]["vulnerability_information"] == "hi\n\n## Impact\n\nstring"
    assert data["attributes"]["state"] == "new"
    assert data["attributes"]["source"] == "api"
    assert data["relationships"]["severity"]["data"]["attributes"]["rating"] == "high"
    assert data["relationships"]["weakness"]["data"]["id"] == str(weakness.id)
    assert data["relationships"]["structured_scope"]["data"]["id"] == str(scope.id)
    assert data["relationships"]["activities"] == {"data": []}
    assert (
        data["relationships"]["reporter"]["data"]["attributes"]["username"]
        == world["token"].identifier
    )
    listed = await list_ids(client, world["token"], {"filter[program][]": "acme"})
    assert listed == [data["id"]]


@pytest.mark.parametrize(
    ("attributes", "parameter"),
    [
        ({"severity_rating": "invalid_severity"}, "severity_rating"),
        ({"team_handle": "nope"}, "team_handle"),
        ({"team_handle": "foreign"}, "team_handle"),
        ({"weakness_id": 999999}, "weakness_id"),
        ({"structured_scope_id": 999999}, "structured_scope_id"),
        ({"title": ""}, "title"),
        ({"title": 5}, "title"),
        ({"impact": None}, "impact"),
    ],
)
async def test_invalid_report_creation_writes_nothing(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    attributes: dict[str, Any],
    parameter: str,
) -> None:
    response = await client.post(
        "/v1/reports", json=create_body(**attributes), auth=world["token"].auth
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": parameter}
    assert await count(session, Report) == 0
    assert await count(session, Severity) == 0


async def test_invalid_severity_error_matches_hackerone_exactly(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    response = await client.post(
        "/v1/reports",
        json=create_body(severity_rating="invalid_severity"),
        auth=world["token"].auth,
    )
    assert response.json() == {
        "errors": [
            {
                "status": 400,
                "title": "Invalid Parameter",
                "detail": "The parameter 'severity_rating' is invalid.",
                "source": {"parameter": "severity_rating"},
            }
        ]
    }


async def test_creating_needs_report_management(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    group = await make_group(
        session, world["org"], permissions=["reward_management"], programs=[world["program"]]
    )
    token = await make_token(session, world["org"], groups=[group])
    response = await client.post("/v1/reports", json=create_body(), auth=token.auth)
    assert response.status_code == 403
    assert await count(session, Report) == 0


async def test_a_required_custom_field_blocks_creation(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    session.add(
        CustomFieldAttribute(
            program_id=world["program"].id,
            label="Team",
            required=True,
            created_at=T0,
            updated_at=T0,
        )
    )
    await session.commit()
    response = await client.post("/v1/reports", json=create_body(), auth=world["token"].auth)
    assert response.status_code == 400
    assert await count(session, Report) == 0


# ---- POST /reports/{id}/state_changes ----


def state_body(state: str, message: str | None = "because", **extra: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = {"state": state, **extra}
    if message is not None:
        attributes["message"] = message
    return {"data": {"type": "state-change", "attributes": attributes}}


ALL_PAIRS = [(old, new) for old in ReportState for new in ReportState]


@pytest.mark.parametrize(("old", "new"), ALL_PAIRS, ids=[f"{o}->{n}" for o, n in ALL_PAIRS])
async def test_state_changes_follow_the_transition_table(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    old: ReportState,
    new: ReportState,
) -> None:
    report = await make_report(session, world["program"], reporter=world["hacker"], state=old.value)
    original = await make_report(session, world["program"], reporter=world["hacker"])
    extra = {"original_report_id": original.id} if new is ReportState.DUPLICATE else {}
    response = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        json=state_body(new.value, **extra),
        auth=world["token"].auth,
    )
    await session.refresh(report)
    if new in TRANSITIONS[old]:
        assert response.status_code == 201, response.text
        assert response.json()["data"]["attributes"]["state"] == new.value
        assert report.state == new.value
    else:
        assert response.status_code == 400
        assert response.json()["errors"][0]["source"] == {"parameter": "state"}
        assert report.state == old.value
        assert await count(session, Activity) == 0


async def test_triage_close_and_reopen_record_activities_and_timestamps(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    report = await make_report(session, world["program"], reporter=world["hacker"])
    token = world["token"]
    url = f"/v1/reports/{report.id}/state_changes"

    triaged = (
        await client.post(url, json=state_body("triaged", "Confirmed"), auth=token.auth)
    ).json()["data"]
    assert triaged["attributes"]["triaged_at"] is not None
    assert triaged["attributes"]["first_program_activity_at"] is not None
    resolved = (await client.post(url, json=state_body("resolved", ""), auth=token.auth)).json()[
        "data"
    ]
    assert resolved["attributes"]["closed_at"] is not None
    assert resolved["attributes"]["main_state"] == "closed"
    reopened = (await client.post(url, json=state_body("new"), auth=token.auth)).json()["data"]
    assert reopened["attributes"]["closed_at"] is None

    activities = reopened["relationships"]["activities"]["data"]
    assert [a["type"] for a in activities] == [
        "activity-bug-reopened",
        "activity-bug-resolved",
        "activity-bug-triaged",
    ]
    assert activities[2]["attributes"]["message"] == "Confirmed"
    assert (
        activities[2]["relationships"]["actor"]["data"]["attributes"]["username"]
        == token.identifier
    )


@pytest.mark.parametrize("state", ["needs-more-info", "informative", "duplicate"])
async def test_some_states_require_a_message(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any], state: str
) -> None:
    report = await make_report(session, world["program"], reporter=world["hacker"])
    response = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        json=state_body(state, message="  "),
        auth=world["token"].auth,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "message"}


async def test_duplicate_takes_the_original_id_as_string_or_number(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    original = await make_report(session, world["program"], reporter=world["hacker"])
    report = await make_report(session, world["program"], reporter=world["hacker"])
    response = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        json=state_body("duplicate", "dup", original_report_id=str(original.id)),
        auth=world["token"].auth,
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["attributes"]["original_report_id"] == str(original.id)
    activity = data["relationships"]["activities"]["data"][0]
    assert activity["type"] == "activity-bug-duplicate"
    assert activity["attributes"]["original_report_id"] == original.id


async def test_duplicate_of_another_organizations_report_is_refused(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    foreign = await make_report(session, world["foreign"], reporter=world["hacker"])
    report = await make_report(session, world["program"], reporter=world["hacker"])
    response = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        json=state_body("duplicate", "dup", original_report_id=foreign.id),
        auth=world["token"].auth,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "original_report_id"}
    await session.refresh(report)
    assert report.state == "new"


async def test_state_change_on_unknown_or_foreign_report_is_invalid_report_id(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    foreign = await make_report(session, world["foreign"], reporter=world["hacker"])
    for rid in ("4040000000000000", str(foreign.id), "x1"):
        response = await client.post(
            f"/v1/reports/{rid}/state_changes", json=state_body("triaged"), auth=world["token"].auth
        )
        assert response.status_code == 400
        assert response.json() == {
            "errors": [
                {
                    "status": 400,
                    "title": "Invalid Parameter",
                    "detail": "The parameter 'report_id' is invalid.",
                    "source": {"parameter": "report_id"},
                }
            ]
        }
    await session.refresh(foreign)
    assert foreign.state == "new"


async def test_state_change_needs_report_management(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    group = await make_group(
        session, world["org"], permissions=["reward_management"], programs=[world["program"]]
    )
    token = await make_token(session, world["org"], groups=[group])
    report = await make_report(session, world["program"], reporter=world["hacker"])
    response = await client.post(
        f"/v1/reports/{report.id}/state_changes", json=state_body("triaged"), auth=token.auth
    )
    assert response.status_code == 403
    assert await count(session, Activity) == 0


# ---- POST /reports/{id}/activities ----


def comment_body(message: str = "hello", internal: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "activity-comment",
            "attributes": {"message": message, "internal": internal, **extra},
        }
    }


async def test_comments_are_recorded_and_shown_most_recent_first(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    report = await make_report(session, world["program"], reporter=world["hacker"])
    token = world["token"]
    first = await client.post(
        f"/v1/reports/{report.id}/activities", json=comment_body("internal note"), auth=token.auth
    )
    assert first.status_code == 201
    assert first.json()["data"]["type"] == "activity-comment"
    assert first.json()["data"]["attributes"]["internal"] is True
    second = await client.post(
        f"/v1/reports/{report.id}/activities",
        json=comment_body("public", internal=False),
        auth=token.auth,
    )
    assert second.status_code == 201

    document = (await client.get(f"/v1/reports/{report.id}", auth=token.auth)).json()["data"]
    messages = [a["attributes"]["message"] for a in document["relationships"]["activities"]["data"]]
    assert messages == ["public", "internal note"]
    assert (
        document["attributes"]["last_public_activity_at"]
        == second.json()["data"]["attributes"]["created_at"]
    )
    fetched = await client.get(f"/v1/activities/{first.json()['data']['id']}", auth=token.auth)
    assert fetched.json()["data"] == first.json()["data"]


async def test_public_comments_need_report_management_but_internal_ones_do_not(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    group = await make_group(
        session, world["org"], permissions=["reward_management"], programs=[world["program"]]
    )
    token = await make_token(session, world["org"], groups=[group])
    report = await make_report(session, world["program"], reporter=world["hacker"])
    public = await client.post(
        f"/v1/reports/{report.id}/activities", json=comment_body(internal=False), auth=token.auth
    )
    internal = await client.post(
        f"/v1/reports/{report.id}/activities", json=comment_body(internal=True), auth=token.auth
    )
    assert public.status_code == 403
    assert internal.status_code == 201
    assert await count(session, Activity) == 1


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"data": {"type": "activity-comment", "attributes": {"message": "x"}}}, "internal"),
        (
            {
                "data": {
                    "type": "activity-comment",
                    "attributes": {"message": "x", "internal": "yes"},
                }
            },
            "internal",
        ),
        ({"data": {"type": "activity-comment", "attributes": {"internal": True}}}, "message"),
        ({"data": {"type": "comment", "attributes": {"message": "x", "internal": True}}}, "type"),
        ({"data": {"attributes": {"message": "x", "internal": True}}}, "type"),
        ({"data": []}, "data"),
        (comment_body(attachment_ids=[123456]), "attachment_ids"),
        (comment_body(attachment_ids="1"), "attachment_ids"),
    ],
)
async def test_bad_comment_bodies_write_nothing(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    body: dict[str, Any],
    parameter: str,
) -> None:
    report = await make_report(session, world["program"], reporter=world["hacker"])
    response = await client.post(
        f"/v1/reports/{report.id}/activities", json=body, auth=world["token"].auth
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": parameter}
    assert await count(session, Activity) == 0
    await session.refresh(report)
    assert report.last_program_activity_at is None


async def test_a_comment_costs_six_statements(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    query_counter: QueryCounter,
) -> None:
    """The token; the report locked, with its to-ones, inboxes, the acting user (the answer
    renders them) and the program's active webhooks; the activity; the report's activity
    timestamps; the audit item; the data version (db/version.py)."""
    report = await make_report(session, world["program"], reporter=world["hacker"])
    token = world["token"]

    query_counter.count = 0
    response = await client.post(
        f"/v1/reports/{report.id}/activities",
        json={
            "data": {"type": "activity-comment", "attributes": {"message": "hi", "internal": True}}
        },
        auth=token.auth,
    )

    statements = query_counter.statements[-query_counter.count :]
    assert response.status_code == 201, response.text
    actor = response.json()["data"]["relationships"]["actor"]["data"]
    api_user = await session.scalar(
        select(ApiToken.user_id).where(ApiToken.identifier == token.identifier)
    )
    assert actor["id"] == str(api_user)
    assert len(statements) == 6, statements
    assert statements[-2].startswith(("INSERT INTO audit_log_items", "WITH appended_0 AS"))
    assert "audit_log_items" in statements[-2]
    assert statements[-1].startswith("UPDATE data_version")


async def test_a_comment_with_a_webhook_renders_its_payload_without_reading_the_report_again(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    query_counter: QueryCounter,
) -> None:
    """The outbox row's payload renders the report the write locked (the session keeps it), and
    it is the report as the comment left it."""
    report = await make_report(session, world["program"], reporter=world["hacker"])
    await make_webhook(session, world["program"], url="https://hooks.example.com/in")

    query_counter.count = 0
    response = await client.post(
        f"/v1/reports/{report.id}/activities",
        json={
            "data": {"type": "activity-comment", "attributes": {"message": "hi", "internal": True}}
        },
        auth=world["token"].auth,
    )

    assert response.status_code == 201, response.text
    report_reads = [
        s
        for s in query_counter.statements
        if s.lstrip().startswith("SELECT reports.") and "FROM reports" in s
    ]
    assert len(report_reads) == 1, report_reads  # the locked read
    # The comment was recorded here without attachments: neither the answer nor the payload
    # asks for them.
    assert not [s for s in query_counter.statements if s.startswith("SELECT attachments.")]
    body = await session.scalar(select(WebhookDelivery.body))
    assert body is not None
    payload = orjson.loads(body)["data"]
    assert payload["report"]["id"] == str(report.id)
    assert (
        payload["report"]["attributes"]["last_activity_at"]
        == (payload["activity"]["attributes"]["created_at"])
    )


async def test_a_state_change_with_a_webhook_reads_the_reports_children_once(
    session: AsyncSession,
    client: httpx.AsyncClient,
    world: dict[str, Any],
    query_counter: QueryCounter,
) -> None:
    """The answer and the webhook payload render the same report: which rare children it has
    and its inboxes come with the locked read, and its custom field values are read once."""
    report = await make_report(session, world["program"], reporter=world["hacker"], state="new")
    await make_webhook(session, world["program"], url="https://hooks.example.com/in")

    query_counter.count = 0
    response = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        json={"data": {"type": "state-change", "attributes": {"state": "triaged"}}},
        auth=world["token"].auth,
    )

    assert response.status_code == 201, response.text
    statements = query_counter.statements[-query_counter.count :]
    assert not [s for s in statements if s.startswith("SELECT report_inboxes.")], statements
    assert not [s for s in statements if "UNION ALL" in s], statements  # the rare-children probe
    # The token; the locked read; the activity with the report's changes; the report's
    # activities (the answer is the full document); the audit item and the delivery (one
    # statement on PostgreSQL, db/version.py); the data version.
    together = session.bind.dialect.name == "postgresql"
    assert len(statements) == (7 if together else 8), statements
    body = await session.scalar(select(WebhookDelivery.body))
    assert body is not None
    payload = orjson.loads(body)["data"]["report"]
    answer = response.json()["data"]
    for name in ("inboxes", "custom_field_values", "bounties"):
        assert payload["relationships"][name] == answer["relationships"][name]
