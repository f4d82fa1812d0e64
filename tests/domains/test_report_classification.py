"""The report classification and routing writes of catalogue §12: assignment, severity (with the
CVSS scores checked against published FIRST calculator values), weakness, asset, title,
vulnerability information, CVE ids, tags, custom field values, inboxes, issue-tracker references,
escalation and transfer.

For each operation: the answer, the database effect and the activity it records (as
GET /reports/{id} and the incremental feed show it); a token whose groups lack the permission (the
catalogue's "Perm → err" status, nothing written); bad input (400 naming the parameter, nothing
written); and an unknown, foreign or invisible report id (400 on report_id, nothing written).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.clock import Clock
from bountybox.db.models import (
    Activity,
    ApiToken,
    CustomFieldAttribute,
    CustomFieldValue,
    Group,
    Inbox,
    Organization,
    Program,
    ProgramIntegration,
    Report,
    Severity,
    User,
    report_inboxes,
)
from bountybox.domains.reports.repository import integration_gid
from tests.builders import (
    T0,
    Token,
    make_group,
    make_member,
    make_org,
    make_program,
    make_report,
    make_scope,
    make_token,
    make_user,
    make_weakness,
)
from tests.test_golden import Interaction, assert_same_shape, assert_wire_formats, cassette

Json = Any

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
NOW_WIRE = "2026-06-01T12:00:00.000Z"

INVALID_REPORT_ID = {
    "errors": [
        {
            "status": 400,
            "title": "Invalid Parameter",
            "detail": "The parameter 'report_id' is invalid.",
            "source": {"parameter": "report_id"},
        }
    ]
}
FORBIDDEN = {"errors": [{"status": 403}]}
NOT_FOUND = {"errors": [{"status": 404, "title": "Not Found"}]}


# ---- the world and extra builders ---------------------------------------------------------------


@dataclass
class World:
    org: Organization
    program: Program
    other_org: Organization
    foreign_program: Program
    hacker: User
    admin: Token
    admin_user_id: int
    # Sees acme through a group that only has reward_management.
    limited: Token
    report: Report
    foreign_report: Report


@pytest.fixture
async def world(session: AsyncSession, clock: Clock) -> World:
    """An organization with program `acme` and a report on it (with a low severity), a second
    organization with a report of its own, an org-admin token and a token without
    report_management. The clock stands still at NOW."""
    clock.freeze(NOW)
    org = await make_org(session)
    program = await make_program(session, org, handle="acme")
    other_org = await make_org(session)
    foreign_program = await make_program(session, other_org, handle="foreign")
    hacker = await make_user(session, username="reporter1")
    rewards = await make_group(
        session, org, name="Rewards", permissions=["reward_management"], programs=[program]
    )
    admin = await make_token(session, org, name="admin-token")
    limited = await make_token(session, org, groups=[rewards], name="limited-token")
    report = await make_report(session, program, reporter=hacker, rating="low", title="XSS")
    foreign_report = await make_report(session, foreign_program, reporter=hacker)
    return World(
        org=org,
        program=program,
        other_org=other_org,
        foreign_program=foreign_program,
        hacker=hacker,
        admin=admin,
        admin_user_id=await token_user_id(session, admin),
        limited=limited,
        report=report,
        foreign_report=foreign_report,
    )


async def token_user_id(session: AsyncSession, token: Token) -> int:
    user_id = await session.scalar(
        select(ApiToken.user_id).where(ApiToken.identifier == token.identifier)
    )
    await session.commit()
    assert user_id is not None
    return user_id


async def make_inbox(
    session: AsyncSession,
    org: Organization,
    *,
    name: str,
    type: str = "custom",
    program: Program | None = None,
) -> Inbox:
    inbox = Inbox(
        organization_id=org.id,
        program_id=program.id if program else None,
        name=name,
        type=type,
        created_at=T0,
        updated_at=T0,
    )
    session.add(inbox)
    await session.commit()
    return inbox


async def link_inboxes(session: AsyncSession, report: Report, *inboxes: Inbox) -> None:
    await session.execute(
        insert(report_inboxes), [{"report_id": report.id, "inbox_id": i.id} for i in inboxes]
    )
    await session.commit()


async def make_custom_field(
    session: AsyncSession,
    program: Program,
    *,
    label: str = "Ticket",
    field_type: str = "Text",
    internal: bool = True,
    configuration: str | None = None,
    regex: str | None = None,
    error_message: str | None = None,
    archived: bool = False,
) -> CustomFieldAttribute:
    field = CustomFieldAttribute(
        program_id=program.id,
        label=label,
        field_type=field_type,
        internal=internal,
        required=False,
        configuration=configuration,
        regex=regex,
        error_message=error_message,
        archived_at=T0 if archived else None,
        created_at=T0,
        updated_at=T0,
    )
    session.add(field)
    await session.commit()
    return field


async def make_integration(
    session: AsyncSession,
    program: Program,
    *,
    group_type: str = "issue_tracking",
    prefix: str | None = None,
    name: str = "Jira",
) -> ProgramIntegration:
    integration = ProgramIntegration(
        program_id=program.id,
        name=name,
        group_type=group_type,
        reference_url_prefix=prefix,
        created_at=T0,
        updated_at=T0,
    )
    session.add(integration)
    await session.commit()
    return integration


async def make_child_program(
    session: AsyncSession, org: Organization, parent: Program, *, handle: str
) -> Program:
    program = await make_program(session, org, handle=handle)
    program.parent_program_id = parent.id
    await session.commit()
    return program


async def update_report(session: AsyncSession, report: Report, **values: object) -> None:
    for name, value in values.items():
        setattr(report, name, value)
    await session.commit()


# ---- reading back -------------------------------------------------------------------------------


async def count(session: AsyncSession, model: type[Any], *conditions: Any) -> int:
    total = await session.scalar(select(func.count()).select_from(model).where(*conditions))
    await session.commit()
    return int(total or 0)


async def reload(session: AsyncSession, model: type[Any], id_: int) -> Any:
    """The row as the database has it now (not as this session last saw it)."""
    row = await session.scalar(
        select(model).where(model.id == id_).execution_options(populate_existing=True)
    )
    await session.commit()
    return row


async def activities_of(session: AsyncSession, report_id: int) -> list[Activity]:
    rows = list(
        await session.scalars(
            select(Activity)
            .where(Activity.report_id == report_id)
            .order_by(Activity.id)
            .execution_options(populate_existing=True)
        )
    )
    await session.commit()
    return rows


async def inbox_ids(session: AsyncSession, report_id: int) -> list[int]:
    ids = sorted(
        await session.scalars(
            select(report_inboxes.c.inbox_id).where(report_inboxes.c.report_id == report_id)
        )
    )
    await session.commit()
    return ids


async def snapshot(session: AsyncSession, report_id: int) -> dict[str, Any]:
    """Everything a write on the report could change, read fresh from the database."""
    row = (
        (await session.execute(select(Report.__table__).where(Report.id == report_id)))
        .mappings()
        .one()
    )
    values = [
        tuple(r)
        for r in await session.execute(
            select(CustomFieldValue.custom_field_attribute_id, CustomFieldValue.value)
            .where(CustomFieldValue.report_id == report_id)
            .order_by(CustomFieldValue.id)
        )
    ]
    await session.commit()
    return {
        "report": dict(row),
        "activities": await count(session, Activity, Activity.report_id == report_id),
        "severities": await count(session, Severity, Severity.report_id == report_id),
        "custom_field_values": values,
        "inboxes": await inbox_ids(session, report_id),
    }


async def everything(session: AsyncSession) -> dict[str, int]:
    return {
        "activities": await count(session, Activity),
        "severities": await count(session, Severity),
        "custom_field_values": await count(session, CustomFieldValue),
    }


# ---- requests and answers -----------------------------------------------------------------------


def doc(type_: str | None, **attributes: Any) -> Json:
    data: Json = {"attributes": attributes}
    if type_ is not None:
        data = {"type": type_, **data}
    return {"data": data}


async def send(
    client: httpx.AsyncClient, token: Token, method: str, path: str, payload: Json = None
) -> httpx.Response:
    return await client.request(method, path, json=payload, auth=token.auth)


def assert_invalid(
    response: httpx.Response, parameter: str, detail: str | None = None, *, case: object = ""
) -> None:
    """A 400 Invalid Parameter naming `parameter` (with the standard detail unless given)."""
    assert response.status_code == 400, f"{case}: {response.status_code} {response.text}"
    error = response.json()["errors"][0]
    assert (error["status"], error.get("title"), error.get("source"), error.get("detail")) == (
        400,
        "Invalid Parameter",
        {"parameter": parameter},
        detail or f"The parameter '{parameter}' is invalid.",
    ), case


async def shown(
    client: httpx.AsyncClient, token: Token, handle: str, report_id: int, activity_id: int
) -> Json:
    """The activity as GET /reports/{id} renders it, after checking that the incremental feed of
    `handle` carries exactly the same activity (plus report_id, as a string)."""
    report = await client.get(f"/v1/reports/{report_id}", auth=token.auth)
    assert report.status_code == 200, report.text
    listed = [
        a
        for a in report.json()["data"]["relationships"]["activities"]["data"]
        if a["id"] == str(activity_id)
    ]
    assert len(listed) == 1, f"activity {activity_id} is not in GET /reports/{report_id}"
    feed = await client.get(
        "/v1/incremental/activities",
        params={"handle": handle, "report_id": str(report_id), "page[size]": "100"},
        auth=token.auth,
    )
    assert feed.status_code == 200, feed.text
    fed = [a for a in feed.json()["data"] if a["id"] == str(activity_id)]
    assert len(fed) == 1, f"activity {activity_id} is not in the feed of {handle}"
    expected = {**listed[0], "attributes": {**listed[0]["attributes"], "report_id": str(report_id)}}
    assert fed[0] == expected
    return listed[0]


async def the_new_activity(
    session: AsyncSession, report_id: int, type_: str, *, before: int = 0
) -> Activity:
    """The one activity the operation added (the report had `before` activities)."""
    rows = await activities_of(session, report_id)
    assert [a.type for a in rows[before:]] == [type_]
    return rows[-1]


def exchange(name: str, path_end: str) -> Interaction:
    """The recorded request/response pair of cassette `name` whose URI ends with `path_end`."""
    return next(i for i in cassette(name) if i.uri.endswith(path_end))


def recorded_activity(recorded_report: Json, type_: str) -> Json:
    return next(
        a for a in recorded_report["relationships"]["activities"]["data"] if a["type"] == type_
    )


# ---- every operation: foreign or unknown reports, missing permission ---------------------------


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    payload: Json
    # The catalogue's "Perm -> err" status.
    denied: int


OPERATIONS = [
    Operation("assignee", "PUT", "assignee", {"data": {"type": "nobody"}}, 403),
    Operation("severities", "POST", "severities", doc("severity", rating="high"), 403),
    Operation("weakness", "PUT", "weakness", doc("report-weakness", weakness_id=1), 404),
    Operation(
        "structured_scope",
        "PUT",
        "structured_scope",
        doc("report-structured-scope", structured_scope_id=1),
        404,
    ),
    Operation("title", "PUT", "title", doc("report-title", title="Renamed"), 403),
    Operation(
        "vulnerability_information",
        "PUT",
        "vulnerability_information",
        doc("report-vulnerability-information", vulnerability_information="Steps"),
        403,
    ),
    Operation("cves", "PUT", "cves", doc("report-cves", cve_ids=["CVE-2024-1234"]), 404),
    Operation("report_tags", "PUT", "report_tags", doc("report-tags", report_tags=["xss"]), 403),
    Operation(
        "custom_field_values",
        "POST",
        "custom_field_values",
        doc("custom-field-value", custom_field_attribute_id=1, value="x"),
        403,
    ),
    Operation("inboxes", "POST", "inboxes", {"data": {"organization_inbox_ids": []}}, 404),
    Operation(
        "issue_tracker_reference_id",
        "POST",
        "issue_tracker_reference_id",
        doc("issue-tracker-reference-id", reference="JIRA-1"),
        403,
    ),
    Operation("escalate", "POST", "escalate", doc(None, integration_id="1"), 403),
    Operation("de-escalate", "DELETE", "escalate", None, 403),
    Operation("transfer", "PUT", "transfer", doc("report-transfer", target_team_id=1), 403),
]


@pytest.mark.parametrize(
    "which", ["unknown", "other organization's", "invisible to the token", "not a number"]
)
async def test_every_operation_on_a_report_the_token_cannot_see_is_an_invalid_report_id(
    session: AsyncSession, client: httpx.AsyncClient, world: World, which: str
) -> None:
    hidden_program = await make_program(session, world.org, handle="hidden")
    hidden = await make_report(session, hidden_program, reporter=world.hacker)
    token = world.admin
    if which == "invisible to the token":
        acme_only = await make_group(
            session,
            world.org,
            name="Acme RM",
            permissions=["report_management", "program_management"],
            programs=[world.program],
        )
        token = await make_token(session, world.org, groups=[acme_only])
        report_id = str(hidden.id)
    elif which == "other organization's":
        report_id = str(world.foreign_report.id)
    elif which == "unknown":
        report_id = "4040000000000000"
    else:
        report_id = "abc"
    before = await everything(session)
    foreign_before = await snapshot(session, world.foreign_report.id)
    hidden_before = await snapshot(session, hidden.id)

    for operation in OPERATIONS:
        response = await send(
            client,
            token,
            operation.method,
            f"/v1/reports/{report_id}/{operation.path}",
            operation.payload,
        )

        assert response.status_code == 400, f"{operation.name}: {response.text}"
        assert response.json() == INVALID_REPORT_ID, operation.name
        assert await everything(session) == before, operation.name
    assert await snapshot(session, world.foreign_report.id) == foreign_before
    assert await snapshot(session, hidden.id) == hidden_before


async def test_every_operation_without_the_permission_gets_the_catalogue_status(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    before = await snapshot(session, world.report.id)

    for operation in OPERATIONS:
        response = await send(
            client,
            world.limited,
            operation.method,
            f"/v1/reports/{world.report.id}/{operation.path}",
            operation.payload,
        )

        assert response.status_code == operation.denied, f"{operation.name}: {response.text}"
        expected = FORBIDDEN if operation.denied == 403 else NOT_FOUND
        assert response.json() == expected, operation.name
        assert await snapshot(session, world.report.id) == before, operation.name


async def test_assigning_without_report_management_answers_the_recorded_403(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    before = await snapshot(session, world.report.id)
    for name in ("assign_report_to_user", "assign_report_to_group", "assign_report_to_nobody"):
        recorded = exchange(f"{name}_no_permission", "/assignee")
        sent = json.loads(recorded.request_body)
        if "id" in sent["data"]:
            sent["data"]["id"] = str(world.admin_user_id)

        response = await send(
            client, world.limited, "PUT", f"/v1/reports/{world.report.id}/assignee", sent
        )

        assert response.status_code == recorded.status == 403, name
        assert response.json() == recorded.body, name
    assert await snapshot(session, world.report.id) == before


# ---- PUT /reports/{id}/assignee -----------------------------------------------------------------


@dataclass
class Staff:
    alice: User  # in a report_management group covering acme
    boss: User  # organization admin, in no group
    carol: User  # in a group covering another program of the organization only
    mallory: User  # a member of the other organization
    triage: Group  # covers acme
    labs: Group  # the organization's, covers the other program only
    foreign_group: Group


@pytest.fixture
async def staff(session: AsyncSession, world: World) -> Staff:
    alice = await make_member(session, world.org, username="alice")
    boss = await make_member(session, world.org, username="boss", admin=True)
    carol = await make_member(session, world.org, username="carol")
    mallory = await make_member(session, world.other_org, username="mallory")
    labs_program = await make_program(session, world.org, handle="acme-labs")
    triage = await make_group(
        session,
        world.org,
        name="Triage",
        permissions=["report_management"],
        programs=[world.program],
        users=[alice],
    )
    labs = await make_group(
        session,
        world.org,
        name="Labs",
        permissions=["report_management"],
        programs=[labs_program],
        users=[carol],
    )
    foreign_group = await make_group(
        session,
        world.other_org,
        name="Foreign triage",
        permissions=["report_management"],
        programs=[world.foreign_program],
        users=[mallory],
    )
    return Staff(alice, boss, carol, mallory, triage, labs, foreign_group)


async def test_assigning_a_user_answers_the_report_and_records_an_internal_activity_as_recorded(
    session: AsyncSession, client: httpx.AsyncClient, world: World, staff: Staff
) -> None:
    report = world.report
    weakness = await make_weakness(session, world.program)
    await update_report(session, report, weakness_id=weakness.id, assignee_group_id=staff.triage.id)
    recorded = exchange("assign_report_to_user", "/assignee")
    assert json.loads(recorded.request_body) == {"data": {"type": "user", "id": "147515"}}

    response = await send(
        client,
        world.admin,
        "PUT",
        f"/v1/reports/{report.id}/assignee",
        {"data": {"type": "user", "id": str(staff.alice.id)}},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert_same_shape(body, recorded.body)
    assert_wire_formats(body)
    assignee = body["data"]["relationships"]["assignee"]["data"]
    assert (assignee["type"], assignee["id"]) == ("user", str(staff.alice.id))
    assert assignee["attributes"]["username"] == "alice"
    stored = await reload(session, Report, report.id)
    assert (stored.assignee_user_id, stored.assignee_group_id) == (staff.alice.id, None)
    assert stored.last_activity_at == NOW

    row = await the_new_activity(session, report.id, "activity-user-assigned-to-bug")
    assert row.actor_user_id == world.admin_user_id
    activity = await shown(client, world.admin, "acme", report.id, row.id)
    assert body["data"]["relationships"]["activities"]["data"][0] == activity
    expected = recorded_activity(recorded.body["data"], "activity-user-assigned-to-bug")
    assert_same_shape(activity, expected)
    assert set(activity["relationships"]) == set(expected["relationships"])
    assert activity["attributes"]["message"] is None
    assert activity["attributes"]["internal"] is True
    assert activity["attributes"]["created_at"] == NOW_WIRE
    assert activity["relationships"]["assigned_user"]["data"]["id"] == str(staff.alice.id)
    assert activity["relationships"]["actor"]["data"]["id"] == str(world.admin_user_id)


async def test_an_organization_admin_can_be_assigned_with_a_numeric_id_and_a_message(
    session: AsyncSession, client: httpx.AsyncClient, world: World, staff: Staff
) -> None:
    response = await send(
        client,
        world.admin,
        "PUT",
        f"/v1/reports/{world.report.id}/assignee",
        {"data": {"type": "user", "id": staff.boss.id, "attributes": {"message": "Yours"}}},
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["relationships"]["assignee"]["data"]["id"] == str(staff.boss.id)
    assert (await reload(session, Report, world.report.id)).assignee_user_id == staff.boss.id
    row = await the_new_activity(session, world.report.id, "activity-user-assigned-to-bug")
    activity = await shown(client, world.admin, "acme", world.report.id, row.id)
    assert activity["attributes"]["message"] == "Yours"
    assert activity["attributes"]["internal"] is True


async def test_assigning_a_group_replaces_the_user_and_records_the_group_as_recorded(
    session: AsyncSession, client: httpx.AsyncClient, world: World, staff: Staff
) -> None:
    report = world.report
    await update_report(session, report, assignee_user_id=staff.alice.id)
    recorded = exchange("assign_report_to_group", "/assignee")
    assert json.loads(recorded.request_body) == {"data": {"type": "group", "id": "23578"}}

    response = await send(
        client,
        world.admin,
        "PUT",
        f"/v1/reports/{report.id}/assignee",
        {"data": {"type": "group", "id": str(staff.triage.id)}},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert_same_shape(body, recorded.body, ignore=["$.data.relationships.weakness"])
    assert_wire_formats(body)
    assignee = body["data"]["relationships"]["assignee"]["data"]
    assert assignee == {
        "id": str(staff.triage.id),
        "type": "group",
        "attributes": {
            "name": "Triage",
            "created_at": "2026-01-01T12:00:00.000Z",
            "permissions": ["report_management"],
        },
    }
    stored = await reload(session, Report, report.id)
    assert (stored.assignee_user_id, stored.assignee_group_id) == (None, staff.triage.id)

    row = await the_new_activity(session, report.id, "activity-group-assigned-to-bug")
    activity = await shown(client, world.admin, "acme", report.id, row.id)
    expected = recorded_activity(recorded.body["data"], "activity-group-assigned-to-bug")
    assert_same_shape(activity, expected)
    assert set(activity["relationships"]) == set(expected["relationships"])
    assert activity["relationships"]["group"]["data"] == assignee
    assert activity["attributes"]["message"] is None
    assert activity["attributes"]["internal"] is True


async def test_assigning_nobody_clears_the_assignee_and_records_it_as_recorded(
    session: AsyncSession, client: httpx.AsyncClient, world: World, staff: Staff
) -> None:
    report = world.report
    await update_report(session, report, assignee_user_id=staff.alice.id)
    recorded = exchange("assign_report_to_nobody", "/assignee")
    sent = json.loads(recorded.request_body)
    assert sent == {"data": {"type": "nobody"}}

    response = await send(client, world.admin, "PUT", f"/v1/reports/{report.id}/assignee", sent)

    assert response.status_code == 200, response.text
    body = response.json()
    assert_same_shape(body, recorded.body, ignore=["$.data.relationships.weakness"])
    assert "assignee" not in body["data"]["relationships"]
    assert "assignee" not in recorded.body["data"]["relationships"]
    stored = await reload(session, Report, report.id)
    assert (stored.assignee_user_id, stored.assignee_group_id) == (None, None)

    row = await the_new_activity(session, report.id, "activity-nobody-assigned-to-bug")
    activity = await shown(client, world.admin, "acme", report.id, row.id)
    expected = recorded_activity(recorded.body["data"], "activity-nobody-assigned-to-bug")
    assert_same_shape(activity, expected)
    assert set(activity["relationships"]) == set(expected["relationships"]) == {"actor"}
    assert activity["attributes"]["message"] is None
    assert activity["attributes"]["internal"] is True


async def test_assigning_a_user_who_cannot_work_on_the_program_is_refused_on_id(
    session: AsyncSession, client: httpx.AsyncClient, world: World, staff: Staff
) -> None:
    cases: dict[str, Json] = {
        "a hacker": {"type": "user", "id": world.hacker.id},
        "an API user": {"type": "user", "id": world.admin_user_id},
        "another organization's member": {"type": "user", "id": str(staff.mallory.id)},
        "a member who cannot see the program": {"type": "user", "id": str(staff.carol.id)},
        "an unknown user": {"type": "user", "id": "999999"},
        "a username": {"type": "user", "id": "alice"},
        "a negative id": {"type": "user", "id": -1},
        "no id at all": {"type": "user"},
        "a group not covering the program": {"type": "group", "id": str(staff.labs.id)},
        "another organization's group": {"type": "group", "id": str(staff.foreign_group.id)},
        "an unknown group": {"type": "group", "id": "999999"},
        "a group without id": {"type": "group"},
    }
    before = await snapshot(session, world.report.id)

    for case, data in cases.items():
        response = await send(
            client, world.admin, "PUT", f"/v1/reports/{world.report.id}/assignee", {"data": data}
        )

        assert_invalid(response, "id", case=case)
    assert await snapshot(session, world.report.id) == before


async def test_an_unknown_assignee_type_is_refused_on_type(
    session: AsyncSession, client: httpx.AsyncClient, world: World, staff: Staff
) -> None:
    before = await snapshot(session, world.report.id)

    response = await send(
        client,
        world.admin,
        "PUT",
        f"/v1/reports/{world.report.id}/assignee",
        {"data": {"type": "team", "id": str(staff.alice.id)}},
    )

    assert_invalid(response, "type")
    assert await snapshot(session, world.report.id) == before


# ---- POST /reports/{id}/severities ---------------------------------------------------------------

CVSS31_METRICS = {
    "attack_vector": "network",
    "attack_complexity": "low",
    "privileges_required": "none",
    "user_interaction": "none",
    "scope": "unchanged",
    "confidentiality": "high",
    "integrity": "high",
    "availability": "high",
}
CVSS40_METRICS = {
    "attack_vector": "network",
    "attack_complexity": "low",
    "attack_requirements": "none",
    "privileges_required": "none",
    "user_interaction": "none",
    "vulnerable_confidentiality": "high",
    "vulnerable_integrity": "high",
    "vulnerable_availability": "high",
    "subsequent_confidentiality": "none",
    "subsequent_integrity": "none",
    "subsequent_availability": "none",
}


async def post_severity(
    client: httpx.AsyncClient, world: World, **attributes: Any
) -> httpx.Response:
    return await send(
        client,
        world.admin,
        "POST",
        f"/v1/reports/{world.report.id}/severities",
        doc("severity", **attributes),
    )


async def test_a_bare_rating_answers_like_the_recording_and_records_old_and_new_severities(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    report = world.report
    old_severity_id = report.severity_id
    recorded = exchange("update_severity", "/severities")
    sent = json.loads(recorded.request_body)
    assert sent == {"data": {"type": "severity", "attributes": {"rating": "high"}}}

    response = await send(client, world.admin, "POST", f"/v1/reports/{report.id}/severities", sent)

    assert response.status_code == recorded.status == 200, response.text
    body = response.json()
    assert_same_shape(body, recorded.body)
    assert_wire_formats(body)
    severity = body["data"]
    assert severity["type"] == "severity"
    assert severity["attributes"] == {
        "rating": "high",
        "author_type": "Team",
        "user_id": world.admin_user_id,
        "created_at": NOW_WIRE,
    }
    assert set(severity["attributes"]) == set(recorded.body["data"]["attributes"])
    stored = await reload(session, Report, report.id)
    assert stored.severity_id == int(severity["id"]) != old_severity_id
    row = await reload(session, Severity, int(severity["id"]))
    assert (row.rating, row.calculation_method, row.score, row.author_type) == (
        "high",
        "manual",
        None,
        "Team",
    )
    assert await count(session, Severity, Severity.report_id == report.id) == 2

    activity_row = await the_new_activity(session, report.id, "activity-report-severity-updated")
    activity = await shown(client, world.admin, "acme", report.id, activity_row.id)
    assert activity["attributes"]["internal"] is False
    assert activity["attributes"]["message"] == ""
    assert set(activity["relationships"]) == {"actor", "old_severity", "new_severity"}
    old = activity["relationships"]["old_severity"]["data"]
    new = activity["relationships"]["new_severity"]["data"]
    assert (old["id"], old["attributes"]["rating"]) == (str(old_severity_id), "low")
    assert new == severity
    shown_report = (await client.get(f"/v1/reports/{report.id}", auth=world.admin.auth)).json()
    assert shown_report["data"]["relationships"]["severity"]["data"] == severity
    # The list's severity filter follows the current severity (kept on the report).
    assert stored.severity_rating == "high"
    for rating, expected in (("high", [str(report.id)]), ("low", [])):
        listed = await client.get(
            "/v1/reports",
            params={"filter[program][]": "acme", "filter[severity][]": rating},
            auth=world.admin.auth,
        )
        assert [r["id"] for r in listed.json()["data"]] == expected


async def test_every_severity_call_makes_a_new_record_chained_by_its_activity(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    await update_report(session, world.report, severity_id=None)

    first = await post_severity(client, world, rating="medium", message="First look")
    second = await post_severity(client, world, rating="critical")

    assert first.status_code == second.status_code == 200
    first_id, second_id = first.json()["data"]["id"], second.json()["data"]["id"]
    assert first_id != second_id
    assert await count(session, Severity, Severity.report_id == world.report.id) == 3
    assert (await reload(session, Report, world.report.id)).severity_id == int(second_id)
    assert (await reload(session, Severity, int(first_id))).message == "First look"
    rows = await activities_of(session, world.report.id)
    assert [a.type for a in rows] == ["activity-report-severity-updated"] * 2
    earlier = await shown(client, world.admin, "acme", world.report.id, rows[0].id)
    later = await shown(client, world.admin, "acme", world.report.id, rows[1].id)
    assert "old_severity" not in earlier["relationships"]
    assert earlier["attributes"]["message"] == "First look"
    assert earlier["relationships"]["new_severity"]["data"]["id"] == first_id
    assert later["relationships"]["old_severity"]["data"]["id"] == first_id
    assert later["relationships"]["new_severity"]["data"]["id"] == second_id


async def test_cvss_3_1_metrics_infer_the_method_and_answer_the_score_vector_and_metrics(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    response = await post_severity(client, world, **CVSS31_METRICS)

    assert response.status_code == 200, response.text
    severity = response.json()["data"]
    assert severity["attributes"] == {
        "rating": "critical",
        "author_type": "Team",
        "user_id": world.admin_user_id,
        "created_at": NOW_WIRE,
        "score": 9.8,
        **CVSS31_METRICS,
        "calculation_method": "cvss_3_1",
        "cvss_vector_string": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    }
    row = await reload(session, Severity, int(severity["id"]))
    assert (row.calculation_method, row.score, row.metrics) == ("cvss_3_1", 9.8, CVSS31_METRICS)
    activity_row = await the_new_activity(
        session, world.report.id, "activity-report-severity-updated"
    )
    activity = await shown(client, world.admin, "acme", world.report.id, activity_row.id)
    assert activity["relationships"]["new_severity"]["data"] == severity


async def test_cvss_4_0_metrics_infer_the_method_and_answer_the_metric_set(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    response = await post_severity(client, world, **CVSS40_METRICS)

    assert response.status_code == 200, response.text
    severity = response.json()["data"]
    assert severity["attributes"] == {
        "rating": "critical",
        "author_type": "Team",
        "user_id": world.admin_user_id,
        "created_at": NOW_WIRE,
        "score": 9.3,
        "cvss_4_0_metric_set": CVSS40_METRICS,
        "calculation_method": "cvss_4_0",
        "cvss_vector_string": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    }
    row = await reload(session, Severity, int(severity["id"]))
    assert (row.calculation_method, row.metrics) == ("cvss_4_0", CVSS40_METRICS)
    activity_row = await the_new_activity(
        session, world.report.id, "activity-report-severity-updated"
    )
    activity = await shown(client, world.admin, "acme", world.report.id, activity_row.id)
    assert activity["relationships"]["new_severity"]["data"] == severity


async def test_an_explicit_calculation_method_is_used_and_echoed(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    cases = [
        ("cvss_3_1", CVSS31_METRICS, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("cvss_3_0_hackerone", CVSS31_METRICS, "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        (
            "cvss_4_0",
            CVSS40_METRICS,
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            9.3,
        ),
    ]
    for method, metrics, vector, score in cases:
        response = await post_severity(client, world, calculation_method=method, **metrics)

        assert response.status_code == 200, response.text
        attributes = response.json()["data"]["attributes"]
        assert (
            attributes["calculation_method"],
            attributes["cvss_vector_string"],
            attributes["score"],
        ) == (method, vector, score)
        row = await reload(session, Severity, int(response.json()["data"]["id"]))
        assert (row.calculation_method, row.cvss_vector_string) == (method, vector)
        assert (await reload(session, Report, world.report.id)).severity_id == row.id


async def test_an_explicit_manual_method_uses_the_rating_and_ignores_metrics(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    response = await post_severity(
        client, world, calculation_method="manual", rating="medium", **CVSS31_METRICS
    )

    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert attributes == {
        "rating": "medium",
        "author_type": "Team",
        "user_id": world.admin_user_id,
        "created_at": NOW_WIRE,
    }
    row = await reload(session, Severity, int(response.json()["data"]["id"]))
    assert (row.calculation_method, row.metrics, row.cvss_vector_string) == ("manual", {}, None)


async def test_a_rating_sent_with_metrics_is_replaced_by_the_computed_one(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await post_severity(client, world, rating="low", **CVSS31_METRICS)

    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["rating"] == "critical"


async def test_cvss_4_0_accepts_required_as_active_user_interaction(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await post_severity(
        client, world, **{**CVSS40_METRICS, "user_interaction": "required"}
    )

    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert "/UI:A/" in attributes["cvss_vector_string"]


BAD_SEVERITIES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown rating", {"rating": "urgent"}, "rating"),
    ("nothing", {}, "rating"),
    ("only a message", {"message": "no rating"}, "rating"),
    ("manual without rating", {"calculation_method": "manual", **CVSS31_METRICS}, "rating"),
    ("unknown method", {"calculation_method": "cvss_2_0", "rating": "low"}, "calculation_method"),
    ("unknown attack vector", {**CVSS31_METRICS, "attack_vector": "internet"}, "attack_vector"),
    ("unknown scope", {**CVSS31_METRICS, "scope": "changed-ish"}, "scope"),
    (
        "a 4.0 user interaction under 3.1",
        {**CVSS31_METRICS, "user_interaction": "passive"},
        "user_interaction",
    ),
    (
        "unknown 4.0 impact",
        {**CVSS40_METRICS, "vulnerable_integrity": "critical"},
        "vulnerable_integrity",
    ),
    ("a null metric", {**CVSS31_METRICS, "availability": None}, "availability"),
    (
        "a missing 3.1 metric",
        {k: v for k, v in CVSS31_METRICS.items() if k != "integrity"},
        "integrity",
    ),
    (
        "a missing 4.0 metric",
        {k: v for k, v in CVSS40_METRICS.items() if k != "subsequent_availability"},
        "subsequent_availability",
    ),
    (
        "3.1 metrics for a 4.0 method",
        {"calculation_method": "cvss_4_0", **CVSS31_METRICS},
        "attack_requirements",
    ),
    (
        "a rating for a CVSS method",
        {"calculation_method": "cvss_3_1", "rating": "high"},
        "attack_vector",
    ),
]


async def test_bad_severities_are_refused_naming_the_parameter_and_nothing_is_written(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    before = await snapshot(session, world.report.id)

    for case, attributes, parameter in BAD_SEVERITIES:
        response = await post_severity(client, world, **attributes)

        assert_invalid(response, parameter, case=case)
    assert await snapshot(session, world.report.id) == before


# CVSS scores as published by FIRST. The 3.1 values are the specification's worked examples and
# well-known CVE scores; the 4.0 values are from FIRST's calculator test suite and the
# specification's examples (CVE-2022-41741: 8.5). Vectors are in canonical metric order.
CVSS31_VECTORS = [
    ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"),
    ("AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "critical"),
    ("AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, "critical"),
    ("AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "medium"),
    ("AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4, "medium"),
    ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, "high"),
    ("AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8, "high"),
    ("AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8, "high"),
    ("AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "high"),
    ("AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1, "high"),
    ("AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2, "high"),
    ("AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, "medium"),
    ("AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3, "medium"),
    ("AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:N", 6.5, "medium"),
    ("AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5, "medium"),
    ("AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8, "medium"),
    ("AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "none"),
]
CVSS40_VECTORS = [
    ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "critical"),
    ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0, "critical"),
    ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:H/SI:H/SA:L", 9.9, "critical"),
    ("AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.5, "high"),
    ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N", 8.7, "high"),
    ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:L/VA:N/SC:N/SI:N/SA:N", 8.8, "high"),
    ("AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:L/VA:L/SC:L/SI:L/SA:L", 7.2, "high"),
    ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9, "medium"),
    ("AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:L/SC:H/SI:L/SA:L", 6.4, "medium"),
    ("AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", 5.3, "medium"),
    ("AV:N/AC:L/AT:N/PR:N/UI:P/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 5.3, "medium"),
    ("AV:A/AC:H/AT:N/PR:L/UI:P/VC:L/VI:H/VA:L/SC:N/SI:N/SA:N", 4.4, "medium"),
    ("AV:L/AC:H/AT:P/PR:H/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", 1.0, "low"),
    ("AV:P/AC:H/AT:P/PR:H/UI:A/VC:N/VI:N/VA:L/SC:N/SI:N/SA:N", 1.0, "low"),
    ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0, "none"),
]

IMPACT = {"N": "none", "L": "low", "H": "high"}
VECTOR_METRICS: dict[str, tuple[str, dict[str, str]]] = {
    "AV": ("attack_vector", {"N": "network", "A": "adjacent", "L": "local", "P": "physical"}),
    "AC": ("attack_complexity", {"L": "low", "H": "high"}),
    "AT": ("attack_requirements", {"N": "none", "P": "present"}),
    "PR": ("privileges_required", {"N": "none", "L": "low", "H": "high"}),
    "S": ("scope", {"U": "unchanged", "C": "changed"}),
    "C": ("confidentiality", IMPACT),
    "I": ("integrity", IMPACT),
    "A": ("availability", IMPACT),
    "VC": ("vulnerable_confidentiality", IMPACT),
    "VI": ("vulnerable_integrity", IMPACT),
    "VA": ("vulnerable_availability", IMPACT),
    "SC": ("subsequent_confidentiality", IMPACT),
    "SI": ("subsequent_integrity", IMPACT),
    "SA": ("subsequent_availability", IMPACT),
}
USER_INTERACTION = {
    "3.1": {"N": "none", "R": "required"},
    "4.0": {"N": "none", "P": "passive", "A": "active"},
}


def metrics_of(version: str, vector: str) -> dict[str, str]:
    """The API attributes spelling a CVSS vector (the inverse of what the server computes)."""
    metrics = {}
    for part in vector.split("/"):
        key, value = part.split(":")
        if key == "UI":
            metrics["user_interaction"] = USER_INTERACTION[version][value]
        else:
            name, values = VECTOR_METRICS[key]
            metrics[name] = values[value]
    return metrics


@pytest.mark.parametrize(
    ("version", "vectors"), [("3.1", CVSS31_VECTORS), ("4.0", CVSS40_VECTORS)], ids=["3.1", "4.0"]
)
async def test_cvss_metrics_score_as_the_first_calculator_publishes(
    client: httpx.AsyncClient,
    world: World,
    version: str,
    vectors: list[tuple[str, float, str]],
) -> None:
    method = {"3.1": "cvss_3_1", "4.0": "cvss_4_0"}[version]
    wrong = []

    for vector, score, rating in vectors:
        response = await post_severity(
            client, world, calculation_method=method, **metrics_of(version, vector)
        )

        assert response.status_code == 200, f"{vector}: {response.text}"
        attributes = response.json()["data"]["attributes"]
        expected = (score, rating, f"CVSS:{version}/{vector}")
        got = (attributes["score"], attributes["rating"], attributes["cvss_vector_string"])
        if got != expected:
            wrong.append(f"{vector}: expected {expected}, got {got}")

    assert wrong == []


# ---- PUT /reports/{id}/weakness ----------------------------------------------------------------


async def put_weakness(
    client: httpx.AsyncClient, world: World, weakness_id: object
) -> httpx.Response:
    return await send(
        client,
        world.admin,
        "PUT",
        f"/v1/reports/{world.report.id}/weakness",
        doc("report-weakness", weakness_id=weakness_id),
    )


async def test_changing_the_weakness_records_the_old_and_new_weakness(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    first = await make_weakness(session, world.program)
    second = await make_weakness(session, world.program)

    set_first = await put_weakness(client, world, first.id)
    changed = await put_weakness(client, world, second.id)

    assert set_first.status_code == changed.status_code == 200, changed.text
    weakness = changed.json()["data"]["relationships"]["weakness"]["data"]
    assert weakness == {
        "id": str(second.id),
        "type": "weakness",
        "attributes": {
            "name": second.name,
            "description": "desc",
            "external_id": second.external_id,
            "created_at": "2026-01-01T12:00:00.000Z",
        },
    }
    assert (await reload(session, Report, world.report.id)).weakness_id == second.id
    rows = await activities_of(session, world.report.id)
    assert [a.type for a in rows] == ["activity-report-vulnerability-types-updated"] * 2
    initial = await shown(client, world.admin, "acme", world.report.id, rows[0].id)
    assert set(initial["relationships"]) == {"actor", "new_weakness"}
    activity = await shown(client, world.admin, "acme", world.report.id, rows[1].id)
    assert set(activity["relationships"]) == {"actor", "old_weakness", "new_weakness"}
    assert activity["relationships"]["old_weakness"]["data"]["id"] == str(first.id)
    assert activity["relationships"]["new_weakness"]["data"] == weakness
    assert activity["attributes"]["internal"] is False
    assert activity["attributes"]["message"] == ""


async def test_a_weakness_outside_the_program_is_refused_and_nothing_is_written(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    cases: dict[str, object] = {
        "not enabled for the program": (await make_weakness(session)).id,
        "another program's": (await make_weakness(session, world.foreign_program)).id,
        "unknown": 999999,
        "not a number": "xss",
        "null": None,
    }
    before = await snapshot(session, world.report.id)

    for case, weakness_id in cases.items():
        response = await put_weakness(client, world, weakness_id)

        assert_invalid(response, "weakness_id", case=case)
    assert await snapshot(session, world.report.id) == before


# ---- PUT /reports/{id}/structured_scope --------------------------------------------------------


async def put_scope(client: httpx.AsyncClient, world: World, scope_id: object) -> httpx.Response:
    return await send(
        client,
        world.admin,
        "PUT",
        f"/v1/reports/{world.report.id}/structured_scope",
        doc("report-structured-scope", structured_scope_id=scope_id),
    )


async def test_changing_the_asset_records_the_old_and_new_scope(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    old = await make_scope(session, world.program, identifier="old.acme.test")
    new = await make_scope(session, world.program, identifier="new.acme.test")
    await update_report(session, world.report, structured_scope_id=old.id)

    response = await put_scope(client, world, new.id)

    assert response.status_code == 200, response.text
    scope = response.json()["data"]["relationships"]["structured_scope"]["data"]
    assert (scope["id"], scope["type"]) == (str(new.id), "structured-scope")
    assert scope["attributes"]["asset_identifier"] == "new.acme.test"
    assert (await reload(session, Report, world.report.id)).structured_scope_id == new.id
    row = await the_new_activity(session, world.report.id, "activity-changed-scope")
    activity = await shown(client, world.admin, "acme", world.report.id, row.id)
    assert set(activity["relationships"]) == {"actor", "old_scope", "new_scope"}
    old_scope = activity["relationships"]["old_scope"]["data"]
    assert (old_scope["id"], old_scope["type"]) == (str(old.id), "structured-scope")
    assert activity["relationships"]["new_scope"]["data"] == scope
    assert activity["attributes"]["internal"] is False


async def test_an_asset_outside_the_program_or_archived_is_refused_and_nothing_is_written(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    archived = await make_scope(session, world.program)
    archived.archived_at = T0
    await session.commit()
    cases: dict[str, Json] = {
        "archived": doc(None, structured_scope_id=archived.id),
        "another program's": doc(
            None, structured_scope_id=(await make_scope(session, world.foreign_program)).id
        ),
        "unknown": doc(None, structured_scope_id=999999),
        "missing": doc("report-structured-scope"),
    }
    before = await snapshot(session, world.report.id)

    for case, payload in cases.items():
        response = await send(
            client, world.admin, "PUT", f"/v1/reports/{world.report.id}/structured_scope", payload
        )

        assert_invalid(response, "structured_scope_id", case=case)
    assert await snapshot(session, world.report.id) == before


# ---- PUT /reports/{id}/title -------------------------------------------------------------------


async def test_renaming_records_the_old_and_new_title(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    response = await send(
        client,
        world.admin,
        "PUT",
        f"/v1/reports/{world.report.id}/title",
        doc("report-title", title="  Stored XSS in the profile page  "),
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["title"] == "Stored XSS in the profile page"
    assert (await reload(session, Report, world.report.id)).title == (
        "Stored XSS in the profile page"
    )
    row = await the_new_activity(session, world.report.id, "activity-report-title-updated")
    activity = await shown(client, world.admin, "acme", world.report.id, row.id)
    assert activity["attributes"]["old_title"] == "XSS"
    assert activity["attributes"]["new_title"] == "Stored XSS in the profile page"
    assert activity["attributes"]["internal"] is False
    assert set(activity["relationships"]) == {"actor"}


async def test_program_management_alone_may_rename(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    managers = await make_group(
        session,
        world.org,
        name="Program managers",
        permissions=["program_management"],
        programs=[world.program],
    )
    token = await make_token(session, world.org, groups=[managers])

    response = await send(
        client,
        token,
        "PUT",
        f"/v1/reports/{world.report.id}/title",
        doc("report-title", title="Renamed"),
    )

    assert response.status_code == 200, response.text
    assert (await reload(session, Report, world.report.id)).title == "Renamed"
    await the_new_activity(session, world.report.id, "activity-report-title-updated")


async def test_a_bad_title_is_refused_and_nothing_is_written(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    before = await snapshot(session, world.report.id)

    for title in ["", "   ", "x" * 501, None, 42]:
        response = await send(
            client,
            world.admin,
            "PUT",
            f"/v1/reports/{world.report.id}/title",
            doc("report-title", title=title),
        )

        assert_invalid(response, "title", case=repr(title)[:20])
    assert await snapshot(session, world.report.id) == before


# ---- PUT /reports/{id}/vulnerability_information (bountybox extension) -------------------------


async def test_rewriting_the_vulnerability_information_records_an_activity(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    managers = await make_group(
        session,
        world.org,
        name="Program managers",
        permissions=["program_management"],
        programs=[world.program],
    )
    token = await make_token(session, world.org, groups=[managers])

    response = await send(
        client,
        token,
        "PUT",
        f"/v1/reports/{world.report.id}/vulnerability_information",
        doc("report-vulnerability-information", vulnerability_information="**Steps**: open it"),
    )

    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert attributes["vulnerability_information"] == "**Steps**: open it"
    assert "<strong>Steps</strong>" in attributes["vulnerability_information_html"]
    stored = await reload(session, Report, world.report.id)
    assert stored.vulnerability_information == "**Steps**: open it"
    row = await the_new_activity(
        session, world.report.id, "activity-report-vulnerability-information-updated"
    )
    activity = await shown(client, world.admin, "acme", world.report.id, row.id)
    assert set(activity["attributes"]) == {
        "message",
        "message_html",
        "created_at",
        "updated_at",
        "internal",
    }
    assert activity["attributes"]["internal"] is False
    assert set(activity["relationships"]) == {"actor"}


async def test_bad_vulnerability_information_is_refused_and_nothing_is_written(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    before = await snapshot(session, world.report.id)

    for value in [None, 7, ["text"]]:
        response = await send(
            client,
            world.admin,
            "PUT",
            f"/v1/reports/{world.report.id}/vulnerability_information",
            doc("report-vulnerability-information", vulnerability_information=value),
        )

        assert_invalid(response, "vulnerability_information", case=repr(value))
    assert await snapshot(session, world.report.id) == before


# ---- PUT /reports/{id}/cves ----------------------------------------------------------------------


async def put_cves(client: httpx.AsyncClient, world: World, cve_ids: object) -> httpx.Response:
    return await send(
        client,
        world.admin,
        "PUT",
        f"/v1/reports/{world.report.id}/cves",
        doc("report-cves", cve_ids=cve_ids),
    )


async def test_cve_ids_are_replaced_deduplicated_and_the_added_ones_recorded(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    first = await put_cves(client, world, ["CVE-2024-1234", "CVE-2023-99999", "CVE-2024-1234"])
    second = await put_cves(client, world, ["CVE-2023-99999", "CVE-2025-0001"])

    assert first.status_code == second.status_code == 200, second.text
    assert first.json()["data"]["attributes"]["cve_ids"] == ["CVE-2024-1234", "CVE-2023-99999"]
    assert second.json()["data"]["attributes"]["cve_ids"] == ["CVE-2023-99999", "CVE-2025-0001"]
    stored = await reload(session, Report, world.report.id)
    assert stored.cve_ids == ["CVE-2023-99999", "CVE-2025-0001"]
    rows = await activities_of(session, world.report.id)
    assert [a.type for a in rows] == ["activity-cve-id-added"] * 2
    added_first = await shown(client, world.admin, "acme", world.report.id, rows[0].id)
    added_second = await shown(client, world.admin, "acme", world.report.id, rows[1].id)
    assert added_first["attributes"]["cve_ids"] == ["CVE-2024-1234", "CVE-2023-99999"]
    assert added_second["attributes"]["cve_ids"] == ["CVE-2025-0001"]
    assert added_second["attributes"]["internal"] is False


async def test_malformed_cve_ids_are_refused_and_nothing_is_written(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    before = await snapshot(session, world.report.id)
    cases: list[object] = [
        ["cve-2024-1234"],
        ["CVE-24-1234"],
        ["CVE-2024-123"],
        ["CVE-2024-1234 "],
        ["CVE-2024-1234\n"],
        ["CVE-2024-1234", "GHSA-xxxx-yyyy-zzzz"],
        "CVE-2024-1234",
        None,
    ]

    for cve_ids in cases:
        response = await put_cves(client, world, cve_ids)

        assert_invalid(response, "cve_ids", case=repr(cve_ids))
    assert await snapshot(session, world.report.id) == before


# ---- PUT /reports/{id}/report_tags -------------------------------------------------------------


async def put_tags(client: httpx.AsyncClient, world: World, tags: object) -> httpx.Response:
    return await send(
        client,
        world.admin,
        "PUT",
        f"/v1/reports/{world.report.id}/report_tags",
        doc("report-tags", report_tags=tags),
    )


async def test_tags_are_replaced_trimmed_and_deduplicated_without_an_activity(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    first = await put_tags(client, world, ["xss", " prod ", "xss", "prod"])
    second = await put_tags(client, world, ["triage-later"])
    assert first.status_code == second.status_code == 200, second.text
    assert first.json()["data"]["attributes"]["report_tags"] == ["xss", "prod"]
    assert second.json()["data"]["attributes"]["report_tags"] == ["triage-later"]
    stored = await reload(session, Report, world.report.id)
    assert stored.report_tags == ["triage-later"]
    assert stored.updated_at == NOW

    cleared = await put_tags(client, world, [])

    assert cleared.json()["data"]["attributes"]["report_tags"] == []
    assert (await reload(session, Report, world.report.id)).report_tags == []
    # The catalogue has no activity type for tags; none is recorded.
    assert await activities_of(session, world.report.id) == []


async def test_bad_tags_are_refused_and_nothing_is_written(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    before = await snapshot(session, world.report.id)

    for tags in [[""], ["  "], ["x" * 101], [3], "xss", None]:
        response = await put_tags(client, world, tags)

        assert_invalid(response, "report_tags", case=repr(tags)[:20])
    assert await snapshot(session, world.report.id) == before


# ---- POST /reports/{id}/custom_field_values ----------------------------------------------------


async def post_value(
    client: httpx.AsyncClient, world: World, field_id: object, value: object
) -> httpx.Response:
    return await send(
        client,
        world.admin,
        "POST",
        f"/v1/reports/{world.report.id}/custom_field_values",
        doc("custom-field-value", custom_field_attribute_id=field_id, value=value),
    )


async def test_a_custom_field_value_is_set_changed_and_removed_with_its_history(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    field = await make_custom_field(
        session, world.program, regex=r"[A-Z]+-\d+", error_message="Use a ticket key."
    )

    created = await post_value(client, world, field.id, "SEC-12")

    assert created.status_code == 200, created.text
    value = created.json()["data"]
    assert value["type"] == "custom-field-value"
    assert value["attributes"] == {
        "value": "SEC-12",
        "created_at": NOW_WIRE,
        "updated_at": NOW_WIRE,
    }
    attribute = value["relationships"]["custom_field_attribute"]["data"]
    assert (attribute["id"], attribute["type"]) == (str(field.id), "custom-field-attribute")
    assert (await snapshot(session, world.report.id))["custom_field_values"] == [
        (field.id, "SEC-12")
    ]
    report = (await client.get(f"/v1/reports/{world.report.id}", auth=world.admin.auth)).json()
    assert report["data"]["relationships"]["custom_field_values"]["data"] == [value]

    changed = await post_value(client, world, field.id, "SEC-13")
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["id"] == value["id"]
    assert (await snapshot(session, world.report.id))["custom_field_values"] == [
        (field.id, "SEC-13")
    ]

    removed = await post_value(client, world, field.id, "")
    assert removed.status_code == 200, removed.text
    assert removed.json()["data"]["attributes"]["value"] is None
    assert (await snapshot(session, world.report.id))["custom_field_values"] == []

    rows = await activities_of(session, world.report.id)
    assert [a.type for a in rows] == ["activity-report-custom-field-value-updated"] * 3
    history = [await shown(client, world.admin, "acme", world.report.id, a.id) for a in rows]
    assert [(a["attributes"]["old_value"], a["attributes"]["new_value"]) for a in history] == [
        (None, "SEC-12"),
        ("SEC-12", "SEC-13"),
        ("SEC-13", None),
    ]
    for activity in history:
        assert activity["attributes"]["internal"] is True
        assert activity["relationships"]["custom_field_attribute"]["data"] == attribute


async def test_list_fields_take_one_of_their_options_and_public_fields_record_publicly(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    field = await make_custom_field(
        session,
        world.program,
        label="Impact",
        field_type="List",
        configuration="Low, Medium, High",
        internal=False,
    )
    before = await snapshot(session, world.report.id)

    refused = await post_value(client, world, field.id, "Critical")

    assert_invalid(refused, "value", "The value must be one of: Low, Medium, High.")
    assert await snapshot(session, world.report.id) == before

    accepted = await post_value(client, world, field.id, "Medium")

    assert accepted.status_code == 200, accepted.text
    row = await the_new_activity(
        session, world.report.id, "activity-report-custom-field-value-updated"
    )
    activity = await shown(client, world.admin, "acme", world.report.id, row.id)
    assert activity["attributes"]["internal"] is False
    assert activity["attributes"]["new_value"] == "Medium"


async def test_bad_custom_field_values_are_refused_and_nothing_is_written(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    field = await make_custom_field(
        session, world.program, regex=r"[A-Z]+-\d+", error_message="Use a ticket key."
    )
    theirs = await make_custom_field(session, world.foreign_program)
    archived = await make_custom_field(session, world.program, archived=True)
    checkbox = await make_custom_field(
        session, world.program, label="Reproduced", field_type="Checkbox"
    )
    cases: list[tuple[str, object, object, str, str | None]] = [
        ("no regex match", field.id, "sec 1", "value", "Use a ticket key."),
        ("regex matches only a part", field.id, "SEC-1 and more", "value", "Use a ticket key."),
        ("another program's field", theirs.id, "SEC-1", "custom_field_attribute_id", None),
        ("an archived field", archived.id, "SEC-1", "custom_field_attribute_id", None),
        ("an unknown field", 999999, "SEC-1", "custom_field_attribute_id", None),
        ("a value that is not a string", field.id, 12, "value", None),
        ("a checkbox that is not true or false", checkbox.id, "yes", "value", None),
    ]
    before = await snapshot(session, world.report.id)

    for case, field_id, value, parameter, detail in cases:
        response = await post_value(client, world, field_id, value)

        assert_invalid(response, parameter, detail, case=case)
    assert await snapshot(session, world.report.id) == before


# ---- POST /reports/{id}/inboxes ----------------------------------------------------------------


@dataclass
class Inboxes:
    default: Inbox
    first: Inbox
    second: Inbox
    third: Inbox
    foreign: Inbox


@pytest.fixture
async def inboxes(session: AsyncSession, world: World) -> Inboxes:
    """The report sits in acme's default inbox and in one custom inbox."""
    boxes = Inboxes(
        default=await make_inbox(
            session, world.org, name="Acme", type="default", program=world.program
        ),
        first=await make_inbox(session, world.org, name="Web"),
        second=await make_inbox(session, world.org, name="Mobile"),
        third=await make_inbox(session, world.org, name="Payments"),
        foreign=await make_inbox(session, world.other_org, name="Theirs"),
    )
    await link_inboxes(session, world.report, boxes.default, boxes.first)
    return boxes


