from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import (
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


async def test_me_programs_lists_only_the_tokens_programs(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    org = await make_org(session)
    mine = await make_program(session, org, handle="mine")
    await make_program(session, org, handle="not-mine")
    other_org = await make_org(session)
    await make_program(session, other_org, handle="foreign")
    group = await make_group(session, org, permissions=["report_management"], programs=[mine])
    token = await make_token(session, org, groups=[group])

    response = await client.get("/v1/me/programs", auth=token.auth)

    assert response.status_code == 200
    body = response.json()
    assert [p["attributes"]["handle"] for p in body["data"]] == ["mine"]
    assert body["links"] == {}
    assert body["data"][0]["type"] == "program"
    assert set(body["data"][0]["attributes"]) == {"handle", "created_at", "updated_at"}


async def test_admin_token_sees_every_program_of_its_organization(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    org = await make_org(session)
    for handle in ("a1", "a2", "a3"):
        await make_program(session, org, handle=handle)
    await make_program(session, await make_org(session), handle="foreign")
    token = await make_token(session, org)

    response = await client.get("/v1/me/programs", params={"page[size]": "2"}, auth=token.auth)

    body = response.json()
    assert [p["attributes"]["handle"] for p in body["data"]] == ["a1", "a2"]
    assert body["links"]["next"].startswith("http://testserver/v1/me/programs?")
    assert "page%5Bnumber%5D=2" in body["links"]["next"]


async def test_get_program_embeds_groups_members_and_organization(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    org = await make_org(session, handle="acmeorg")
    program = await make_program(session, org, handle="acme")
    bob = await make_member(session, org, username="bob")
    await make_group(
        session,
        org,
        name="Standard",
        permissions=["report_management"],
        programs=[program],
        users=[bob],
    )
    token = await make_token(session, org)

    response = await client.get(f"/v1/programs/{program.id}", auth=token.auth)

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["attributes"]["handle"] == "acme"
    assert data["attributes"]["policy"] == "Be nice."
    rel = data["relationships"]
    assert [g["attributes"]["name"] for g in rel["groups"]["data"]] == ["Standard"]
    assert rel["groups"]["data"][0]["attributes"]["permissions"] == ["report_management"]
    assert [
        m["relationships"]["user"]["data"]["attributes"]["username"] for m in rel["members"]["data"]
    ] == ["bob"]
    assert rel["organization"]["data"]["attributes"]["handle"] == "acmeorg"
    assert rel["custom_field_attributes"] == {"data": []}


async def test_program_of_another_organization_is_forbidden(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    org = await make_org(session)
    token = await make_token(session, org)
    foreign = await make_program(session, await make_org(session))

    for path in ("", "/reporters", "/weaknesses", "/structured_scopes"):
        response = await client.get(f"/v1/programs/{foreign.id}{path}", auth=token.auth)
        assert response.status_code == 403, path
        assert response.json() == {"errors": [{"status": 403}]}
    missing = await client.get("/v1/programs/99999999999999999999", auth=token.auth)
    assert missing.status_code == 403


async def test_reporters_weaknesses_and_scopes_list_the_programs_own(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    org = await make_org(session)
    program = await make_program(session, org)
    other = await make_program(session, org)
    hacker = await make_user(session, username="finder")
    await make_user(session, username="idle")
    await make_report(session, program, reporter=hacker)
    await make_report(session, program, reporter=hacker)
    await make_report(session, other, reporter=await make_user(session, username="elsewhere"))
    weakness = await make_weakness(session, program)
    await make_weakness(session, other)
    scope = await make_scope(session, program, identifier="api.example.test")
    token = await make_token(session, org)

    reporters = (await client.get(f"/v1/programs/{program.id}/reporters", auth=token.auth)).json()
    weaknesses = (await client.get(f"/v1/programs/{program.id}/weaknesses", auth=token.auth)).json()
    scopes = (
        await client.get(f"/v1/programs/{program.id}/structured_scopes", auth=token.auth)
    ).json()

    assert [u["attributes"]["username"] for u in reporters["data"]] == ["finder"]
    assert [w["id"] for w in weaknesses["data"]] == [str(weakness.id)]
    assert [s["attributes"]["asset_identifier"] for s in scopes["data"]] == ["api.example.test"]
    assert scopes["data"][0]["type"] == "structured-scope"
    assert scopes["data"][0]["id"] == str(scope.id)
