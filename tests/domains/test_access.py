"""Who may do what: the permission matrix of the organization and program endpoints, tenant
isolation over every registered route, and money that concurrent awards cannot overspend."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.api import all_endpoints
from bountybox.core.auth import OrganizationPermission
from bountybox.core.clock import Clock
from bountybox.db.models import AuditLogItem, LedgerTransaction
from bountybox.domains.billing.service import top_up
from tests.builders import make_group, make_org, make_program, make_report, make_token, make_user

ADMIN = "organization admin"
ROLES = [p.value for p in OrganizationPermission] + [ADMIN]
PROGRAM_ADMINS = {"program_admin", ADMIN}
REPORT_MANAGERS = {"program_admin", "report_analyst", "report_reward_manager", ADMIN}
MEMBER_READERS = {"user_manager", "group_manager", ADMIN}

# (method, path, roles that succeed, status for the others, body)
MATRIX: list[tuple[str, str, set[str], int, Any]] = [
    ("GET", "/v1/organizations/{org}/members", MEMBER_READERS, 401, None),
    ("GET", "/v1/organizations/{org}/groups", MEMBER_READERS, 403, None),
    ("GET", "/v1/organizations/{org}/eligibility_settings", MEMBER_READERS, 403, None),
    ("GET", "/v1/organizations/{org}/pending_invitations", {"user_manager", ADMIN}, 403, None),
    ("GET", "/v1/organizations/{org}/programs", {"group_manager", ADMIN}, 403, None),
    ("GET", "/v1/organizations/{org}/inboxes", set(ROLES), 0, None),
    ("GET", "/v1/organizations/{org}/audit_log", set(ROLES), 0, None),
    ("GET", "/v1/programs/{program}/billing/balance", PROGRAM_ADMINS, 403, None),
    ("GET", "/v1/programs/{program}/swag", PROGRAM_ADMINS, 403, None),
    ("GET", "/v1/programs/{program}/audit_log", PROGRAM_ADMINS, 403, None),
    ("GET", "/v1/programs/{program}/allowed_reporters", PROGRAM_ADMINS, 403, None),
    ("GET", "/v1/programs/{program}/campaigns", PROGRAM_ADMINS, 403, None),
    ("GET", "/v1/programs/{program}/integrations", REPORT_MANAGERS, 403, None),
    ("GET", "/v1/programs/{program}/common_responses", set(ROLES), 0, None),
    ("GET", "/v1/programs/{program}/members", set(ROLES), 0, None),
    (
        "PUT",
        "/v1/programs/{program}/policy",
        PROGRAM_ADMINS,
        404,
        {"data": {"type": "program-policy", "attributes": {"policy": "p"}}},
    ),
    (
        "POST",
        "/v1/programs/{program}/scope_exclusions",
        PROGRAM_ADMINS,
        403,
        {"data": {"attributes": {"category": "c"}}},
    ),
]


@pytest.fixture
async def tenants(session: AsyncSession) -> dict[str, Any]:
    org = await make_org(session)
    program = await make_program(session, org)
    tokens = {ADMIN: await make_token(session, org)}
    for role in ROLES[:-1]:
        group = await make_group(session, org, name=role, permissions=[role], programs=[program])
        tokens[role] = await make_token(session, org, groups=[group])
    other = await make_org(session)
    return {
        "org": org,
        "program": program,
        "tokens": tokens,
        "foreign": await make_token(session, other),
        "other": other,
    }


async def test_each_role_gets_exactly_the_catalogue_answer(
    client: httpx.AsyncClient, tenants: dict[str, Any]
) -> None:
    ids = {"org": tenants["org"].id, "program": tenants["program"].id}
    failures = []
    for method, template, allowed, refusal, body in MATRIX:
        path = template.format(**ids)
        for role, token in tenants["tokens"].items():
            response = await client.request(method, path, json=body, auth=token.auth)
            expected = "2xx" if role in allowed else str(refusal)
            got = "2xx" if response.is_success else str(response.status_code)
            if got != expected:
                failures.append(f"{role:24} {method} {template}: expected {expected}, got {got}")
    assert not failures, "\n".join(failures)


ID_PARAMETER = re.compile(r"\{(\w+)\}")


async def test_another_organization_never_gets_data_on_any_id_route(
    session: AsyncSession, client: httpx.AsyncClient, tenants: dict[str, Any]
) -> None:
    """Every registered /organizations/{id} and /programs/{id} route, called with the first
    organization's ids and the second organization's admin token."""
    report = await make_report(session, tenants["program"], reporter=await make_user(session))
    ids = {
        "org": str(tenants["org"].id),
        "program": str(tenants["program"].id),
        "report": str(report.id),
    }
    before = await session.scalar(select(func.count()).select_from(AuditLogItem))
    checked = 0
    for endpoint in all_endpoints():
        path = endpoint.path
        if not path.startswith(("/v1/organizations/{", "/v1/programs/{", "/v1/reports/{")):
            continue
        kind = (
            "org"
            if path.startswith("/v1/organizations")
            else "program"
            if "/programs/" in path
            else "report"
        )
        names = ID_PARAMETER.findall(path)
        concrete = path
        for position, name in enumerate(names):
            concrete = concrete.replace("{" + name + "}", ids[kind] if position == 0 else "1", 1)
        body = None if endpoint.method in ("GET", "DELETE") else {"data": {"attributes": {}}}
        response = await client.request(
            endpoint.method, concrete, json=body, auth=tenants["foreign"].auth
        )
        assert response.status_code in (400, 401, 403, 404), (
            f"{endpoint.method} {path}: {response.status_code}"
        )
        payload = response.json() if response.content else {}
        assert "data" not in payload, f"{endpoint.method} {path}"
        assert "relationships" not in payload, f"{endpoint.method} {path}"
        checked += 1
    assert checked > 60
    assert await session.scalar(select(func.count()).select_from(AuditLogItem)) == before


async def test_concurrent_awards_never_overspend_the_balance(
    session: AsyncSession, client: httpx.AsyncClient, tenants: dict[str, Any]
) -> None:
    program = tenants["program"]
    await top_up(session, Clock(), program=program, amount_cents=1_000_00)
    await session.commit()
    hacker = await make_user(session)
    reports = [
        await make_report(session, program, reporter=hacker, state="triaged") for _ in range(20)
    ]
    token = tenants["tokens"][ADMIN]

    async def award(report_id: int) -> int:
        response = await client.post(
            f"/v1/reports/{report_id}/bounties",
            json={"data": {"message": "thanks", "amount": 100}},
            auth=token.auth,
        )
        return response.status_code

    statuses = await asyncio.gather(*(award(r.id) for r in reports))
    assert sorted(statuses) == [201] * 10 + [400] * 10
    await session.commit()
    total = await session.scalar(
        select(func.sum(LedgerTransaction.amount_cents)).where(
            LedgerTransaction.program_id == program.id
        )
    )
    assert total == 0
    balance = await client.get(f"/v1/programs/{program.id}/billing/balance", auth=token.auth)
    assert balance.json()["data"]["attributes"]["balance"] == "0.00"