async def post_inboxes(client: httpx.AsyncClient, world: World, ids: object) -> httpx.Response:
    return await send(
        client,
        world.admin,
        "POST",
        f"/v1/reports/{world.report.id}/inboxes",
        {"data": {"organization_inbox_ids": ids}},
    )


async def test_setting_inboxes_replaces_the_custom_ones_and_keeps_the_default(
    session: AsyncSession, client: httpx.AsyncClient, world: World, inboxes: Inboxes
) -> None:
    response = await post_inboxes(client, world, [inboxes.third.id, inboxes.second.id])

    assert response.status_code == 200, response.text
    listed = response.json()["data"]["relationships"]["inboxes"]["data"]
    assert [(i["id"], i["type"], i["attributes"]) for i in listed] == [
        (str(inboxes.default.id), "inbox", {"name": "Acme", "type": "default"}),
        (str(inboxes.second.id), "inbox", {"name": "Mobile", "type": "custom"}),
        (str(inboxes.third.id), "inbox", {"name": "Payments", "type": "custom"}),
    ]
    assert await inbox_ids(session, world.report.id) == sorted(
        [inboxes.default.id, inboxes.second.id, inboxes.third.id]
    )

    cleared = await post_inboxes(client, world, [])

    assert cleared.status_code == 200, cleared.text
    assert await inbox_ids(session, world.report.id) == [inboxes.default.id]
    # The catalogue has no activity type for inbox changes; none is recorded.
    assert await activities_of(session, world.report.id) == []


