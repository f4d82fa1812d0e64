from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_org, make_program, make_report, make_token, make_user


async def test_user_lookup_lists_only_the_callers_programs(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    org = await make_org(session)
    mine = await make_program(session, org, handle="mine")
    foreign = await make_program(session, await make_org(session), handle="theirs")
    hacker = await make_user(session, username="frans")
    await make_report(session, mine, reporter=hacker)
    await make_report(session, foreign, reporter=hacker)
    token = await make_token(session, org)

    by_name = await client.get("/v1/users/frans", auth=token.auth)
    by_id = await client.get(f"/v1/user_by_id/{hacker.id}", auth=token.auth)

    assert by_name.status_code == 200
    assert by_name.json() == by_id.json()
    data = by_name.json()["data"]
    assert data["type"] == "user"
    assert data["attributes"]["username"] == "frans"
    assert data["attributes"]["reputation"] == 10
    programs = data["relationships"]["participating_programs"]["data"]
    assert [p["attributes"]["handle"] for p in programs] == ["mine"]


async def test_unknown_users_and_api_users_are_not_found(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    org = await make_org(session)
    token = await make_token(session, org, name="robot")
    for path in (
        "/v1/users/nobody",
        "/v1/users/robot",
        "/v1/user_by_id/999999",
        "/v1/user_by_id/abc",
    ):
        response = await client.get(path, auth=token.auth)
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["title"] == "Not Found"


async def test_me_organizations_is_the_tokens_organization(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    org = await make_org(session, handle="acme-org")
    await make_org(session, handle="someone-else")
    token = await make_token(session, org)
    body = (await client.get("/v1/me/organizations", auth=token.auth)).json()
    assert [o["attributes"]["handle"] for o in body["data"]] == ["acme-org"]
    assert body["data"][0]["type"] == "organization"
    assert body["links"] == {}
