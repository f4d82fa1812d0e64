"""The organization endpoints (catalogue §7), the audit log of writes, and the mail outbox."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.db.models import (
    AuditLogItem,
    EligibilitySetting,
    Group,
    Inbox,
    Mail,
    OrganizationInvitation,
    OrganizationMember,
)
from tests.builders import (
    T0,
    Token,
    make_group,
    make_member,
    make_org,
    make_program,
    make_report,
    make_token,
    make_user,
)


async def count(session: AsyncSession, model: type[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def org_world(session: AsyncSession) -> dict[str, Any]:
    org = await make_org(session, handle="acme-org")
    program = await make_program(session, org, handle="acme")
    other = await make_org(session, handle="other-org")
    alice = await make_member(session, org, username="alice", admin=True)
    bob = await make_member(session, org, username="bob")
    users = await make_group(session, org, name="People", permissions=["user_manager"], programs=[])
    groups = await make_group(
        session, org, name="Groupers", permissions=["group_manager"], programs=[]
    )
    triage = await make_group(
        session,
        org,
        name="Triage",
        permissions=["report_management"],
        programs=[program],
        users=[bob],
    )
    return {
        "org": org,
        "program": program,
        "other": other,
        "alice": alice,
        "bob": bob,
        "triage": triage,
        "admin": await make_token(session, org),
        "user_manager": await make_token(session, org, groups=[users]),
        "group_manager": await make_token(session, org, groups=[groups]),
        "nobody": await make_token(session, org, groups=[triage]),
        "foreign": await make_token(session, other),
    }


def url(world: dict[str, Any], path: str = "") -> str:
    return f"/v1/organizations/{world['org'].id}{path}"


async def test_paths_of_another_organization_are_not_found(
    client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    for path in (
        "/members",
        "/groups",
        "/inboxes",
        "/programs",
        "/audit_log",
        "/eligibility_settings",
    ):
        response = await client.get(url(org_world, path), auth=org_world["foreign"].auth)
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["title"] == "Not Found"


# ---- members ----


async def test_members_list_shows_people_and_api_users_with_their_groups(
    client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    response = await client.get(url(org_world, "/members"), auth=org_world["user_manager"].auth)
    assert response.status_code == 200
    members = {m["attributes"]["username"]: m for m in response.json()["data"]}
    assert {"alice", "bob"} <= set(members)
    bob = members["bob"]
    assert bob["type"] == "organization-member"
    assert bob["attributes"]["organization_admin"] is False
    assert bob["attributes"]["system"] is False
    assert [
        g["attributes"]["name"] for g in bob["relationships"]["organization_member_groups"]["data"]
    ] == ["Triage"]
    assert members[org_world["admin"].identifier]["attributes"]["system"] is True


async def test_members_need_user_or_group_management_and_answer_401_otherwise(
    client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    response = await client.get(url(org_world, "/members"), auth=org_world["nobody"].auth)
    assert response.status_code == 401
    member = await client.get(url(org_world, "/members/1"), auth=org_world["nobody"].auth)
    assert member.status_code == 401


async def test_a_member_gets_new_groups_and_the_admin_flag(
    session: AsyncSession, client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    bob_member = await session.scalar(
        select(OrganizationMember).where(OrganizationMember.user_id == org_world["bob"].id)
    )
    assert bob_member is not None
    people = await session.scalar(select(Group).where(Group.name == "People"))
    assert people is not None
    body = {
        "data": {
            "type": "organization-member",
            "attributes": {"organization_admin": True},
            "relationships": {
                "organization_member_groups": {
                    "data": [{"id": people.id, "type": "organization-member-group"}]
                }
            },
        }
    }
    response = await client.put(
        url(org_world, f"/members/{bob_member.id}"), json=body, auth=org_world["admin"].auth
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["attributes"]["organization_admin"] is True
    assert [
        g["attributes"]["name"] for g in data["relationships"]["organization_member_groups"]["data"]
    ] == ["People"]

    # A user manager may not hand out the admin flag.
    body["data"]["attributes"]["organization_admin"] = False
    refused = await client.put(
        url(org_world, f"/members/{bob_member.id}"), json=body, auth=org_world["user_manager"].auth
    )
    assert refused.status_code == 403
    bad = await client.put(
        url(org_world, f"/members/{bob_member.id}"),
        json={
            "data": {"relationships": {"organization_member_groups": {"data": [{"id": 999999}]}}}
        },
        auth=org_world["admin"].auth,
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"] == {"parameter": "organization_member_groups"}


async def test_removing_members_follows_the_admin_rules(
    session: AsyncSession, client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    members = {m.user_id: m for m in await session.scalars(select(OrganizationMember))}
    bob_id = members[org_world["bob"].id].id
    alice_id = members[org_world["alice"].id].id
    no_perm = await client.delete(
        url(org_world, f"/members/{bob_id}"), auth=org_world["nobody"].auth
    )
    assert no_perm.status_code == 401
    admin_by_user_manager = await client.delete(
        url(org_world, f"/members/{alice_id}"), auth=org_world["user_manager"].auth
    )
    assert admin_by_user_manager.status_code == 403
    removed = await client.delete(
        url(org_world, f"/members/{bob_id}"), auth=org_world["user_manager"].auth
    )
    assert removed.status_code == 200
    assert removed.json() == {
        "data": {"success": True, "message": "Member successfully removed from organization"}
    }
    await session.commit()  # end the read snapshot taken before the request
    assert (
        await session.scalar(select(OrganizationMember).where(OrganizationMember.id == bob_id))
        is None
    )
    missing = await client.delete(
        url(org_world, f"/members/{bob_id}"), auth=org_world["admin"].auth
    )
    assert missing.status_code == 404


# ---- groups ----


async def test_groups_are_created_with_members_programs_and_inboxes(
    session: AsyncSession, client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    inbox = Inbox(
        organization_id=org_world["org"].id,
        name="Mobile",
        type="custom",
        created_at=T0,
        updated_at=T0,
    )
    session.add(inbox)
    await session.commit()
    bob_member = await session.scalar(
        select(OrganizationMember).where(OrganizationMember.user_id == org_world["bob"].id)
    )
    assert bob_member is not None
    body = {
        "data": {
            "type": "organization-member-group",
            "attributes": {"name": "Analysts", "permissions": ["report_analyst"]},
            "relationships": {
                "organization_members": {
                    "data": [{"id": bob_member.id, "type": "organization-member"}]
                },
                "programs": {"data": [{"id": org_world["program"].id, "type": "program"}]},
                "inboxes": {"data": [{"id": inbox.id, "type": "inbox"}]},
            },
        }
    }
    created = await client.post(
        url(org_world, "/groups"), json=body, auth=org_world["group_manager"].auth
    )
    assert created.status_code == 201, created.text
    group = created.json()["data"]
    assert group["type"] == "organization-member-group"
    assert group["attributes"]["permissions"] == ["report_analyst"]
    rel = group["relationships"]
    assert [m["attributes"]["username"] for m in rel["organization_members"]["data"]] == ["bob"]
    assert [p["attributes"]["handle"] for p in rel["programs"]["data"]] == ["acme"]
    assert [i["attributes"]["name"] for i in rel["inboxes"]["data"]] == ["Mobile"]

    fetched = await client.get(
        url(org_world, f"/groups/{group['id']}"), auth=org_world["user_manager"].auth
    )
    assert fetched.json()["data"] == group
    listed = await client.get(url(org_world, "/groups"), auth=org_world["user_manager"].auth)
    assert "relationships" not in listed.json()["data"][0]

    renamed = await client.put(
        url(org_world, f"/groups/{group['id']}"),
        json={
            "data": {
                "attributes": {"name": "Analysts 2"},
                "relationships": {"programs": {"data": []}},
            }
        },
        auth=org_world["group_manager"].auth,
    )
    assert renamed.status_code == 200
    assert renamed.json()["data"]["attributes"]["name"] == "Analysts 2"
    assert renamed.json()["data"]["relationships"]["programs"] == {"data": []}


async def test_group_writes_need_group_management_and_valid_input(
    session: AsyncSession, client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    body = {
        "data": {
            "type": "organization-member-group",
            "attributes": {"name": "X", "permissions": []},
        }
    }
    assert (
        await client.post(url(org_world, "/groups"), json=body, auth=org_world["user_manager"].auth)
    ).status_code == 403
    assert (
        await client.get(url(org_world, "/groups"), auth=org_world["nobody"].auth)
    ).status_code == 403
    before = await count(session, Group)
    for bad, parameter in [
        ({"name": "Triage", "permissions": []}, "name"),
        ({"name": "Y", "permissions": ["superuser"]}, "permissions"),
        ({"permissions": []}, "name"),
    ]:
        response = await client.post(
            url(org_world, "/groups"),
            json={"data": {"attributes": bad}},
            auth=org_world["admin"].auth,
        )
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["source"] == {"parameter": parameter}
    foreign_program = await make_program(session, org_world["other"])
    response = await client.post(
        url(org_world, "/groups"),
        json={
            "data": {
                "attributes": {"name": "Z", "permissions": []},
                "relationships": {"programs": {"data": [{"id": foreign_program.id}]}},
            }
        },
        auth=org_world["admin"].auth,
    )
    assert response.status_code == 400
    assert await count(session, Group) == before


async def test_a_group_role_grants_program_permissions(
    session: AsyncSession, client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    analysts = await make_group(
        session,
        org_world["org"],
        name="Analysts",
        permissions=["report_analyst"],
        programs=[org_world["program"]],
    )
    token = await make_token(session, org_world["org"], groups=[analysts])
    report = await make_report(session, org_world["program"], reporter=await make_user(session))
    response = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        json={"data": {"type": "state-change", "attributes": {"state": "triaged"}}},
        auth=token.auth,
    )
    assert response.status_code == 201


# ---- invitations, eligibility settings, inboxes, programs ----


async def test_inviting_a_member_writes_an_invitation_and_a_mail(
    session: AsyncSession, client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    body = {
        "data": {
            "type": "invitation-organization-member",
            "attributes": {
                "email": "New.Person@example.test",
                "organization_member_group_ids": [org_world["triage"].id],
            },
        }
    }
    response = await client.post(
        url(org_world, "/invitations"), json=body, auth=org_world["user_manager"].auth
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["type"] == "invitation-organization-member"
    assert data["attributes"]["email"] == "new.person@example.test"
    assert data["attributes"]["invitation_data"] == {
        "notify": True,
        "organization_admin": False,
        "organization_member_group_ids": [str(org_world["triage"].id)],
    }
    mail = await session.scalar(select(Mail))
    assert mail is not None
    assert mail.to_address == "new.person@example.test"
    assert mail.sent_at is None
    pending = await client.get(
        url(org_world, "/pending_invitations"), auth=org_world["user_manager"].auth
    )
    assert [i["id"] for i in pending.json()["data"]] == [data["id"]]

    again = await client.post(
        url(org_world, "/invitations"), json=body, auth=org_world["user_manager"].auth
    )
    assert again.status_code == 400
    assert again.json()["errors"][0]["title"] == "Validation Failed"
    refused = await client.post(
        url(org_world, "/invitations"), json=body, auth=org_world["group_manager"].auth
    )
    assert refused.status_code == 403
    bad = await client.post(
        url(org_world, "/invitations"),
        json={"data": {"attributes": {"email": "not-an-email"}}},
        auth=org_world["admin"].auth,
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"] == {"parameter": "email"}
    assert await count(session, OrganizationInvitation) == 1
    assert await count(session, Mail) == 1


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[Any]]]:
    received: list[Any] = []

    class Collect(Message):
        def handle_message(self, message: Any) -> None:
            received.append(message)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


async def test_invitation_mail_is_delivered_through_a_real_smtp_server(
    session: AsyncSession,
    engine: AsyncEngine,
    settings: Settings,
    smtp_server: tuple[int, list[Any]],
    org_world: dict[str, Any],
) -> None:
    port, received = smtp_server
    mailing = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"})
    app = create_app(mailing, engine=engine, clock=Clock())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            url(org_world, "/invitations"),
            json={"data": {"attributes": {"email": "smtp@example.test"}}},
            auth=org_world["admin"].auth,
        )
    assert response.status_code == 201
    assert len(received) == 1
    assert received[0]["To"] == "smtp@example.test"
    assert "acme-org" in received[0].get_payload()
    mail = await session.scalar(select(Mail))
    assert mail is not None
    await session.refresh(mail)
    assert mail.sent_at is not None


async def test_eligibility_settings_inboxes_and_programs_are_listed(
    session: AsyncSession, client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    session.add(
        EligibilitySetting(
            organization_id=org_world["org"].id,
            name="Employees",
            allowed_domains=["acme.test"],
            allowed_domains_enabled=True,
            created_at=T0,
            updated_at=T0,
        )
    )
    session.add(
        Inbox(
            organization_id=org_world["org"].id,
            name="Default",
            type="default",
            created_at=T0,
            updated_at=T0,
        )
    )
    await session.commit()
    settings_list = await client.get(
        url(org_world, "/eligibility_settings"), auth=org_world["group_manager"].auth
    )
    assert settings_list.status_code == 200
    setting = settings_list.json()["data"][0]
    assert setting["attributes"]["allowed_domains"] == ["acme.test"]
    one = await client.get(
        url(org_world, f"/eligibility_settings/{setting['id']}"),
        auth=org_world["user_manager"].auth,
    )
    assert one.json()["data"] == setting
    assert (
        await client.get(url(org_world, "/eligibility_settings"), auth=org_world["nobody"].auth)
    ).status_code == 403
    assert (
        await client.get(url(org_world, "/eligibility_settings/999"), auth=org_world["admin"].auth)
    ).status_code == 404
    inboxes = await client.get(url(org_world, "/inboxes"), auth=org_world["nobody"].auth)
    assert [i["attributes"] for i in inboxes.json()["data"]] == [
        {"name": "Default", "type": "default"}
    ]
    programs = await client.get(url(org_world, "/programs"), auth=org_world["group_manager"].auth)
    assert [p["attributes"]["handle"] for p in programs.json()["data"]] == ["acme"]
    assert (
        await client.get(url(org_world, "/programs"), auth=org_world["user_manager"].auth)
    ).status_code == 403


# ---- the audit log ----


async def test_every_write_appends_one_audit_item_and_failed_writes_none(
    session: AsyncSession, client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    report = await make_report(session, org_world["program"], reporter=await make_user(session))
    token: Token = org_world["admin"]
    ok = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        json={
            "data": {"type": "state-change", "attributes": {"state": "triaged", "message": "yes"}}
        },
        auth=token.auth,
        headers={"User-Agent": "audit-test/1.0"},
    )
    assert ok.status_code == 201
    failed = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        json={"data": {"type": "state-change", "attributes": {"state": "spam-ish"}}},
        auth=token.auth,
    )
    assert failed.status_code == 400
    await client.post(
        url(org_world, "/groups"),
        json={"data": {"attributes": {"name": "Audited", "permissions": []}}},
        auth=token.auth,
    )
    items = list(await session.scalars(select(AuditLogItem).order_by(AuditLogItem.id)))
    assert [i.event for i in items] == [
        "teams.reports.state_changes.create",
        "organizations.groups.create",
    ]
    first = items[0]
    assert first.program_id == org_world["program"].id
    assert first.subject == f"Report#{report.id}"
    assert first.user_agent == "audit-test/1.0"
    assert first.source_ip == "127.0.0.1"
    assert first.parameters["data"]["attributes"]["state"] == "triaged"

    org_log = await client.get(url(org_world, "/audit_log"), auth=token.auth)
    assert [i["attributes"]["event"] for i in org_log.json()["data"]] == [
        "organizations.groups.create",
        "teams.reports.state_changes.create",
    ]
    item = org_log.json()["data"][1]
    assert item["type"] == "audit-log-item"
    assert isinstance(item["attributes"]["parameters"], dict)
    assert item["relationships"]["source_user"]["attributes"]["username"] == token.identifier

    program_log = await client.get(
        f"/v1/programs/{org_world['program'].id}/audit_log", auth=token.auth
    )
    program_items = program_log.json()["data"]
    assert [i["attributes"]["event"] for i in program_items] == [
        "teams.reports.state_changes.create"
    ]
    assert (
        json.loads(program_items[0]["attributes"]["parameters"])["data"]["attributes"]["message"]
        == "yes"
    )


async def test_audit_logs_are_guarded(client: httpx.AsyncClient, org_world: dict[str, Any]) -> None:
    await client.post(
        url(org_world, "/groups"),
        json={"data": {"attributes": {"name": "G", "permissions": []}}},
        auth=org_world["admin"].auth,
    )
    not_admin = await client.get(url(org_world, "/audit_log"), auth=org_world["user_manager"].auth)
    assert not_admin.status_code == 200
    assert not_admin.json() == {"data": [], "links": {}}
    program_log = await client.get(
        f"/v1/programs/{org_world['program'].id}/audit_log", auth=org_world["nobody"].auth
    )
    assert program_log.status_code == 403


async def test_secrets_never_reach_the_audit_log(
    session: AsyncSession, client: httpx.AsyncClient, org_world: dict[str, Any]
) -> None:
    report = await make_report(session, org_world["program"], reporter=await make_user(session))
    await client.post(
        f"/v1/reports/{report.id}/activities",
        json={
            "data": {
                "type": "activity-comment",
                "attributes": {"message": "x", "internal": True},
                "password": "hunter2",
                "api_token": "abc",
            }
        },
        auth=org_world["admin"].auth,
    )
    item = await session.scalar(select(AuditLogItem))
    assert item is not None
    assert item.parameters["data"]["password"] == "[FILTERED]"
    assert item.parameters["data"]["api_token"] == "[FILTERED]"