async def test_repeated_inbox_ids_count_once(
    session: AsyncSession, client: httpx.AsyncClient, world: World, inboxes: Inboxes
) -> None:
    response = await post_inboxes(client, world, [inboxes.second.id, inboxes.second.id])

    assert response.status_code == 200, response.text
    assert await inbox_ids(session, world.report.id) == sorted(
        [inboxes.default.id, inboxes.second.id]
    )


async def test_inboxes_that_are_not_the_organizations_custom_ones_are_refused(
    session: AsyncSession, client: httpx.AsyncClient, world: World, inboxes: Inboxes
) -> None:
    cases: dict[str, Json] = {
        "another organization's": {
            "organization_inbox_ids": [inboxes.second.id, inboxes.foreign.id]
        },
        "a default inbox": {"organization_inbox_ids": [inboxes.default.id]},
        "unknown": {"organization_inbox_ids": [999999]},
        "not a list": {"organization_inbox_ids": inboxes.second.id},
        "missing": {},
    }
    before = await snapshot(session, world.report.id)

    for case, data in cases.items():
        response = await send(
            client, world.admin, "POST", f"/v1/reports/{world.report.id}/inboxes", {"data": data}
        )

        assert_invalid(response, "organization_inbox_ids", case=case)
    assert await snapshot(session, world.report.id) == before


