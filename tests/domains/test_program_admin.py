"""Program administration endpoints (catalogue §8): policy, billing, bounties outside reports,
bounty table, campaigns, common responses, CVE requests, hacker invitations, integrations, members,
scope exclusions, swag, team messages, thanks and triage reviews."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.clock import Clock
from bountybox.db.models import (
    Activity,
    Address,
    BountyTable,
    BountyTableRow,
    Campaign,
    CampaignObjective,
    CommonResponse,
    CveRequest,
    HackerInvitation,
    LedgerTransaction,
    Mail,
    Program,
    ProgramHacker,
    ProgramIntegration,
    ScopeExclusion,
    Swag,
    TeamMessage,
    TriageReview,
)
from bountybox.domains.billing.service import top_up
from tests.builders import (
    T0,
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


async def count(session: AsyncSession, model: type[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def admin_world(session: AsyncSession) -> dict[str, Any]:
    org = await make_org(session)
    program = await make_program(session, org, handle="adminprog")
    await top_up(session, Clock(), program=program, amount_cents=10_000_00)
    await session.commit()
    triage = await make_group(session, org, permissions=["report_management"], programs=[program])
    foreign = await make_program(session, await make_org(session), handle="theirs")
    hacker = await make_user(session, username="hunter", email="hunter@hackers.test")
    return {
        "org": org,
        "program": program,
        "foreign": foreign,
        "hacker": hacker,
        "admin": await make_token(session, org),
        "triage": await make_token(session, org, groups=[triage]),
    }


def p(world: dict[str, Any], path: str = "") -> str:
    return f"/v1/programs/{world['program'].id}{path}"


def doc(**attributes: Any) -> dict[str, Any]:
    return {"data": {"attributes": attributes}}


async def test_another_organizations_program_is_forbidden_everywhere(
    client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    foreign = admin_world["foreign"].id
    for path in (
        "/billing/balance",
        "/campaigns",
        "/common_responses",
        "/swag",
        "/thanks",
        "/scope_exclusions",
        "/members",
        "/integrations",
        "/cve_requests",
    ):
        response = await client.get(f"/v1/programs/{foreign}{path}", auth=admin_world["admin"].auth)
        assert response.status_code == 403, path


async def test_policy_is_replaced_by_program_managers_only(
    client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    body = {"data": {"type": "program-policy", "attributes": {"policy": "# New policy"}}}
    response = await client.put(
        p(admin_world, "/policy"), json=body, auth=admin_world["admin"].auth
    )
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["policy"] == "# New policy"
    assert set(response.json()["data"]["attributes"]) == {
        "handle",
        "policy",
        "created_at",
        "updated_at",
    }
    refused = await client.put(
        p(admin_world, "/policy"), json=body, auth=admin_world["triage"].auth
    )
    assert refused.status_code == 404
    bad = await client.put(
        p(admin_world, "/policy"), json=doc(policy=5), auth=admin_world["admin"].auth
    )
    assert bad.status_code == 400


async def test_policy_attachments_are_uploaded(
    client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    files = {"file": ("rules.pdf", b"%PDF-1.4 test", "application/pdf")}
    response = await client.post(
        p(admin_world, "/policy_attachments"), files=files, auth=admin_world["admin"].auth
    )
    assert response.status_code == 201
    assert response.json()["data"]["attributes"]["file_name"] == "rules.pdf"
    refused = await client.post(
        p(admin_world, "/policy_attachments"), files=files, auth=admin_world["triage"].auth
    )
    assert refused.status_code == 404
    empty = await client.post(
        p(admin_world, "/policy_attachments"),
        files={"nope": ("a", b"x")},
        auth=admin_world["admin"].auth,
    )
    assert empty.status_code == 400


async def test_balance_and_transactions_follow_the_ledger(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    program: Program = admin_world["program"]
    program.bounty_fee_basis_points = 2000
    await session.commit()
    report = await make_report(session, program, reporter=admin_world["hacker"], state="triaged")
    awarded = await client.post(
        f"/v1/reports/{report.id}/bounties",
        json={"data": {"message": "thanks", "amount": 1000, "bonus_amount": 50}},
        auth=admin_world["admin"].auth,
    )
    assert awarded.status_code == 201
    balance = await client.get(p(admin_world, "/billing/balance"), auth=admin_world["admin"].auth)
    assert balance.json() == {
        "data": {
            "id": str(program.id),
            "type": "program-balance",
            "attributes": {"balance": "8740.00"},
        }
    }
    now = dt.datetime.now(dt.UTC)
    transactions = await client.get(
        p(admin_world, f"/billing/transactions?month={now.month}&year={now.year}"),
        auth=admin_world["admin"].auth,
    )
    assert transactions.status_code == 200
    items = transactions.json()["data"]
    assert [i["payment_transaction_type"] for i in items] == ["deposit", "payment"]
    payment = items[1]
    assert payment["bounty_award"] == "1050.00"
    assert payment["bounty_fee"] == "210.00"
    assert payment["debit_or_credit_amount"] == "-1260.00"
    assert payment["balance"] == "8740.00"
    assert isinstance(payment["id"], int)
    assert payment["relationships"]["user"]["attributes"]["username"] == "hunter"
    assert (
        await client.get(p(admin_world, "/billing/balance"), auth=admin_world["triage"].auth)
    ).status_code == 403
    bad = await client.get(
        p(admin_world, "/billing/transactions?month=13"), auth=admin_world["admin"].auth
    )
    assert bad.status_code == 400
    old = await client.get(
        p(admin_world, "/billing/transactions?month=1&year=2001"), auth=admin_world["admin"].auth
    )
    assert old.json() == {"data": [], "links": {}}


async def test_bounties_outside_reports_pay_a_hacker_or_invite_an_email(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    body = doc(
        amount=250,
        reference="EXT-1",
        title="Found at our booth",
        currency="USD",
        recipient_id=admin_world["hacker"].id,
    )
    response = await client.post(
        p(admin_world, "/bounties"), json=body, auth=admin_world["admin"].auth
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["attributes"]["amount"] == "250.00"
    assert data["relationships"]["report"]["data"]["attributes"]["title"] == "Found at our booth"
    assert data["relationships"]["invitations"] == []
    by_email = doc(
        amount=100, reference="EXT-2", title="Tip", currency="USD", recipient="new@hackers.test"
    )
    invited = await client.post(
        p(admin_world, "/bounties"), json=by_email, auth=admin_world["admin"].auth
    )
    assert invited.status_code == 201
    assert (
        invited.json()["data"]["relationships"]["invitations"][0]["recipient"] == "new@hackers.test"
    )
    assert await count(session, Mail) == 1
    refused = await client.post(
        p(admin_world, "/bounties"), json=body, auth=admin_world["triage"].auth
    )
    assert refused.status_code == 403
    for bad, parameter in [
        (
            doc(
                amount=100,
                reference="x",
                title="t",
                currency="EUR",
                recipient_id=admin_world["hacker"].id,
            ),
            "currency",
        ),
        (doc(amount=100, reference="x", title="t", currency="USD"), "attributes"),
        (
            doc(
                amount=1_000_000,
                reference="x",
                title="t",
                currency="USD",
                recipient_id=admin_world["hacker"].id,
            ),
            "amount",
        ),
    ]:
        before = await count(session, LedgerTransaction)
        response = await client.post(
            p(admin_world, "/bounties"), json=bad, auth=admin_world["admin"].auth
        )
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["source"]["parameter"] == parameter
        assert await count(session, LedgerTransaction) == before


async def test_bounty_table_is_read_or_404(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    missing = await client.get(p(admin_world, "/bounty_table"), auth=admin_world["admin"].auth)
    assert missing.status_code == 404
    table = BountyTable(
        program_id=admin_world["program"].id, description="Our table", updated_at=T0
    )
    session.add(table)
    await session.flush()
    session.add(
        BountyTableRow(
            bounty_table_id=table.id,
            name="Web",
            low=100,
            medium=500,
            high=1500,
            critical=5000,
            updated_at=T0,
        )
    )
    await session.commit()
    response = await client.get(p(admin_world, "/bounty_table"), auth=admin_world["admin"].auth)
    data = response.json()["data"]
    assert data["type"] == "bounty-table"
    assert data["relationships"]["bounty_table_rows"]["data"][0]["attributes"]["critical"] == 5000
    assert (
        await client.get(p(admin_world, "/bounty_table"), auth=admin_world["triage"].auth)
    ).status_code == 403


async def test_campaigns_are_scheduled_launched_updated_and_ended(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    objective = CampaignObjective(key="test_new_asset", name="Test a new asset", asset_types=[])
    session.add(objective)
    await session.commit()
    scope = await make_scope(session, admin_world["program"])
    now = dt.datetime.now(dt.UTC)
    body = doc(
        campaign_type="multiplier",
        campaign_objective_id=objective.id,
        critical=2,
        high=1.5,
        start_date=(now + dt.timedelta(days=4)).isoformat(),
        end_date=(now + dt.timedelta(days=20)).isoformat(),
        structured_scope_ids=[scope.id],
    )
    created = await client.post(
        p(admin_world, "/campaigns"), json=body, auth=admin_world["admin"].auth
    )
    assert created.status_code == 201, created.text
    campaign = created.json()["data"]
    assert campaign["attributes"]["status"] == "scheduled"
    assert (
        campaign["relationships"]["campaign_objective"]["data"]["attributes"]["key"]
        == "test_new_asset"
    )
    assert [s["id"] for s in campaign["relationships"]["structured_scopes"]["data"]] == [
        str(scope.id)
    ]
    cid = campaign["id"]

    changed = await client.patch(
        p(admin_world, f"/campaigns/{cid}"), json=doc(critical=3), auth=admin_world["admin"].auth
    )
    assert changed.json()["data"]["attributes"]["critical"] == 3
    launched = await client.post(
        p(admin_world, f"/campaigns/{cid}/launch"), auth=admin_world["admin"].auth
    )
    assert launched.json()["data"]["attributes"]["status"] == "active"
    frozen = await client.patch(
        p(admin_world, f"/campaigns/{cid}"), json=doc(critical=4), auth=admin_world["admin"].auth
    )
    assert frozen.status_code == 400
    ended = await client.post(
        p(admin_world, f"/campaigns/{cid}/end_prematurely"), auth=admin_world["admin"].auth
    )
    assert ended.status_code == 200
    end = dt.datetime.fromisoformat(
        ended.json()["data"]["attributes"]["end_date"].replace("Z", "+00:00")
    )
    assert end - now < dt.timedelta(days=1, minutes=5)
    again = await client.post(
        p(admin_world, f"/campaigns/{cid}/end_prematurely"), auth=admin_world["admin"].auth
    )
    assert again.status_code == 400
    listed = await client.get(p(admin_world, "/campaigns"), auth=admin_world["admin"].auth)
    assert [c["id"] for c in listed.json()["data"]] == [cid]

    too_soon = dict(body)
    too_soon["data"] = {"attributes": {**body["data"]["attributes"], "start_date": now.isoformat()}}
    refused = await client.post(
        p(admin_world, "/campaigns"), json=too_soon, auth=admin_world["admin"].auth
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["source"] == {"parameter": "start_date"}
    low = {"data": {"attributes": {**body["data"]["attributes"], "critical": 1.0}}}
    assert (
        await client.post(p(admin_world, "/campaigns"), json=low, auth=admin_world["admin"].auth)
    ).status_code == 400
    assert (
        await client.post(p(admin_world, "/campaigns"), json=body, auth=admin_world["triage"].auth)
    ).status_code == 403
    assert await count(session, Campaign) == 1
    assert (
        await client.get(p(admin_world, "/campaigns/99999"), auth=admin_world["admin"].auth)
    ).status_code == 404


async def test_common_responses_integrations_and_members_are_listed(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    program = admin_world["program"]
    session.add(
        CommonResponse(
            program_id=program.id,
            title="Dupe",
            message="Duplicate of an earlier report.",
            created_at=T0,
            updated_at=T0,
        )
    )
    session.add(
        ProgramIntegration(
            program_id=program.id,
            name="Jira",
            group_type="issue_tracking",
            created_at=T0,
            updated_at=T0,
        )
    )
    await session.commit()
    await make_member(session, admin_world["org"], username="carol", admin=True)
    responses = await client.get(
        p(admin_world, "/common_responses"), auth=admin_world["triage"].auth
    )
    assert responses.json()["data"][0]["attributes"] == {
        "title": "Dupe",
        "message": "Duplicate of an earlier report.",
    }
    integrations = await client.get(
        p(admin_world, "/integrations"), auth=admin_world["triage"].auth
    )
    item = integrations.json()["data"][0]
    assert set(item) == {"id", "name", "group_type"}
    assert item["group_type"] == "issue_tracking"
    members = await client.get(
        p(admin_world, "/members?filter[exclude_system_users]=true"), auth=admin_world["admin"].auth
    )
    usernames = [
        m["relationships"]["user"]["data"]["attributes"]["username"] for m in members.json()["data"]
    ]
    assert usernames == ["carol"]
    everyone = await client.get(p(admin_world, "/members"), auth=admin_world["admin"].auth)
    assert len(everyone.json()["data"]) == 3
    bad = await client.get(
        p(admin_world, "/members?filter[exclude_system_users]=perhaps"),
        auth=admin_world["admin"].auth,
    )
    assert bad.status_code == 400


async def test_cve_requests_are_drafted_and_validated(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    weakness = await make_weakness(session, admin_world["program"])
    attributes = {
        "team_handle": "adminprog",
        "versions": [
            {
                "vendor": "Acme",
                "product": "Widget",
                "func": "<",
                "version": "2.0",
                "versionType": "semver",
                "affected": True,
            }
        ],
        "metrics": [{"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "weakness_id": weakness.id,
        "description": "Remote code execution in Widget.",
        "vulnerability_discovered_at": "2026-01-02T00:00:00Z",
    }
    created = await client.post(
        p(admin_world, "/cve_requests"),
        json={"data": {"type": "cve-request", "attributes": attributes}},
        auth=admin_world["admin"].auth,
    )
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["attributes"]["state"] == "draft"
    assert data["attributes"]["vulnerability_discovered_at"] == "2026-01-02"
    assert data["attributes"]["products"] == ["Acme Widget"]
    listed = await client.get(p(admin_world, "/cve_requests"), auth=admin_world["admin"].auth)
    assert [c["id"] for c in listed.json()["data"]] == [data["id"]]
    for change, parameter in [
        ({"metrics": [{"vectorString": "nonsense"}]}, "metrics"),
        ({"weakness_id": 999999}, "weakness_id"),
        ({"team_handle": "theirs"}, "team_handle"),
        ({"versions": []}, "versions"),
    ]:
        response = await client.post(
            p(admin_world, "/cve_requests"),
            json={"data": {"attributes": {**attributes, **change}}},
            auth=admin_world["admin"].auth,
        )
        assert response.status_code == 400, change
        assert response.json()["errors"][0]["source"] == {"parameter": parameter}
    assert await count(session, CveRequest) == 1
    refused = await client.post(
        p(admin_world, "/cve_requests"),
        json={"data": {"attributes": attributes}},
        auth=admin_world["triage"].auth,
    )
    assert refused.status_code == 403


async def test_hackers_are_invited_and_the_invitations_listed(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    body = doc(
        usernames=["hunter", "ghost"],
        email_addresses=["friend@example.test"],
        message="Join us",
        context="private launch",
    )
    response = await client.post(
        p(admin_world, "/hacker_invitations"), json=body, auth=admin_world["admin"].auth
    )
    assert response.status_code == 200
    results = response.json()["data"]["attributes"]["users_validation_result"]
    assert results[0]["table"] == {
        "user": "hunter",
        "username": "hunter",
        "email": None,
        "reasons": [],
    }
    assert results[1]["table"]["reasons"] == ["User does not exist"]
    assert await count(session, HackerInvitation) == 2
    assert await count(session, Mail) == 2
    listed = await client.get(p(admin_world, "/hacker_invitations"), auth=admin_world["admin"].auth)
    invitation = next(i for i in listed.json()["data"] if i["relationships"]["recipient"])
    assert invitation["type"] == "invitation-hacker"
    assert invitation["relationships"]["recipient"]["attributes"]["username"] == "hunter"
    assert "data" not in invitation["relationships"]["recipient"]
    assert (
        await client.post(
            p(admin_world, "/hacker_invitations"), json=body, auth=admin_world["triage"].auth
        )
    ).status_code == 403
    bad = await client.post(
        p(admin_world, "/hacker_invitations"),
        json=doc(message="x", context="y"),
        auth=admin_world["admin"].auth,
    )
    assert bad.status_code == 400


async def test_scope_exclusions_have_create_update_delete(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    created = await client.post(
        p(admin_world, "/scope_exclusions"),
        json={
            "data": {
                "type": "scope-exclusion",
                "attributes": {"category": "DoS", "details": "No load tests"},
            }
        },
        auth=admin_world["admin"].auth,
    )
    assert created.status_code == 201
    eid = created.json()["data"]["id"]
    updated = await client.put(
        p(admin_world, f"/scope_exclusions/{eid}"),
        json=doc(details="Still no load tests"),
        auth=admin_world["admin"].auth,
    )
    assert updated.json()["data"]["attributes"] == {
        **updated.json()["data"]["attributes"],
        "category": "DoS",
        "details": "Still no load tests",
    }
    listed = await client.get(p(admin_world, "/scope_exclusions"), auth=admin_world["triage"].auth)
    assert [e["id"] for e in listed.json()["data"]] == [eid]
    assert (
        await client.post(
            p(admin_world, "/scope_exclusions"),
            json=doc(category="x"),
            auth=admin_world["triage"].auth,
        )
    ).status_code == 403
    too_long = await client.post(
        p(admin_world, "/scope_exclusions"),
        json=doc(category="x" * 101),
        auth=admin_world["admin"].auth,
    )
    assert too_long.status_code == 400
    deleted = await client.delete(
        p(admin_world, f"/scope_exclusions/{eid}"), auth=admin_world["admin"].auth
    )
    assert deleted.status_code == 204
    assert await count(session, ScopeExclusion) == 0
    assert (
        await client.delete(
            p(admin_world, f"/scope_exclusions/{eid}"), auth=admin_world["admin"].auth
        )
    ).status_code == 404


async def test_swag_is_listed_and_marked_sent_with_the_bare_swag_answer(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    report = await make_report(session, admin_world["program"], reporter=admin_world["hacker"])
    address = Address(
        user_id=admin_world["hacker"].id,
        name="H",
        street="1 St",
        city="C",
        postal_code="1",
        state="S",
        country="US",
        created_at=T0,
    )
    session.add(address)
    await session.flush()
    swag = Swag(
        report_id=report.id,
        user_id=admin_world["hacker"].id,
        address_id=address.id,
        sent=False,
        created_at=T0,
    )
    session.add(swag)
    await session.commit()
    listed = await client.get(
        p(admin_world, "/swag?page[number]=1&page[size]=100"), auth=admin_world["admin"].auth
    )
    assert listed.json()["data"][0]["relationships"]["address"]["data"]["attributes"]["city"] == "C"
    assert listed.json()["links"] == {}
    sent = await client.put(
        p(admin_world, f"/swag/{swag.id}"),
        json={"data": {"type": "swag", "attributes": {"sent": True}}},
        auth=admin_world["admin"].auth,
    )
    assert sent.status_code == 200
    assert sent.json()["type"] == "swag"
    assert sent.json()["attributes"]["sent"] is True
    empty_body = await client.put(
        p(admin_world, f"/swag/{swag.id}"),
        content=b"{}",
        auth=admin_world["admin"].auth,
        headers={"Content-Type": "application/json"},
    )
    assert empty_body.status_code == 200
    assert (
        await client.put(p(admin_world, "/swag/99999"), json={}, auth=admin_world["admin"].auth)
    ).status_code == 404
    assert (
        await client.get(p(admin_world, "/swag"), auth=admin_world["triage"].auth)
    ).status_code == 403


async def test_team_messages_mail_the_chosen_hackers(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    await make_report(session, admin_world["program"], reporter=admin_world["hacker"])
    response = await client.post(
        p(admin_world, "/team_messages"),
        json={
            "data": {
                "type": "team-message",
                "attributes": {
                    "message": "New scope!",
                    "subject": "News",
                    "message_participating_hackers": True,
                },
            }
        },
        auth=admin_world["admin"].auth,
    )
    assert response.status_code == 201
    assert response.json()["data"]["attributes"]["state"] == "sent"
    mail = await session.scalar(select(Mail))
    assert mail is not None
    assert (mail.to_address, mail.subject) == ("hunter@hackers.test", "News")
    for bad in (
        doc(message="hello"),
        doc(message="hi", recipients="nobody-here"),
        doc(message="x" * 5001, recipients="hunter"),
    ):
        assert (
            await client.post(
                p(admin_world, "/team_messages"), json=bad, auth=admin_world["admin"].auth
            )
        ).status_code == 400
    assert (
        await client.post(
            p(admin_world, "/team_messages"),
            json=doc(message="m", recipients="hunter"),
            auth=admin_world["triage"].auth,
        )
    ).status_code == 403
    assert await count(session, TeamMessage) == 1


async def test_thanks_and_triage_reviews_are_listed(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    program = admin_world["program"]
    other = await make_user(session, username="second")
    resolved = await make_report(
        session, program, reporter=admin_world["hacker"], state="resolved", title="Fixed"
    )
    await make_report(session, program, reporter=admin_world["hacker"], state="new")
    await make_report(session, program, reporter=other, state="spam")
    session.add(
        TriageReview(
            program_id=program.id,
            report_id=resolved.id,
            user_id=other.id,
            rating=4,
            comment="Clear",
            created_at=T0,
        )
    )
    await session.commit()
    thanks = await client.get(p(admin_world, "/thanks"), auth=admin_world["triage"].auth)
    items = thanks.json()["data"]
    assert items[0] == {
        "type": "thanks-item",
        "attributes": {
            "total_report_count": 2,
            "reputation": 10,
            "recognized_report_count": 1,
            "username": "hunter",
            "user_id": str(admin_world["hacker"].id),
        },
    }
    assert items[1]["attributes"]["recognized_report_count"] == 0
    reviews = await client.get(p(admin_world, "/triage_reviews"), auth=admin_world["triage"].auth)
    review = reviews.json()["data"][0]
    assert review["attributes"] == {"comment": "Clear", "rating": 4}
    assert review["relationships"]["report"]["data"]["attributes"]["title"] == "Fixed"
    assert (
        json.dumps(review["relationships"]["user"]["data"]["attributes"])
        == '{"username": "second"}'
    )


async def test_allowed_reporters_their_activities_and_history(
    session: AsyncSession, client: httpx.AsyncClient, admin_world: dict[str, Any]
) -> None:
    program, hacker = admin_world["program"], admin_world["hacker"]
    late = await make_user(session, username="late")
    session.add_all(
        [
            ProgramHacker(program_id=program.id, user_id=hacker.id, created_at=T0),
            ProgramHacker(
                program_id=program.id, user_id=late.id, created_at=T0 + dt.timedelta(days=2)
            ),
            HackerInvitation(
                program_id=program.id,
                recipient_id=hacker.id,
                email=None,
                invited_by_id=hacker.id,
                message="join",
                state="accepted",
                expires_at=T0 + dt.timedelta(days=30),
                created_at=T0 - dt.timedelta(days=1),
                updated_at=T0,
            ),
            Activity(
                type="activity-program-hacker-joined",
                program_id=program.id,
                report_id=None,
                actor_user_id=hacker.id,
                message="",
                internal=False,
                extra={},
                refs={"program": program.id},
                created_at=T0,
                updated_at=T0,
            ),
        ]
    )
    await session.commit()
    admin = admin_world["admin"]
    listed = await client.get(p(admin_world, "/allowed_reporters"), auth=admin.auth)
    assert listed.status_code == 200
    assert [(r["id"], r["type"], r["attributes"]["username"]) for r in listed.json()["data"]] == [
        (str(hacker.id), "allowed_reporter", "hunter"),
        (str(late.id), "allowed_reporter", "late"),
    ]
    activities = await client.get(
        p(admin_world, f"/allowed_reporters/{hacker.id}/activities"), auth=admin.auth
    )
    assert [a["type"] for a in activities.json()["data"]] == ["activity-program-hacker-joined"]
    history_names = await client.get(
        p(admin_world, f"/allowed_reporters/{hacker.id}/username_history"), auth=admin.auth
    )
    assert history_names.json() == {
        "data": {
            "type": "allowed_reporter_username_history",
            "attributes": {"old_usernames": [], "user_id": str(hacker.id)},
        }
    }
    history = await client.get(
        p(admin_world, "/allowed_reporters_history?sort=accepted_at&order=desc"), auth=admin.auth
    )
    entries = history.json()["data"]
    assert [e["relationships"]["user"]["attributes"]["username"] for e in entries] == [
        "late",
        "hunter",
    ]
    assert entries[1]["attributes"]["invited_at"] is not None
    assert "data" not in entries[0]["relationships"]["user"]
    assert (
        await client.get(p(admin_world, "/allowed_reporters_history?sort=name"), auth=admin.auth)
    ).status_code == 400
    assert (
        await client.get(p(admin_world, "/allowed_reporters/999999/activities"), auth=admin.auth)
    ).status_code == 404
    assert (
        await client.get(p(admin_world, "/allowed_reporters"), auth=admin_world["triage"].auth)
    ).status_code == 403


async def test_notifications_are_posted_to_the_integration_webhook(
    session: AsyncSession, engine: Any, settings: Any, admin_world: dict[str, Any]
) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from bountybox.app import create_app
    from bountybox.domains.reports.repository import integration_gid

    received: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    program = admin_world["program"]
    slack = ProgramIntegration(
        program_id=program.id,
        name="Slack",
        group_type="notification",
        webhook_url=f"http://127.0.0.1:{server.server_port}/hook",
        created_at=T0,
        updated_at=T0,
    )
    jira = ProgramIntegration(
        program_id=program.id,
        name="Jira",
        group_type="issue_tracking",
        created_at=T0,
        updated_at=T0,
    )
    session.add_all([slack, jira])
    await session.commit()
    body = doc(
        message="New critical report",
        targets=["#security"],
        integration_id=integration_gid(slack.id),
    )
    try:
        for allow_private, delivered in ((True, True), (False, False)):
            app = create_app(
                settings.model_copy(update={"webhooks_allow_private": allow_private}),
                engine=engine,
                clock=Clock(),
            )
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                response = await client.post(
                    p(admin_world, "/notify_external_platform"),
                    json=body,
                    auth=admin_world["admin"].auth,
                )
                assert response.status_code == 200
                assert response.json() == {"data": {"was_successful": delivered}}
                wrong = dict(body["data"]["attributes"], integration_id=integration_gid(jira.id))
                refused = await client.post(
                    p(admin_world, "/notify_external_platform"),
                    json={"data": {"attributes": wrong}},
                    auth=admin_world["admin"].auth,
                )
                assert refused.status_code == 400
                too_many = dict(body["data"]["attributes"], targets=[f"#c{i}" for i in range(26)])
                assert (
                    await client.post(
                        p(admin_world, "/notify_external_platform"),
                        json={"data": {"attributes": too_many}},
                        auth=admin_world["admin"].auth,
                    )
                ).status_code == 400
    finally:
        server.shutdown()
    # Only the delivery with private addresses allowed reached the loopback receiver.
    assert len(received) == 1
    assert json.loads(received[0]) == {
        "text": "New critical report",
        "targets": ["#security"],
        "program": "adminprog",
    }