# ---- POST /reports/{id}/issue_tracker_reference_id ---------------------------------------------


async def post_reference(client: httpx.AsyncClient, world: World, **attributes: Any) -> Json:
    return await send(
        client,
        world.admin,
        "POST",
        f"/v1/reports/{world.report.id}/issue_tracker_reference_id",
        doc("issue-tracker-reference-id", **attributes),
    )


async def test_a_reference_answers_the_unwrapped_report_like_the_recording(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    recorded = exchange("add_report_reference", "/issue_tracker_reference_id")
    sent = json.loads(recorded.request_body)
    assert sent == {
        "data": {"type": "issue-tracker-reference-id", "attributes": {"reference": "fooooo"}}
    }

    response = await send(
        client,
        world.admin,
        "POST",
        f"/v1/reports/{world.report.id}/issue_tracker_reference_id",
        sent,
    )

    assert response.status_code == recorded.status == 200, response.text
    body = response.json()
    assert list(body) == ["relationships"] == list(recorded.body)
    assert list(body["relationships"]) == ["report"]
    assert_same_shape(body, recorded.body)
    assert_wire_formats(body)
    report = body["relationships"]["report"]["data"]
    assert report["attributes"]["issue_tracker_reference_id"] == "fooooo"
    assert report["attributes"]["issue_tracker_reference_url"] is None
    stored = await reload(session, Report, world.report.id)
    assert (stored.issue_tracker_reference_id, stored.issue_tracker_reference_url) == (
        "fooooo",
        None,
    )
    row = await the_new_activity(session, world.report.id, "activity-reference-id-added")
    activity = await shown(client, world.admin, "acme", world.report.id, row.id)
    assert report["relationships"]["activities"]["data"][0] == activity
    expected = recorded_activity(recorded.body["relationships"]["report"]["data"], row.type)
    assert_same_shape(activity, expected)
    assert set(activity["attributes"]) - {"message_html"} == set(expected["attributes"])
    assert activity["attributes"]["message"] == "" == expected["attributes"]["message"]
    assert activity["attributes"]["internal"] is True
    assert activity["attributes"]["reference"] == "fooooo"
    assert activity["attributes"]["reference_url"] is None


async def test_the_reference_url_comes_from_the_issue_tracking_integration(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    await make_integration(
        session,
        world.program,
        group_type="notification",
        prefix="https://chat.example/",
        name="Chat",
    )
    await make_integration(session, world.program, prefix="https://tracker.example/browse/")

    response = await post_reference(client, world, reference=" SEC-7 ", message="Filed")

    assert response.status_code == 200, response.text
    attributes = response.json()["relationships"]["report"]["data"]["attributes"]
    assert attributes["issue_tracker_reference_id"] == "SEC-7"
    assert attributes["issue_tracker_reference_url"] == "https://tracker.example/browse/SEC-7"
    stored = await reload(session, Report, world.report.id)
    assert stored.issue_tracker_reference_url == "https://tracker.example/browse/SEC-7"
    row = await the_new_activity(session, world.report.id, "activity-reference-id-added")
    activity = await shown(client, world.admin, "acme", world.report.id, row.id)
    assert activity["attributes"]["message"] == "Filed"
    assert activity["attributes"]["reference"] == "SEC-7"
    assert activity["attributes"]["reference_url"] == "https://tracker.example/browse/SEC-7"


async def test_a_missing_reference_is_refused_and_nothing_is_written(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    before = await snapshot(session, world.report.id)

    for reference in ["", "   ", None, "x" * 256]:
        response = await post_reference(client, world, reference=reference)

        assert_invalid(response, "reference", case=repr(reference)[:20])
    assert await snapshot(session, world.report.id) == before


# ---- POST/DELETE /reports/{id}/escalate --------------------------------------------------------


async def escalate(client: httpx.AsyncClient, world: World, integration_id: object) -> Json:
    return await send(
        client,
        world.admin,
        "POST",
        f"/v1/reports/{world.report.id}/escalate",
        doc(None, integration_id=integration_id),
    )


async def test_escalating_links_the_issue_tracker_and_de_escalating_unlinks_it(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    tracker = await make_integration(session, world.program)
    forms: dict[str, object] = {
        "opaque id": integration_gid(tracker.id),
        "number as string": str(tracker.id),
        "number": tracker.id,
    }
    for form, integration_id in forms.items():
        escalated = await escalate(client, world, integration_id)

        assert escalated.status_code == 200, f"{form}: {escalated.text}"
        assert (escalated.json()["data"]["type"], escalated.json()["data"]["id"]) == (
            "report",
            str(world.report.id),
        )
        stored = await reload(session, Report, world.report.id)
        assert stored.escalated_integration_id == tracker.id, form

        removed = await send(
            client, world.admin, "DELETE", f"/v1/reports/{world.report.id}/escalate"
        )

        assert removed.status_code == 200, f"{form}: {removed.text}"
        assert removed.json()["data"]["id"] == str(world.report.id)
        stored = await reload(session, Report, world.report.id)
        assert stored.escalated_integration_id is None, form
    # The catalogue has no activity type for escalation; none is recorded.
    assert await activities_of(session, world.report.id) == []


async def test_escalating_to_anything_but_the_programs_issue_tracker_is_refused(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    await make_integration(session, world.program)
    chat = await make_integration(session, world.program, group_type="notification", name="Chat")
    theirs = await make_integration(session, world.foreign_program)
    cases: dict[str, object] = {
        "a notification integration": integration_gid(chat.id),
        "another program's tracker": integration_gid(theirs.id),
        "another program's tracker by number": theirs.id,
        "an unknown opaque id": integration_gid(999999),
        "garbage": "not-an-id",
        "an empty id": "",
        "null": None,
    }
    before = await snapshot(session, world.report.id)

    for case, integration_id in cases.items():
        response = await escalate(client, world, integration_id)

        assert_invalid(response, "integration_id", case=case)
    assert await snapshot(session, world.report.id) == before


async def test_de_escalating_a_report_that_is_not_escalated_is_refused(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    before = await snapshot(session, world.report.id)

    response = await send(client, world.admin, "DELETE", f"/v1/reports/{world.report.id}/escalate")

    assert_invalid(response, "integration_id", "The report is not escalated.")
    assert await snapshot(session, world.report.id) == before


# ---- PUT /reports/{id}/transfer ----------------------------------------------------------------


@dataclass
class Family:
    parent: Program  # acme
    child: Program
    sibling: Program
    unrelated: Program


@pytest.fixture
async def family(session: AsyncSession, world: World) -> Family:
    return Family(
        parent=world.program,
        child=await make_child_program(session, world.org, world.program, handle="acme-mobile"),
        sibling=await make_child_program(session, world.org, world.program, handle="acme-web"),
        unrelated=await make_program(session, world.org, handle="other-business"),
    )


async def transfer(
    client: httpx.AsyncClient, token: Token, report_id: int, target: object
) -> httpx.Response:
    return await send(
        client,
        token,
        "PUT",
        f"/v1/reports/{report_id}/transfer",
        doc("report-transfer", target_team_id=target),
    )


async def test_transferring_moves_the_report_and_leaves_the_old_programs_specifics_behind(
    session: AsyncSession, client: httpx.AsyncClient, world: World, family: Family
) -> None:
    report = world.report
    alice = await make_member(session, world.org, username="alice", admin=True)
    weakness = await make_weakness(session, world.program)
    scope = await make_scope(session, world.program)
    tracker = await make_integration(session, world.program)
    field = await make_custom_field(session, world.program)
    session.add(
        CustomFieldValue(
            report_id=report.id,
            custom_field_attribute_id=field.id,
            value="SEC-1",
            created_at=T0,
            updated_at=T0,
        )
    )
    await session.commit()
    default = await make_inbox(
        session, world.org, name="Acme", type="default", program=family.parent
    )
    await link_inboxes(session, report, default, await make_inbox(session, world.org, name="Web"))
    await update_report(
        session,
        report,
        weakness_id=weakness.id,
        structured_scope_id=scope.id,
        assignee_user_id=alice.id,
        escalated_integration_id=tracker.id,
        cve_ids=["CVE-2024-1234"],
        report_tags=["xss"],
    )
    severity_id = report.severity_id
    earlier = await send(
        client, world.admin, "PUT", f"/v1/reports/{report.id}/title", doc(None, title="Moved")
    )
    assert earlier.status_code == 200

    response = await transfer(client, world.admin, report.id, family.child.id)

    assert response.status_code == 200, response.text
    assert response.json() == {"was_successful": True}
    stored = await reload(session, Report, report.id)
    assert stored.program_id == family.child.id
    assert (
        stored.weakness_id,
        stored.structured_scope_id,
        stored.assignee_user_id,
        stored.assignee_group_id,
        stored.escalated_integration_id,
    ) == (None, None, None, None, None)
    assert (stored.severity_id, stored.cve_ids, stored.report_tags, stored.title) == (
        severity_id,
        ["CVE-2024-1234"],
        ["xss"],
        "Moved",
    )
    state = await snapshot(session, report.id)
    assert (state["inboxes"], state["custom_field_values"]) == ([], [])

    rows = await activities_of(session, report.id)
    assert [a.type for a in rows] == [
        "activity-report-title-updated",
        "activity-reassigned-to-team",
    ]
    # The report's whole history moves with it to the new program's feed.
    assert {a.program_id for a in rows} == {family.child.id}
    activity = await shown(client, world.admin, "acme-mobile", report.id, rows[1].id)
    assert activity["attributes"]["internal"] is True
    assert activity["attributes"]["old_team_handle"] == "acme"
    assert activity["attributes"]["new_team_handle"] == "acme-mobile"
    assert set(activity["relationships"]) == {"actor"}
    old_feed = await client.get(
        "/v1/incremental/activities", params={"handle": "acme"}, auth=world.admin.auth
    )
    assert old_feed.json()["data"] == []
    shown_report = (await client.get(f"/v1/reports/{report.id}", auth=world.admin.auth)).json()
    relationships = shown_report["data"]["relationships"]
    assert relationships["program"]["data"]["attributes"]["handle"] == "acme-mobile"
    assert "weakness" not in relationships
    assert "structured_scope" not in relationships
    assert "assignee" not in relationships
    assert relationships["inboxes"]["data"] == []
    assert relationships["custom_field_values"]["data"] == []


async def test_reports_move_between_parent_child_and_sibling_programs(
    session: AsyncSession, client: httpx.AsyncClient, world: World, family: Family
) -> None:
    moves = {
        "parent to child": (family.parent, family.child),
        "child to parent": (family.child, family.parent),
        "to a sibling": (family.child, family.sibling),
    }
    for move, (source, target) in moves.items():
        report = await make_report(session, source, reporter=world.hacker)

        response = await transfer(client, world.admin, report.id, target.id)

        assert response.status_code == 200, f"{move}: {response.text}"
        assert response.json() == {"was_successful": True}, move
        assert (await reload(session, Report, report.id)).program_id == target.id, move
        row = await the_new_activity(session, report.id, "activity-reassigned-to-team")
        await shown(client, world.admin, target.handle, report.id, row.id)


async def test_transferring_outside_the_program_family_is_refused_on_target_team_id(
    session: AsyncSession, client: httpx.AsyncClient, world: World, family: Family
) -> None:
    related_only = "Reports move only between related programs."
    cases: list[tuple[str, object, str | None]] = [
        ("an unrelated program", family.unrelated.id, related_only),
        ("another organization's program", world.foreign_program.id, None),
        ("the same program", family.parent.id, None),
        ("unknown", 999999, None),
        ("null", None, None),
        ("a handle", family.child.handle, None),
        ("a boolean", True, None),
    ]
    before = await snapshot(session, world.report.id)

    for case, target, detail in cases:
        response = await transfer(client, world.admin, world.report.id, target)

        assert_invalid(response, "target_team_id", detail, case=case)
    assert await snapshot(session, world.report.id) == before


async def test_transferring_needs_report_management_on_the_target_too(
    session: AsyncSession, client: httpx.AsyncClient, world: World, family: Family
) -> None:
    source_rm = await make_group(
        session,
        world.org,
        name="Acme RM",
        permissions=["report_management"],
        programs=[family.parent],
    )
    target_rewards = await make_group(
        session,
        world.org,
        name="Mobile rewards",
        permissions=["reward_management"],
        programs=[family.child],
    )
    sees_target = await make_token(session, world.org, groups=[source_rm, target_rewards])
    blind = await make_token(session, world.org, groups=[source_rm])
    before = await snapshot(session, world.report.id)

    denied = await transfer(client, sees_target, world.report.id, family.child.id)
    unseen = await transfer(client, blind, world.report.id, family.child.id)

    assert denied.status_code == 403, denied.text
    assert denied.json() == FORBIDDEN
    assert_invalid(unseen, "target_team_id")
    assert await snapshot(session, world.report.id) == before
