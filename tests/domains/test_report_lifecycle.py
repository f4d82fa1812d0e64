"""The report workflow through the API (catalogue §12): rewards paid from the program ledger
(bounties, suggestions, swag, ineligibility), retests, disclosure and the timer that discloses
by itself, redaction, comment locking, summaries, participants, attachments with signed expiring
downloads, the PDF export, and the sanitized `*_html` twins of every Markdown field.

For each operation: the success answer (shape-compared with the recorded cassette where one
exists), its effect on the database, the activity it records (checked in GET /reports/{id} and
in the incremental feed), the permission refusal of the catalogue's "Perm -> err" column, bad
input, and an unknown or foreign report id. Every refusal is checked to write nothing:
`assert_refused` compares the rows of every workflow table before and after the request.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import httpx
import orjson
import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.core.jsonapi.render import ts
from bountybox.db.engine import session_factory
from bountybox.db.models import (
    Activity,
    Address,
    Attachment,
    Bounty,
    LedgerTransaction,
    Organization,
    Program,
    Report,
    ReportParticipant,
    ReportSummary,
    Swag,
    User,
    WebhookDelivery,
)
from bountybox.domains.billing import service as billing
from bountybox.domains.reports.service import disclose_due_reports
from tests.builders import (
    T0,
    Token,
    make_group,
    make_org,
    make_program,
    make_report,
    make_scope,
    make_token,
    make_user,
    make_weakness,
    make_webhook,
)
from tests.test_golden import (
    EMBEDDED_USER_PROFILE_KEYS,
    PROGRAM_POLICY_EMBED,
    assert_same_shape,
    assert_wire_formats,
    cassette,
)

Json = dict[str, Any]

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
# Embedded users in the 2017-2020 recordings carry profile fields the contract leaves out of
# embeds (see tests/test_golden.py), and 2020 reports embed the whole program.
PROFILE_KEYS = (
    *EMBEDDED_USER_PROFILE_KEYS,
    PROGRAM_POLICY_EMBED,
    *(
        f"*.relationships.{relationship}.data.attributes.{key}"
        for relationship in ("user", "actor")
        for key in ("signal", "impact", "reputation", "bio", "website", "location")
    ),
    "*.hackerone_triager",
)
WORKFLOW_TABLES: tuple[type[Any], ...] = (
    Report,
    Activity,
    Bounty,
    LedgerTransaction,
    Swag,
    ReportSummary,
    ReportParticipant,
    Attachment,
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
UNKNOWN_ID = "987654321"


# ---- builders and helpers --------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """One organization (admin token, a bounty program, a hacker) and a foreign organization with
    a report of its own."""

    org: Organization
    program: Program
    hacker: User
    admin: Token
    foreign_report: Report


@pytest.fixture
async def world(session: AsyncSession, clock: Clock) -> World:
    clock.freeze(NOW)
    org = await make_org(session)
    program = await make_program(session, org)
    hacker = await make_user(session, email="hacker.one@example.test")
    other_org = await make_org(session)
    foreign_program = await make_program(session, other_org)
    foreign_report = await make_report(
        session, foreign_program, reporter=hacker, state="resolved", closed_at=T0
    )
    return World(
        org=org,
        program=program,
        hacker=hacker,
        admin=await make_token(session, org),
        foreign_report=foreign_report,
    )


async def token_with(session: AsyncSession, world: World, *permissions: str) -> Token:
    """A token whose only group covers the world's program with exactly `permissions`."""
    group = await make_group(
        session, world.org, permissions=list(permissions), programs=[world.program]
    )
    return await make_token(session, world.org, groups=[group])


async def set_program(session: AsyncSession, program: Program, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(program, name, value)
    await session.commit()


async def fund(session: AsyncSession, clock: Clock, program: Program, cents: int) -> None:
    await billing.top_up(session, clock, program=program, amount_cents=cents)
    await session.commit()


async def make_address(session: AsyncSession, user: User) -> Address:
    address = Address(
        user_id=user.id,
        name="Hacker One",
        street="1 Main Street",
        city="Springfield",
        postal_code="12345",
        state="Oregon",
        country="United States",
        tshirt_size="M_Medium",
        phone_number="555-0100",
        created_at=T0,
    )
    session.add(address)
    await session.commit()
    return address


async def closed_report(session: AsyncSession, world: World, **fields: Any) -> Report:
    fields.setdefault("state", "resolved")
    return await make_report(session, world.program, reporter=world.hacker, closed_at=T0, **fields)


async def open_report(session: AsyncSession, world: World, **fields: Any) -> Report:
    fields.setdefault("state", "triaged")
    return await make_report(session, world.program, reporter=world.hacker, **fields)


async def table_rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables the workflow writes, read in a fresh session."""
    async with session_factory(engine)() as fresh:
        rows = {}
        for model in WORKFLOW_TABLES:
            table = model.__table__
            result = await fresh.execute(select(table).order_by(table.c.id))
            rows[table.name] = [tuple(row) for row in result]
        return rows


async def fetch_report(engine: AsyncEngine, report_id: int) -> Report:
    async with session_factory(engine)() as fresh:
        report = await fresh.get(Report, report_id)
        assert report is not None
        return report


async def fetch_all(engine: AsyncEngine, model: type[Any], **where: Any) -> list[Any]:
    async with session_factory(engine)() as fresh:
        query = select(model).filter_by(**where).order_by(model.id)
        return list(await fresh.scalars(query))


async def balance(engine: AsyncEngine, program: Program) -> int:
    async with session_factory(engine)() as fresh:
        return await billing.balance(fresh, program.id)


async def assert_refused(
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    status: int,
    parameter: str | None = None,
    case: str = "",
    **request: Any,
) -> Json:
    """The request gets `status` (400s name `parameter`) and no workflow row changes."""
    before = await table_rows(engine)
    response = await client.request(method, url, **request)
    assert response.status_code == status, f"{case} {response.text}"
    body: Json = response.json()
    assert body["errors"][0]["status"] == status
    if parameter is not None:
        assert body["errors"][0]["source"] == {"parameter": parameter}, f"{case} {body}"
    assert await table_rows(engine) == before, f"{case}: a refused request changed the database"
    return body


async def get_report(client: httpx.AsyncClient, token: Token, report_id: int) -> Json:
    response = await client.get(f"/v1/reports/{report_id}", auth=token.auth)
    assert response.status_code == 200, response.text
    data: Json = response.json()["data"]
    return data


async def feed(
    client: httpx.AsyncClient, token: Token, program: Program, **params: str
) -> list[Json]:
    response = await client.get(
        "/v1/incremental/activities",
        params={"handle": program.handle, "page[size]": "100", **params},
        auth=token.auth,
    )
    assert response.status_code == 200, response.text
    data: list[Json] = response.json()["data"]
    return data


async def recorded_activity(
    client: httpx.AsyncClient, token: Token, program: Program, report_id: int, type_: str
) -> Json:
    """The newest `type_` activity of the report as GET /reports/{id} embeds it, after checking
    that the incremental feed carries the same activity with its report_id."""
    report = await get_report(client, token, report_id)
    matches = [a for a in report["relationships"]["activities"]["data"] if a["type"] == type_]
    assert matches, (
        f"no {type_} in {[a['type'] for a in report['relationships']['activities']['data']]}"
    )
    activity: Json = matches[0]
    fed = {a["id"]: a for a in await feed(client, token, program)}
    assert activity["id"] in fed, f"{type_} {activity['id']} is missing from the feed"
    in_feed = fed[activity["id"]]
    assert in_feed["type"] == type_
    assert in_feed["attributes"].pop("report_id") == str(report_id)
    assert in_feed["attributes"] == activity["attributes"]
    return activity


def activity_types(report: Json) -> list[str]:
    return [a["type"] for a in report["relationships"]["activities"]["data"]]


def assert_actor(activity: Json, token: Token) -> None:
    actor = activity["relationships"]["actor"]["data"]
    assert actor["type"] == "user"
    assert actor["attributes"]["username"] == token.identifier


def error_parameter(response: httpx.Response) -> str:
    parameter: str = response.json()["errors"][0]["source"]["parameter"]
    return parameter


# ---- bounties ----------------------------------------------------------------------------------


async def test_awarding_a_bounty_as_recorded_pays_amount_bonus_and_fee_from_the_ledger(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await set_program(session, world.program, bounty_fee_basis_points=2000)
    await fund(session, clock, world.program, 500_000)
    report = await open_report(session, world)
    (recorded,) = cassette("award_a_bounty")

    response = await client.post(
        f"/v1/reports/{report.id}/bounties",
        content=recorded.request_body,
        headers={"Content-Type": "application/json"},
        auth=world.admin.auth,
    )

    assert response.status_code == recorded.status == 201, response.text
    body = response.json()
    assert_same_shape(body, recorded.body)
    assert_wire_formats(body)
    assert body["data"]["type"] == "bounty"
    assert body["data"]["attributes"] == {
        "amount": "1330.00",
        "bonus_amount": "7.00",
        "awarded_amount": "1330.00",
        "awarded_bonus_amount": "7.00",
        "awarded_currency": "USD",
        "created_at": ts(NOW),
    }
    (bounty,) = await fetch_all(engine, Bounty, report_id=report.id)
    assert (bounty.amount_cents, bounty.bonus_amount_cents) == (133_000, 700)
    ledger = await fetch_all(engine, LedgerTransaction, report_id=report.id)
    # 20 % of 1,337.00 is 267.40.
    assert sorted((row.kind, row.amount_cents) for row in ledger) == [
        ("bonus", -700),
        ("bounty", -133_000),
        ("fee", -26_740),
    ]
    assert all(row.bounty_id == bounty.id for row in ledger)
    assert await balance(engine, world.program) == 500_000 - 133_700 - 26_740
    assert (await fetch_report(engine, report.id)).bounty_awarded_at == NOW

    activity = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-bounty-awarded"
    )
    assert activity["attributes"]["bounty_amount"] == "1,330"
    assert activity["attributes"]["bonus_amount"] == "7"
    assert activity["attributes"]["message"] == "Thanks for the great report!"
    assert activity["attributes"]["internal"] is False
    assert_actor(activity, world.admin)
    shown = await get_report(client, world.admin, report.id)
    assert shown["attributes"]["bounty_awarded_at"] == ts(NOW)
    assert [b["id"] for b in shown["relationships"]["bounties"]["data"]] == [body["data"]["id"]]


async def test_a_bounty_in_the_json_api_form_with_a_null_bonus_pays_the_amount_alone(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await fund(session, clock, world.program, 100_000)
    report = await open_report(session, world)

    response = await client.post(
        f"/v1/reports/{report.id}/bounties",
        json={
            "data": {
                "type": "bounty",
                "attributes": {"message": "Nice", "amount": 250.5, "bonus_amount": None},
            }
        },
        auth=world.admin.auth,
    )

    assert response.status_code == 201, response.text
    attributes = response.json()["data"]["attributes"]
    assert (attributes["amount"], attributes["bonus_amount"]) == ("250.50", "0.00")
    ledger = await fetch_all(engine, LedgerTransaction, report_id=report.id)
    assert [(row.kind, row.amount_cents) for row in ledger] == [("bounty", -25_050)]
    assert await balance(engine, world.program) == 100_000 - 25_050
    activity = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-bounty-awarded"
    )
    assert (activity["attributes"]["bounty_amount"], activity["attributes"]["bonus_amount"]) == (
        "250.50",
        "0",
    )


async def test_a_bounty_may_spend_the_whole_balance_but_not_a_cent_more(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await set_program(session, world.program, bounty_fee_basis_points=2000)
    await fund(session, clock, world.program, 120_000)
    report = await open_report(session, world)
    url = f"/v1/reports/{report.id}/bounties"

    # 1,000.01 plus its fee (20 %, rounded down to 200.00) is a cent over the 1,200.00 balance.
    for amount, bonus in ((1000, 0.01), (900, 100.01), (1001, None)):
        await assert_refused(
            engine,
            client,
            "POST",
            url,
            status=400,
            parameter="amount",
            json={"data": {"message": "m", "amount": amount, "bonus_amount": bonus}},
            auth=world.admin.auth,
        )
    assert (await fetch_report(engine, report.id)).bounty_awarded_at is None

    exact = await client.post(
        url,
        json={"data": {"message": "m", "amount": 900, "bonus_amount": 100}},
        auth=world.admin.auth,
    )
    assert exact.status_code == 201, exact.text
    assert await balance(engine, world.program) == 0
    await assert_refused(
        engine,
        client,
        "POST",
        url,
        status=400,
        parameter="amount",
        json={"data": {"message": "m", "bonus_amount": 0.01}},
        auth=world.admin.auth,
    )


BAD_BOUNTIES: list[tuple[str, Json, str]] = [
    ("no amounts", {"message": "m"}, "amount"),
    ("zero amounts", {"message": "m", "amount": 0, "bonus_amount": 0}, "amount"),
    ("null amounts", {"message": "m", "amount": None, "bonus_amount": None}, "amount"),
    ("no message", {"amount": 100}, "message"),
    ("empty message", {"message": "", "amount": 100}, "message"),
    ("negative", {"message": "m", "amount": -5}, "amount"),
    ("sub-cent", {"message": "m", "amount": 1.234}, "amount"),
    ("not a number", {"message": "m", "amount": "lots"}, "amount"),
    ("negative bonus", {"message": "m", "amount": 100, "bonus_amount": -1}, "bonus_amount"),
    ("below the minimum of 100.00", {"message": "m", "amount": 50}, "amount"),
]


async def test_a_bounty_with_bad_amounts_or_no_message_is_refused(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await set_program(session, world.program, minimum_bounty_cents=10_000)
    await fund(session, clock, world.program, 1_000_000)
    report = await open_report(session, world)

    for case, data, parameter in BAD_BOUNTIES:
        await assert_refused(
            engine,
            client,
            "POST",
            f"/v1/reports/{report.id}/bounties",
            status=400,
            parameter=parameter,
            case=case,
            json={"data": data},
            auth=world.admin.auth,
        )


async def test_the_program_minimum_applies_to_the_amount_and_not_to_a_bonus_given_alone(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await set_program(session, world.program, minimum_bounty_cents=10_000)
    await fund(session, clock, world.program, 1_000_000)
    report = await open_report(session, world)
    url = f"/v1/reports/{report.id}/bounties"

    at_minimum = await client.post(
        url, json={"data": {"message": "m", "amount": 100}}, auth=world.admin.auth
    )
    bonus_only = await client.post(
        url, json={"data": {"message": "m", "bonus_amount": 5}}, auth=world.admin.auth
    )

    assert (at_minimum.status_code, bonus_only.status_code) == (201, 201), bonus_only.text
    assert bonus_only.json()["data"]["attributes"]["amount"] == "0.00"
    assert await balance(engine, world.program) == 1_000_000 - 10_000 - 500


async def test_bounties_need_reward_management_and_a_program_that_pays(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await fund(session, clock, world.program, 1_000_000)
    report = await open_report(session, world)
    body = {"data": {"message": "m", "amount": 100}}
    url = f"/v1/reports/{report.id}/bounties"

    for permissions in (["report_management"], ["program_management", "user_management"]):
        token = await token_with(session, world, *permissions)
        await assert_refused(engine, client, "POST", url, status=404, json=body, auth=token.auth)

    rewarder = await token_with(session, world, "reward_management")
    await set_program(session, world.program, offers_bounties=False)
    await assert_refused(engine, client, "POST", url, status=403, json=body, auth=rewarder.auth)
    await set_program(session, world.program, offers_bounties=True)
    response = await client.post(url, json=body, auth=rewarder.auth)
    assert response.status_code == 201, response.text


# ---- bounty suggestions ------------------------------------------------------------------------


async def test_suggesting_a_bounty_as_recorded_records_an_internal_suggestion_and_moves_no_money(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await fund(session, clock, world.program, 10_000)
    report = await open_report(session, world)
    (recorded,) = cassette("suggest_a_bounty")
    url = f"/v1/reports/{report.id}/bounty_suggestions"

    response = await client.post(
        url,
        content=recorded.request_body,
        headers={"Content-Type": "application/json"},
        auth=world.admin.auth,
    )

    assert response.status_code == recorded.status == 201, response.text
    body = response.json()
    assert_same_shape(body, recorded.body)
    assert_wire_formats(body)
    attributes = body["data"]["attributes"]
    assert body["data"]["type"] == "activity-bounty-suggested"
    assert attributes["bounty_amount"] == "5,000"
    assert attributes["bonus_amount"] == "2,500"
    assert attributes["internal"] is True
    assert attributes["message"] == recorded.body["data"]["attributes"]["message"]
    assert await fetch_all(engine, Bounty) == []
    assert await balance(engine, world.program) == 10_000
    activity = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-bounty-suggested"
    )
    assert activity["id"] == body["data"]["id"]
    assert activity["attributes"] == attributes

    later = await client.post(
        url, json={"data": {"message": "or less", "amount": 1234.5}}, auth=world.admin.auth
    )
    assert later.status_code == 201, later.text
    assert later.json()["data"]["attributes"]["bounty_amount"] == "1,234.50"
    listed = await client.get(url, auth=world.admin.auth)
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["data"]] == [
        later.json()["data"]["id"],
        body["data"]["id"],
    ]
    assert all(a["type"] == "activity-bounty-suggested" for a in listed.json()["data"])


async def test_bounty_suggestions_need_reward_or_report_management_and_a_message(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await open_report(session, world)
    url = f"/v1/reports/{report.id}/bounty_suggestions"
    body = {"data": {"message": "m", "amount": 10}}

    outsider = await token_with(session, world, "program_management")
    await assert_refused(engine, client, "POST", url, status=404, json=body, auth=outsider.auth)
    await assert_refused(
        engine,
        client,
        "POST",
        url,
        status=400,
        parameter="message",
        json={"data": {"amount": 10}},
        auth=world.admin.auth,
    )
    await assert_refused(
        engine,
        client,
        "POST",
        url,
        status=400,
        parameter="amount",
        json={"data": {"message": "m", "amount": -10}},
        auth=world.admin.auth,
    )
    for permission in ("reward_management", "report_management"):
        token = await token_with(session, world, permission)
        response = await client.post(url, json=body, auth=token.auth)
        assert response.status_code == 201, (permission, response.text)


# ---- swag --------------------------------------------------------------------------------------


async def test_awarding_swag_as_recorded_creates_unsent_swag_for_the_reporter_and_their_address(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    address = await make_address(session, world.hacker)
    report = await open_report(session, world)
    (recorded,) = cassette("award_swag")

    response = await client.post(
        f"/v1/reports/{report.id}/swags",
        content=recorded.request_body,
        headers={"Content-Type": "application/json"},
        auth=world.admin.auth,
    )

    assert response.status_code == recorded.status == 201, response.text
    body = response.json()
    assert_same_shape(body, recorded.body)
    assert_wire_formats(body)
    swag = body["data"]
    assert swag["type"] == "swag"
    assert swag["attributes"]["sent"] is False
    assert swag["relationships"]["user"]["data"]["id"] == str(world.hacker.id)
    assert swag["relationships"]["address"]["data"]["id"] == str(address.id)
    assert swag["relationships"]["address"]["data"]["attributes"]["city"] == "Springfield"
    listed_swag = cassette("swag")[0].body["data"][0]
    assert_same_shape(swag, listed_swag, ignore=PROFILE_KEYS)

    (row,) = await fetch_all(engine, Swag, report_id=report.id)
    assert (row.user_id, row.address_id, row.sent) == (world.hacker.id, address.id, False)
    assert (await fetch_report(engine, report.id)).swag_awarded_at == NOW
    shown = await get_report(client, world.admin, report.id)
    assert shown["attributes"]["swag_awarded_at"] == ts(NOW)
    assert [s["id"] for s in shown["relationships"]["swag"]["data"]] == [swag["id"]]
    activity = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-swag-awarded"
    )
    assert activity["attributes"]["message"] == "Enjoy this cool swag!"
    assert activity["relationships"]["swag"]["data"]["id"] == swag["id"]
    assert activity["relationships"]["swag"]["data"]["relationships"]["address"]["data"]["id"] == (
        str(address.id)
    )
    assert_actor(activity, world.admin)


async def test_swag_for_a_reporter_without_an_address_has_a_null_address(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    report = await open_report(session, world)

    response = await client.post(
        f"/v1/reports/{report.id}/swags", json={"data": {"message": "m"}}, auth=world.admin.auth
    )

    assert response.status_code == 201, response.text
    assert response.json()["data"]["relationships"]["address"] == {"data": None}


async def test_swag_needs_reward_management_and_a_message(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await open_report(session, world)
    url = f"/v1/reports/{report.id}/swags"
    triager = await token_with(session, world, "report_management")

    await assert_refused(
        engine, client, "POST", url, status=404, json={"data": {"message": "m"}}, auth=triager.auth
    )
    for data in ({}, {"message": ""}, {"message": 5}):
        await assert_refused(
            engine,
            client,
            "POST",
            url,
            status=400,
            parameter="message",
            json={"data": data},
            auth=world.admin.auth,
        )


# ---- ineligible for bounty ---------------------------------------------------------------------


async def test_an_ineligible_report_records_it_once_and_refuses_bounties_afterwards(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await fund(session, clock, world.program, 100_000)
    report = await open_report(session, world)
    url = f"/v1/reports/{report.id}/ineligible_for_bounty"
    body = {"data": {"type": "report-ineligible-for-bounty"}}

    response = await client.put(url, json=body, auth=world.admin.auth)

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["type"], data["id"]) == ("report", str(report.id))
    assert data["attributes"]["ineligible_for_bounty"] is True
    assert (await fetch_report(engine, report.id)).ineligible_for_bounty is True
    activity = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-not-eligible-for-bounty"
    )
    assert activity["attributes"]["internal"] is False
    assert_actor(activity, world.admin)

    # Marking it again changes nothing and records nothing.
    before = await table_rows(engine)
    again = await client.put(url, json=body, auth=world.admin.auth)
    assert again.status_code == 200, again.text
    assert await table_rows(engine) == before

    await assert_refused(
        engine,
        client,
        "POST",
        f"/v1/reports/{report.id}/bounties",
        status=403,
        json={"data": {"message": "m", "amount": 10}},
        auth=world.admin.auth,
    )


async def test_marking_ineligible_needs_reward_management_and_the_right_type(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await open_report(session, world)
    url = f"/v1/reports/{report.id}/ineligible_for_bounty"
    triager = await token_with(session, world, "report_management")

    await assert_refused(
        engine,
        client,
        "PUT",
        url,
        status=403,
        json={"data": {"type": "report-ineligible-for-bounty"}},
        auth=triager.auth,
    )
    await assert_refused(
        engine,
        client,
        "PUT",
        url,
        status=400,
        parameter="type",
        json={"data": {"type": "report"}},
        auth=world.admin.auth,
    )
    rewarder = await token_with(session, world, "reward_management")
    bare = await client.put(url, auth=rewarder.auth)
    assert bare.status_code == 200, bare.text


# ---- retests -----------------------------------------------------------------------------------


def retest_body(**attributes: Any) -> Json:
    return {"data": {"type": "retest", "attributes": attributes}}


async def test_requesting_a_retest_moves_a_resolved_report_to_retesting(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await closed_report(session, world)

    response = await client.post(
        f"/v1/reports/{report.id}/retests",
        json=retest_body(message="Please check the fix", retest_award_amount=50),
        auth=world.admin.auth,
    )

    assert response.status_code == 201, response.text
    attributes = response.json()["data"]["attributes"]
    assert (attributes["state"], attributes["main_state"], attributes["closed_at"]) == (
        "retesting",
        "open",
        None,
    )
    stored = await fetch_report(engine, report.id)
    assert (stored.state, stored.pre_retest_state, stored.retest_award_cents) == (
        "retesting",
        "resolved",
        5_000,
    )
    assert await fetch_all(engine, LedgerTransaction) == []
    activity = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-bug-retesting"
    )
    assert activity["attributes"]["message"] == "Please check the fix"
    assert_actor(activity, world.admin)


async def test_retests_start_only_from_resolved_and_need_report_management(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    rewarder = await token_with(session, world, "reward_management")
    resolved = await closed_report(session, world)
    await assert_refused(
        engine,
        client,
        "POST",
        f"/v1/reports/{resolved.id}/retests",
        status=403,
        json=retest_body(),
        auth=rewarder.auth,
    )
    await assert_refused(
        engine,
        client,
        "POST",
        f"/v1/reports/{resolved.id}/retests",
        status=400,
        parameter="retest_award_amount",
        json=retest_body(retest_award_amount=-1),
        auth=world.admin.auth,
    )
    for state in ("triaged", "new", "informative", "duplicate"):
        report = await closed_report(session, world, state=state)
        await assert_refused(
            engine,
            client,
            "POST",
            f"/v1/reports/{report.id}/retests",
            status=400,
            parameter="state",
            json=retest_body(),
            auth=world.admin.auth,
        )


async def test_a_program_without_bounties_cannot_offer_a_retest_award(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    await set_program(session, world.program, offers_bounties=False)
    report = await closed_report(session, world)
    url = f"/v1/reports/{report.id}/retests"

    await assert_refused(
        engine,
        client,
        "POST",
        url,
        status=400,
        parameter="retest_award_amount",
        json=retest_body(retest_award_amount=25),
        auth=world.admin.auth,
    )
    free = await client.post(url, json=retest_body(retest_award_amount=None), auth=world.admin.auth)
    assert free.status_code == 201, free.text


async def start_retest(
    client: httpx.AsyncClient, token: Token, report: Report, **attributes: Any
) -> None:
    response = await client.post(
        f"/v1/reports/{report.id}/retests", json=retest_body(**attributes), auth=token.auth
    )
    assert response.status_code == 201, response.text


async def test_approving_a_retest_resolves_and_closes_the_report_and_pays_the_promised_award(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await fund(session, clock, world.program, 10_000)
    report = await closed_report(session, world)
    await start_retest(client, world.admin, report, retest_award_amount=50)
    clock.advance(dt.timedelta(hours=1))

    response = await client.post(
        f"/v1/reports/{report.id}/retests/approve",
        json=retest_body(message="Fix confirmed"),
        auth=world.admin.auth,
    )

    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    later = ts(NOW + dt.timedelta(hours=1))
    assert (attributes["state"], attributes["main_state"], attributes["closed_at"]) == (
        "resolved",
        "closed",
        later,
    )
    stored = await fetch_report(engine, report.id)
    assert (stored.pre_retest_state, stored.retest_award_cents) == (None, None)
    (payment,) = await fetch_all(engine, LedgerTransaction, kind="retest")
    assert (payment.amount_cents, payment.report_id, payment.user_id) == (
        -5_000,
        report.id,
        world.hacker.id,
    )
    assert await balance(engine, world.program) == 5_000
    activity = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-report-retest-approved"
    )
    assert activity["attributes"]["message"] == "Fix confirmed"


async def test_an_award_amount_given_on_approval_replaces_the_promised_one(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await fund(session, clock, world.program, 10_000)
    report = await closed_report(session, world)
    await start_retest(client, world.admin, report, retest_award_amount=50)

    response = await client.post(
        f"/v1/reports/{report.id}/retests/approve",
        json=retest_body(award_amount=75.25),
        auth=world.admin.auth,
    )

    assert response.status_code == 200, response.text
    assert [t.amount_cents for t in await fetch_all(engine, LedgerTransaction, kind="retest")] == [
        -7_525
    ]


async def test_a_retest_award_above_the_balance_is_refused_and_the_retest_stays_open(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await fund(session, clock, world.program, 4_999)
    report = await closed_report(session, world)
    await start_retest(client, world.admin, report, retest_award_amount=50)
    url = f"/v1/reports/{report.id}/retests/approve"

    await assert_refused(
        engine,
        client,
        "POST",
        url,
        status=400,
        parameter="award_amount",
        json=retest_body(),
        auth=world.admin.auth,
    )
    await assert_refused(
        engine,
        client,
        "POST",
        url,
        status=400,
        parameter="award_amount",
        json=retest_body(award_amount=60),
        auth=world.admin.auth,
    )
    await assert_refused(
        engine,
        client,
        "POST",
        url,
        status=400,
        parameter="award_amount",
        json=retest_body(award_amount="x"),
        auth=world.admin.auth,
    )
    assert (await fetch_report(engine, report.id)).state == "retesting"
    affordable = await client.post(url, json=retest_body(award_amount=49.99), auth=world.admin.auth)
    assert affordable.status_code == 200, affordable.text
    assert await balance(engine, world.program) == 0


async def test_rejecting_a_retest_needs_a_message_and_returns_to_the_previous_state(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    await fund(session, clock, world.program, 10_000)
    report = await closed_report(session, world)
    await start_retest(client, world.admin, report, retest_award_amount=50)
    url = f"/v1/reports/{report.id}/retests/reject"

    for attributes in ({}, {"message": ""}):
        await assert_refused(
            engine,
            client,
            "POST",
            url,
            status=400,
            parameter="message",
            json=retest_body(**attributes),
            auth=world.admin.auth,
        )
    response = await client.post(
        url, json=retest_body(message="Still reproducible"), auth=world.admin.auth
    )

    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert (attributes["state"], attributes["main_state"]) == ("resolved", "closed")
    stored = await fetch_report(engine, report.id)
    assert (stored.state, stored.pre_retest_state, stored.retest_award_cents) == (
        "resolved",
        None,
        None,
    )
    assert stored.closed_at is not None
    assert await fetch_all(engine, LedgerTransaction, kind="retest") == []
    activity = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-report-retest-rejected"
    )
    assert activity["attributes"]["message"] == "Still reproducible"


async def test_cancelling_a_retest_returns_to_the_previous_state_recorded_as_that_state(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await closed_report(session, world)
    await start_retest(client, world.admin, report)

    response = await client.delete(f"/v1/reports/{report.id}/retests/cancel", auth=world.admin.auth)

    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["state"] == "resolved"
    stored = await fetch_report(engine, report.id)
    assert (stored.state, stored.pre_retest_state, stored.closed_at) == ("resolved", None, NOW)
    shown = await get_report(client, world.admin, report.id)
    assert activity_types(shown)[:2] == ["activity-bug-resolved", "activity-bug-retesting"]
    await recorded_activity(client, world.admin, world.program, report.id, "activity-bug-resolved")

    # The JSON:API body with a message is accepted as well.
    await start_retest(client, world.admin, report)
    with_message = await client.request(
        "DELETE",
        f"/v1/reports/{report.id}/retests/cancel",
        json=retest_body(message="Not needed after all"),
        auth=world.admin.auth,
    )
    assert with_message.status_code == 200, with_message.text
    newest = (await get_report(client, world.admin, report.id))["relationships"]["activities"]
    assert newest["data"][0]["attributes"]["message"] == "Not needed after all"


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("POST", "approve", retest_body()),
        ("POST", "reject", retest_body(message="no")),
        ("DELETE", "cancel", None),
    ],
)
async def test_retest_actions_without_a_retest_in_progress_are_refused(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    world: World,
    method: str,
    action: str,
    body: Json | None,
) -> None:
    for state in ("resolved", "triaged"):
        report = await closed_report(session, world, state=state)
        await assert_refused(
            engine,
            client,
            method,
            f"/v1/reports/{report.id}/retests/{action}",
            status=400,
            parameter="state",
            json=body,
            auth=world.admin.auth,
        )


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("POST", "approve", retest_body()),
        ("POST", "reject", retest_body(message="no")),
        ("DELETE", "cancel", None),
    ],
)
async def test_retest_actions_need_report_management(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    world: World,
    method: str,
    action: str,
    body: Json | None,
) -> None:
    report = await closed_report(session, world)
    await start_retest(client, world.admin, report)
    rewarder = await token_with(session, world, "reward_management")

    await assert_refused(
        engine,
        client,
        method,
        f"/v1/reports/{report.id}/retests/{action}",
        status=403,
        json=body,
        auth=rewarder.auth,
    )


# ---- disclosure --------------------------------------------------------------------------------


def disclosure_body(**attributes: Any) -> Json:
    return {"data": {"attributes": attributes}}


async def run_disclosure_timer(engine: AsyncEngine, clock: Clock) -> int:
    """What the worker's timer loop does, in its own transaction on the test database."""
    async with session_factory(engine)() as timer_session, timer_session.begin():
        return await disclose_due_reports(timer_session, clock)


async def test_agreeing_to_disclose_after_the_reporter_asked_discloses_at_once(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await closed_report(session, world, reporter_agreed_on_going_public_at=T0)

    response = await client.post(
        f"/v1/reports/{report.id}/disclosure_requests",
        json=disclosure_body(substate="full", message="Agreed"),
        auth=world.admin.auth,
    )

    assert response.status_code == 200, response.text
    agreed = response.json()["data"]
    assert agreed["type"] == "activity-agreed-on-going-public"
    assert agreed["attributes"]["disclosed_at"] == ts(NOW)
    assert agreed["attributes"]["allow_singular_disclosure_at"] is None
    assert agreed["attributes"]["message"] == "Agreed"
    assert_wire_formats(response.json())
    stored = await fetch_report(engine, report.id)
    assert (stored.disclosed_at, stored.disclosure_substate) == (NOW, "full")
    assert stored.allow_singular_disclosure_at is None
    shown = await get_report(client, world.admin, report.id)
    assert shown["attributes"]["disclosed_at"] == ts(NOW)
    assert activity_types(shown)[:2] == [
        "activity-report-became-public",
        "activity-agreed-on-going-public",
    ]
    public = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-report-became-public"
    )
    actor = public["relationships"]["actor"]["data"]
    assert (actor["type"], actor["id"], actor["attributes"]["handle"]) == (
        "program",
        str(world.program.id),
        world.program.handle,
    )
    await recorded_activity(
        client, world.admin, world.program, report.id, "activity-agreed-on-going-public"
    )
    # Nothing is left for the timer, and the disclosure cannot be requested again.
    assert await run_disclosure_timer(engine, Clock()) == 0
    await assert_refused(
        engine,
        client,
        "POST",
        f"/v1/reports/{report.id}/disclosure_requests",
        status=400,
        parameter="state",
        json=disclosure_body(substate="full"),
        auth=world.admin.auth,
    )


async def test_a_disclosure_request_without_the_reporter_is_disclosed_by_the_timer_30_days_later(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    report = await closed_report(session, world, state="informative")
    untouched = await closed_report(session, world)

    response = await client.post(
        f"/v1/reports/{report.id}/disclosure_requests",
        json=disclosure_body(substate="no-content"),
        auth=world.admin.auth,
    )

    assert response.status_code == 200, response.text
    due = NOW + dt.timedelta(days=30)
    attributes = response.json()["data"]["attributes"]
    assert attributes["allow_singular_disclosure_at"] == ts(due)
    assert attributes["disclosed_at"] is None
    stored = await fetch_report(engine, report.id)
    assert (stored.allow_singular_disclosure_at, stored.disclosed_at) == (due, None)
    assert stored.disclosure_substate == "no-content"
    activity = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-agreed-on-going-public"
    )
    assert activity["attributes"]["allow_singular_disclosure_at"] == ts(due)

    assert await run_disclosure_timer(engine, clock) == 0
    clock.advance(dt.timedelta(days=29))
    assert await run_disclosure_timer(engine, clock) == 0
    assert (await fetch_report(engine, report.id)).disclosed_at is None

    clock.advance(dt.timedelta(days=2))
    assert await run_disclosure_timer(engine, clock) == 1

    stored = await fetch_report(engine, report.id)
    assert stored.disclosed_at == NOW + dt.timedelta(days=31)
    assert stored.allow_singular_disclosure_at is None
    assert (await fetch_report(engine, untouched.id)).disclosed_at is None
    shown = await get_report(client, world.admin, report.id)
    assert shown["attributes"]["disclosed_at"] == ts(NOW + dt.timedelta(days=31))
    public = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-report-became-public"
    )
    assert public["relationships"]["actor"]["data"]["type"] == "program"
    assert await run_disclosure_timer(engine, clock) == 0


async def test_cancelling_a_disclosure_request_stops_the_timer(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    report = await closed_report(session, world)
    url = f"/v1/reports/{report.id}/disclosure_requests"
    requested = await client.post(url, json=disclosure_body(substate="full"), auth=world.admin.auth)
    assert requested.status_code == 200, requested.text

    response = await client.request(
        "DELETE", url, json=disclosure_body(message="Not yet"), auth=world.admin.auth
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["type"] == "activity-cancelled-disclosure-request"
    stored = await fetch_report(engine, report.id)
    assert (
        stored.team_agreed_on_going_public_at,
        stored.allow_singular_disclosure_at,
        stored.disclosure_substate,
    ) == (None, None, None)
    activity = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-cancelled-disclosure-request"
    )
    assert activity["attributes"]["message"] == "Not yet"
    clock.advance(dt.timedelta(days=31))
    assert await run_disclosure_timer(engine, clock) == 0
    assert (await fetch_report(engine, report.id)).disclosed_at is None
    # Nothing is pending any more.
    await assert_refused(
        engine, client, "DELETE", url, status=400, parameter="state", auth=world.admin.auth
    )


async def test_disclosure_requests_need_a_closed_report_a_known_substate_and_report_management(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    closed = await closed_report(session, world)
    url = f"/v1/reports/{closed.id}/disclosure_requests"
    rewarder = await token_with(session, world, "reward_management")

    for state in ("triaged", "new", "needs-more-info"):
        report = await open_report(session, world, state=state)
        await assert_refused(
            engine,
            client,
            "POST",
            f"/v1/reports/{report.id}/disclosure_requests",
            status=400,
            parameter="state",
            json=disclosure_body(substate="full"),
            auth=world.admin.auth,
        )
    for attributes in ({}, {"substate": "partial"}, {"substate": None}):
        await assert_refused(
            engine,
            client,
            "POST",
            url,
            status=400,
            parameter="substate",
            json=disclosure_body(**attributes),
            auth=world.admin.auth,
        )
    await assert_refused(
        engine,
        client,
        "POST",
        url,
        status=403,
        json=disclosure_body(substate="full"),
        auth=rewarder.auth,
    )
    await assert_refused(
        engine, client, "DELETE", url, status=400, parameter="state", auth=world.admin.auth
    )
    requested = await client.post(url, json=disclosure_body(substate="full"), auth=world.admin.auth)
    assert requested.status_code == 200, requested.text
    await assert_refused(engine, client, "DELETE", url, status=403, auth=rewarder.auth)


async def test_a_report_reopened_after_a_disclosure_request_is_not_disclosed_by_the_timer(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    report = await closed_report(session, world)
    requested = await client.post(
        f"/v1/reports/{report.id}/disclosure_requests",
        json=disclosure_body(substate="full"),
        auth=world.admin.auth,
    )
    assert requested.status_code == 200, requested.text
    reopened = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        json={"data": {"type": "state-change", "attributes": {"state": "triaged", "message": ""}}},
        auth=world.admin.auth,
    )
    assert reopened.status_code == 201, reopened.text

    clock.advance(dt.timedelta(days=31))
    await run_disclosure_timer(engine, clock)

    assert (await fetch_report(engine, report.id)).disclosed_at is None


# ---- redaction ---------------------------------------------------------------------------------

SECRET = "hunter2-SECRET"


async def comment(
    client: httpx.AsyncClient,
    token: Token,
    report: Report,
    message: str,
    *,
    internal: bool = False,
    attachment_ids: list[int] | None = None,
) -> Json:
    attributes: Json = {"message": message, "internal": internal}
    if attachment_ids is not None:
        attributes["attachment_ids"] = attachment_ids
    response = await client.post(
        f"/v1/reports/{report.id}/activities",
        json={"data": {"type": "activity-comment", "attributes": attributes}},
        auth=token.auth,
    )
    assert response.status_code == 201, response.text
    data: Json = response.json()["data"]
    return data


async def summarize(client: httpx.AsyncClient, token: Token, report: Report, content: str) -> Json:
    response = await client.post(
        f"/v1/reports/{report.id}/summaries",
        json={"data": {"type": "report-summary", "attributes": {"content": content}}},
        auth=token.auth,
    )
    assert response.status_code == 201, response.text
    data: Json = response.json()["data"]
    return data


def redact_body(string: str, **extra: Any) -> Json:
    return {"data": {"type": "report-redact", "attributes": {"string_to_redact": string, **extra}}}


async def secret_report(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> tuple[Report, Json, Json]:
    """A report with the secret in its title, text, summary and a public and an internal comment."""
    report = await open_report(
        session,
        world,
        title=f"Token {SECRET} leaks",
        vulnerability_information=f"The token `{SECRET}` is in the page.\n\nAlso {SECRET}.",
    )
    public = await comment(client, world.admin, report, f"Public: rotate {SECRET} please")
    internal = await comment(
        client, world.admin, report, f"Internal: {SECRET} still works", internal=True
    )
    await summarize(client, world.admin, report, f"Summary: **{SECRET}** was exposed")
    return report, public, internal


def message_of(report: Json, activity_id: str) -> Json:
    (activity,) = [
        a for a in report["relationships"]["activities"]["data"] if a["id"] == activity_id
    ]
    attributes: Json = activity["attributes"]
    return attributes


async def test_redacting_replaces_the_string_everywhere_but_internal_messages(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report, public, internal = await secret_report(session, client, world)
    activities_before = len(await fetch_all(engine, Activity, report_id=report.id))

    response = await client.put(
        f"/v1/reports/{report.id}/redact", json=redact_body(SECRET), auth=world.admin.auth
    )

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    attributes = data["attributes"]
    assert attributes["title"] == "Token [REDACTED] leaks"
    assert attributes["vulnerability_information"] == (
        "The token `[REDACTED]` is in the page.\n\nAlso [REDACTED]."
    )
    assert SECRET not in attributes["vulnerability_information_html"]
    assert "<code>[REDACTED]</code>" in attributes["vulnerability_information_html"]
    (summary,) = data["relationships"]["summaries"]["data"]
    assert summary["attributes"]["content"] == "Summary: **[REDACTED]** was exposed"
    assert "<strong>[REDACTED]</strong>" in summary["attributes"]["content_html"]
    assert message_of(data, public["id"])["message"] == "Public: rotate [REDACTED] please"
    assert SECRET not in message_of(data, public["id"])["message_html"]
    assert message_of(data, internal["id"])["message"] == f"Internal: {SECRET} still works"
    stored = await fetch_report(engine, report.id)
    assert SECRET not in stored.title + stored.vulnerability_information
    (stored_summary,) = await fetch_all(engine, ReportSummary, report_id=report.id)
    assert SECRET not in stored_summary.content
    fed = {
        a["id"]: a["attributes"]["message"] for a in await feed(client, world.admin, world.program)
    }
    assert fed[public["id"]] == "Public: rotate [REDACTED] please"
    assert fed[internal["id"]] == f"Internal: {SECRET} still works"
    # Redaction records no activity of its own.
    assert len(await fetch_all(engine, Activity, report_id=report.id)) == activities_before

    with_internal = await client.put(
        f"/v1/reports/{report.id}/redact",
        json=redact_body(SECRET, include_internal=True),
        auth=world.admin.auth,
    )

    assert with_internal.status_code == 200, with_internal.text
    shown = message_of(with_internal.json()["data"], internal["id"])
    assert shown["message"] == "Internal: [REDACTED] still works"
    assert SECRET not in shown["message_html"]
    assert SECRET not in str(await get_report(client, world.admin, report.id))


async def test_redaction_needs_report_management_and_a_non_empty_string(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report, _, _ = await secret_report(session, client, world)
    url = f"/v1/reports/{report.id}/redact"
    rewarder = await token_with(session, world, "reward_management")

    await assert_refused(
        engine, client, "PUT", url, status=403, json=redact_body(SECRET), auth=rewarder.auth
    )
    for body, parameter in (
        (redact_body(""), "string_to_redact"),
        ({"data": {"type": "report-redact", "attributes": {}}}, "string_to_redact"),
        (redact_body(SECRET, include_internal="yes"), "include_internal"),
    ):
        await assert_refused(
            engine,
            client,
            "PUT",
            url,
            status=400,
            parameter=parameter,
            json=body,
            auth=world.admin.auth,
        )


async def test_redacted_activities_come_back_in_the_incremental_feed(
    session: AsyncSession,
    client: httpx.AsyncClient,
    clock: Clock,
    world: World,
) -> None:
    report, public, _ = await secret_report(session, client, world)
    first_sync = await client.get(
        "/v1/incremental/activities",
        params={"handle": world.program.handle, "page[size]": "100"},
        auth=world.admin.auth,
    )
    synced_until = first_sync.json()["meta"]["max_updated_at"]
    clock.advance(dt.timedelta(minutes=5))

    redacted = await client.put(
        f"/v1/reports/{report.id}/redact", json=redact_body(SECRET), auth=world.admin.auth
    )
    assert redacted.status_code == 200, redacted.text

    changed = await feed(client, world.admin, world.program, updated_at_after=synced_until)
    assert {a["id"]: a["attributes"]["message"] for a in changed}.get(public["id"]) == (
        "Public: rotate [REDACTED] please"
    )


async def test_redaction_reaches_the_titles_recorded_by_title_changes(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    report = await open_report(session, world, title="Harmless title")
    renamed = await client.put(
        f"/v1/reports/{report.id}/title",
        json={"data": {"type": "report-title", "attributes": {"title": f"Leaked {SECRET}"}}},
        auth=world.admin.auth,
    )
    assert renamed.status_code == 200, renamed.text

    redacted = await client.put(
        f"/v1/reports/{report.id}/redact", json=redact_body(SECRET), auth=world.admin.auth
    )

    assert redacted.status_code == 200, redacted.text
    assert SECRET not in str(redacted.json())


async def test_redacting_never_grows_a_title_past_its_500_character_limit(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await open_report(session, world, title="ab " * 150)

    response = await client.put(
        f"/v1/reports/{report.id}/redact", json=redact_body("ab"), auth=world.admin.auth
    )

    assert response.status_code in (200, 400), response.text
    assert len((await fetch_report(engine, report.id)).title) <= 500


# ---- locking comments --------------------------------------------------------------------------


async def test_resolving_then_closing_comments_answers_as_recorded_in_lock_report(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    # The recorded report has a severity, a weakness and an asset with C/I/A requirements.
    scope = await make_scope(session, world.program)
    scope.confidentiality_requirement = "high"
    scope.integrity_requirement = "high"
    scope.availability_requirement = "medium"
    await session.commit()
    report = await open_report(
        session,
        world,
        rating="medium",
        weakness_id=(await make_weakness(session, world.program)).id,
        structured_scope_id=scope.id,
    )
    resolve, lock = cassette("lock_report")

    resolved = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        content=resolve.request_body,
        headers={"Content-Type": "application/json"},
        auth=world.admin.auth,
    )
    assert resolved.status_code == resolve.status == 201, resolved.text
    assert_same_shape(resolved.json(), resolve.body, ignore=PROFILE_KEYS)

    response = await client.put(
        f"/v1/reports/{report.id}/close_comments",
        content=lock.request_body,
        headers={"Content-Type": "application/json"},
        auth=world.admin.auth,
    )

    assert response.status_code == lock.status == 200, response.text
    body = response.json()
    assert_same_shape(body, lock.body, ignore=PROFILE_KEYS)
    assert_wire_formats(body)
    assert body["data"]["type"] == "activity-comments-closed"
    assert (body["data"]["attributes"]["message"], body["data"]["attributes"]["internal"]) == (
        "",
        False,
    )
    assert_actor(body["data"], world.admin)
    assert (await fetch_report(engine, report.id)).comments_closed is True
    activity = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-comments-closed"
    )
    assert activity["id"] == body["data"]["id"]

    # Once only.
    await assert_refused(
        engine,
        client,
        "PUT",
        f"/v1/reports/{report.id}/close_comments",
        status=400,
        parameter="state",
        json={"data": {"type": "activity-comments-closed"}},
        auth=world.admin.auth,
    )


async def test_closing_comments_needs_a_closed_report_report_management_and_the_right_type(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    body = {"data": {"type": "activity-comments-closed"}}
    for state in ("new", "triaged", "needs-more-info", "retesting"):
        report = await open_report(session, world, state=state)
        await assert_refused(
            engine,
            client,
            "PUT",
            f"/v1/reports/{report.id}/close_comments",
            status=400,
            parameter="state",
            json=body,
            auth=world.admin.auth,
        )
    closed = await closed_report(session, world, state="spam")
    url = f"/v1/reports/{closed.id}/close_comments"
    rewarder = await token_with(session, world, "reward_management")
    await assert_refused(engine, client, "PUT", url, status=403, json=body, auth=rewarder.auth)
    await assert_refused(
        engine,
        client,
        "PUT",
        url,
        status=400,
        parameter="type",
        json={"data": {"type": "activity-comment"}},
        auth=world.admin.auth,
    )
    triager = await token_with(session, world, "report_management")
    bare = await client.put(url, auth=triager.auth)
    assert bare.status_code == 200, bare.text


# ---- summaries ---------------------------------------------------------------------------------


async def test_a_team_summary_is_created_once_and_replaced_by_the_next_one(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await open_report(session, world)
    activities_before = await fetch_all(engine, Activity, report_id=report.id)

    first = await summarize(client, world.admin, report, "**Fixed** in v2")

    assert first["type"] == "report-summary"
    assert first["attributes"]["category"] == "team"
    assert first["attributes"]["content"] == "**Fixed** in v2"
    assert first["attributes"]["content_html"] == "<p><strong>Fixed</strong> in v2</p>\n"
    assert first["relationships"]["user"]["data"]["attributes"]["username"] == (
        world.admin.identifier
    )
    assert first["relationships"]["attachments"] == {"data": []}
    assert_wire_formats({"data": first})

    second = await summarize(client, world.admin, report, "Fixed in v2.1")

    assert second["id"] == first["id"]
    assert second["attributes"]["content"] == "Fixed in v2.1"
    (row,) = await fetch_all(engine, ReportSummary, report_id=report.id)
    assert (row.content, row.category) == ("Fixed in v2.1", "team")
    shown = await get_report(client, world.admin, report.id)
    assert [s["attributes"]["content"] for s in shown["relationships"]["summaries"]["data"]] == [
        "Fixed in v2.1"
    ]
    # Summaries record no activity.
    assert await fetch_all(engine, Activity, report_id=report.id) == activities_before


async def test_summaries_need_report_management_and_content(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await open_report(session, world)
    url = f"/v1/reports/{report.id}/summaries"
    rewarder = await token_with(session, world, "reward_management")

    await assert_refused(
        engine,
        client,
        "POST",
        url,
        status=403,
        json={"data": {"type": "report-summary", "attributes": {"content": "c"}}},
        auth=rewarder.auth,
    )
    for attributes in ({}, {"content": ""}, {"content": ["c"]}):
        await assert_refused(
            engine,
            client,
            "POST",
            url,
            status=400,
            parameter="content",
            json={"data": {"type": "report-summary", "attributes": attributes}},
            auth=world.admin.auth,
        )


# ---- participants ------------------------------------------------------------------------------


def participant_body(**attributes: Any) -> Json:
    return {"data": {"type": "report-participant", "attributes": attributes}}


async def test_inviting_participants_by_email_or_username_records_a_masked_email(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await open_report(session, world)
    colleague = await make_user(session, username="colleague", email="carol.danvers@example.org")
    url = f"/v1/reports/{report.id}/participants"

    by_email = await client.post(
        url, json=participant_body(email="alice.smith@example.com"), auth=world.admin.auth
    )

    assert by_email.status_code == 201, by_email.text
    data = by_email.json()["data"]
    assert data["type"] == "report-participant"
    assert data["attributes"]["report_id"] == str(report.id)
    assert_wire_formats(by_email.json())
    (row,) = await fetch_all(engine, ReportParticipant, report_id=report.id)
    assert (row.email, row.user_id) == ("alice.smith@example.com", None)
    invited = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-external-user-invited"
    )
    assert invited["attributes"]["email"] == "a…h@example.com"
    assert invited["attributes"]["internal"] is True
    assert "alice.smith" not in str(await get_report(client, world.admin, report.id))

    by_username = await client.post(
        url, json=participant_body(username="colleague"), auth=world.admin.auth
    )

    assert by_username.status_code == 201, by_username.text
    rows = await fetch_all(engine, ReportParticipant, report_id=report.id)
    # The hacker's email is kept too, so a later invitation by that email is refused.
    assert [(r.email, r.user_id) for r in rows][1] == (colleague.email, colleague.id)
    invited = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-external-user-invited"
    )
    assert invited["attributes"]["email"] == "c…s@example.org"

    # Each participant once.
    for body, parameter in (
        (participant_body(email="alice.smith@example.com"), "email"),
        (participant_body(username="colleague"), "username"),
    ):
        await assert_refused(
            engine,
            client,
            "POST",
            url,
            status=400,
            parameter=parameter,
            json=body,
            auth=world.admin.auth,
        )


async def test_a_hacker_invited_by_username_cannot_be_invited_again_by_email(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await open_report(session, world)
    await make_user(session, username="colleague", email="carol.danvers@example.org")
    url = f"/v1/reports/{report.id}/participants"
    by_username = await client.post(
        url, json=participant_body(username="colleague"), auth=world.admin.auth
    )
    assert by_username.status_code == 201, by_username.text

    await assert_refused(
        engine,
        client,
        "POST",
        url,
        status=400,
        parameter="email",
        json=participant_body(email="carol.danvers@example.org"),
        auth=world.admin.auth,
    )


async def test_participants_need_exactly_one_valid_email_or_hacker_and_report_management(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await open_report(session, world)
    url = f"/v1/reports/{report.id}/participants"
    member = await make_user(session, username="teammate", user_type="member")
    rewarder = await token_with(session, world, "reward_management")

    await assert_refused(
        engine,
        client,
        "POST",
        url,
        status=403,
        json=participant_body(email="x@example.com"),
        auth=rewarder.auth,
    )
    for body, parameter in (
        (participant_body(email="not-an-email"), "email"),
        (participant_body(email="two@@example.com"), "email"),
        (participant_body(username="nobody-by-that-name"), "username"),
        (participant_body(username=member.username), "username"),
        # Neither or both: the model-level check names the attributes object.
        (participant_body(), "attributes"),
        (participant_body(email="x@example.com", username=world.hacker.username), "attributes"),
    ):
        await assert_refused(
            engine,
            client,
            "POST",
            url,
            status=400,
            parameter=parameter,
            json=body,
            auth=world.admin.auth,
        )


# ---- attachments -------------------------------------------------------------------------------


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b"\x3b"


def stored_files(settings: Settings) -> set[str]:
    root = Path(settings.data_dir) / "attachments"
    return {p.name for p in root.iterdir()} if root.exists() else set()


async def upload(
    client: httpx.AsyncClient,
    token: Token,
    name: str = "shot.png",
    content: bytes = PNG,
    content_type: str = "image/png",
    *,
    field: str = "file",
) -> httpx.Response:
    return await client.post(
        "/v1/reports/attachments",
        files={field: (name, io.BytesIO(content), content_type)},
        auth=token.auth,
    )


async def uploaded(client: httpx.AsyncClient, token: Token, **kwargs: Any) -> Json:
    response = await upload(client, token, **kwargs)
    assert response.status_code == 201, response.text
    data: Json = response.json()["data"]
    return data


def tampered(url: str) -> str:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    signature = query["signature"][0]
    query["signature"] = [signature[:-1] + ("0" if signature[-1] != "0" else "1")]
    return parts._replace(query=urlencode(query, doseq=True)).geturl()


@pytest.mark.parametrize("field", ["file", "files[]"])
async def test_an_uploaded_attachment_downloads_through_its_signed_url_until_it_expires(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
    field: str,
) -> None:
    response = await upload(client, world.admin, field=field)

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["type"] == "attachment"
    attributes = data["attributes"]
    assert (attributes["file_name"], attributes["content_type"], attributes["file_size"]) == (
        "shot.png",
        "image/png",
        len(PNG),
    )
    assert attributes["created_at"] == ts(NOW)
    url = attributes["expiring_url"]
    assert url.startswith(f"http://testserver/attachments/{data['id']}/shot.png?")
    assert_wire_formats(response.json())
    (row,) = await fetch_all(engine, Attachment)
    assert (row.id, row.organization_id, row.report_id, row.activity_id) == (
        int(data["id"]),
        world.org.id,
        None,
        None,
    )

    download = await client.get(url)

    assert download.status_code == 200, download.text
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"

    assert (await client.get(tampered(url))).status_code == 403
    assert (await client.get(url.split("?")[0])).status_code == 403
    clock.advance(dt.timedelta(seconds=3600))
    assert (await client.get(url)).status_code == 200
    clock.advance(dt.timedelta(seconds=1))
    assert (await client.get(url)).status_code == 403


REFUSED_UPLOADS: list[tuple[str, str, bytes, str]] = [
    ("empty", "empty.txt", b"", "text/plain"),
    ("a png that is a gif", "fake.png", b"GIF89a not a png", "image/png"),
    ("a png that is svg", "fake.png", b"<svg onload=alert(1)>", "image/png"),
    ("html", "page.html", b"<script>alert(1)</script>", "text/html"),
    ("html with a charset", "page.html", b"<b>x</b>", "Text/HTML; charset=utf-8"),
    ("html by its name", "page.html", b"<script>alert(1)</script>", "application/octet-stream"),
    ("svg", "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
    ("a gif too wide", "wide.gif", gif(1921, 1080), "image/gif"),
    ("a gif too tall", "tall.gif", gif(1920, 1081), "image/gif"),
    ("a 256-character name", "a" * 252 + ".png", PNG, "image/png"),
]


async def test_dangerous_mislabelled_empty_or_oversized_uploads_are_refused(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    settings: Settings,
    world: World,
) -> None:
    files_before = stored_files(settings)

    for case, name, content, content_type in REFUSED_UPLOADS:
        await assert_refused(
            engine,
            client,
            "POST",
            "/v1/reports/attachments",
            status=400,
            parameter="file",
            case=case,
            files={"file": (name, io.BytesIO(content), content_type)},
            auth=world.admin.auth,
        )

    assert stored_files(settings) == files_before


async def test_uploads_at_the_limits_are_accepted(client: httpx.AsyncClient, world: World) -> None:
    largest_gif = await uploaded(
        client, world.admin, name="max.gif", content=gif(1920, 1080), content_type="image/gif"
    )
    longest_name = await uploaded(client, world.admin, name="b" * 251 + ".png")

    assert largest_gif["attributes"]["content_type"] == "image/gif"
    assert len(longest_name["attributes"]["file_name"]) == 255


async def test_an_upload_over_the_configured_size_limit_is_refused_with_413(
    engine: AsyncEngine,
    clock: Clock,
    settings: Settings,
    world: World,
) -> None:
    small = Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        secret_key="test-secret",
        rate_limits_enabled=False,
        max_attachment_bytes=1024,
    )
    app = create_app(small, engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as limited:
        files_before = stored_files(settings)
        await assert_refused(
            engine,
            limited,
            "POST",
            "/v1/reports/attachments",
            status=413,
            files={"file": ("big.txt", io.BytesIO(b"x" * 1025), "text/plain")},
            auth=world.admin.auth,
        )
        assert stored_files(settings) == files_before
        fits = await upload(limited, world.admin, "fits.txt", b"x" * 1024, "text/plain")
        assert fits.status_code == 201, fits.text


async def test_uploading_needs_report_management_on_some_program(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    settings: Settings,
    world: World,
) -> None:
    files_before = stored_files(settings)
    for permissions in (["reward_management"], ["program_management", "user_management"]):
        token = await token_with(session, world, *permissions)
        await assert_refused(
            engine,
            client,
            "POST",
            "/v1/reports/attachments",
            status=404,
            files={"file": ("shot.png", io.BytesIO(PNG), "image/png")},
            auth=token.auth,
        )
    assert stored_files(settings) == files_before
    await assert_refused(
        engine,
        client,
        "POST",
        "/v1/reports/attachments",
        status=400,
        parameter="file",
        files={"other": ("shot.png", io.BytesIO(PNG), "image/png")},
        auth=world.admin.auth,
    )
    triager = await token_with(session, world, "report_management")
    assert (await upload(client, triager)).status_code == 201


async def test_attachment_ids_attach_uploads_to_comments_and_state_changes(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    report = await open_report(session, world)
    screenshot = await uploaded(client, world.admin)
    log_file = await uploaded(
        client, world.admin, name="trace.txt", content=b"trace", content_type="text/plain"
    )

    note = await comment(
        client, world.admin, report, "See the screenshot", attachment_ids=[int(screenshot["id"])]
    )
    changed = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        json={
            "data": {
                "type": "state-change",
                "attributes": {
                    "state": "resolved",
                    "message": "Fixed",
                    "attachment_ids": [int(log_file["id"])],
                },
            }
        },
        auth=world.admin.auth,
    )
    assert changed.status_code == 201, changed.text

    rows = {a.id: a for a in await fetch_all(engine, Attachment)}
    assert rows[int(screenshot["id"])].activity_id == int(note["id"])
    assert {a.report_id for a in rows.values()} == {report.id}
    resolved = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-bug-resolved"
    )
    assert [a["id"] for a in resolved["relationships"]["attachments"]["data"]] == [log_file["id"]]
    assert rows[int(log_file["id"])].activity_id == int(resolved["id"])
    commented = await recorded_activity(
        client, world.admin, world.program, report.id, "activity-comment"
    )
    (attached,) = commented["relationships"]["attachments"]["data"]
    assert (attached["id"], attached["attributes"]["file_name"]) == (screenshot["id"], "shot.png")
    assert attached["attributes"]["expiring_url"].startswith("http://testserver/attachments/")
    assert (await client.get(attached["attributes"]["expiring_url"])).content == PNG
    fed = {a["id"]: a for a in await feed(client, world.admin, world.program)}
    assert [a["id"] for a in fed[note["id"]]["relationships"]["attachments"]["data"]] == [
        screenshot["id"]
    ]

    # An attachment belongs to one activity.
    await assert_refused(
        engine,
        client,
        "POST",
        f"/v1/reports/{report.id}/activities",
        status=400,
        parameter="attachment_ids",
        json={
            "data": {
                "type": "activity-comment",
                "attributes": {
                    "message": "again",
                    "internal": False,
                    "attachment_ids": [int(screenshot["id"])],
                },
            }
        },
        auth=world.admin.auth,
    )


async def test_the_answers_to_a_comment_and_a_state_change_show_their_attachments(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    report = await open_report(session, world)
    screenshot = await uploaded(client, world.admin)
    log_file = await uploaded(client, world.admin, name="log.png")

    note = await comment(
        client, world.admin, report, "See the screenshot", attachment_ids=[int(screenshot["id"])]
    )
    changed = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        json={
            "data": {
                "type": "state-change",
                "attributes": {"state": "resolved", "attachment_ids": [int(log_file["id"])]},
            }
        },
        auth=world.admin.auth,
    )

    assert [a["id"] for a in note["relationships"]["attachments"]["data"]] == [screenshot["id"]]
    assert changed.status_code == 201, changed.text
    newest = changed.json()["data"]["relationships"]["activities"]["data"][0]
    assert newest["type"] == "activity-bug-resolved"
    assert [a["id"] for a in newest["relationships"]["attachments"]["data"]] == [log_file["id"]]


async def test_another_organizations_attachment_cannot_be_attached(
    session: AsyncSession, client: httpx.AsyncClient, engine: AsyncEngine, world: World
) -> None:
    other_org = await make_org(session)
    await make_program(session, other_org)
    theirs = await uploaded(client, await make_token(session, other_org))
    report = await open_report(session, world)

    await assert_refused(
        engine,
        client,
        "POST",
        f"/v1/reports/{report.id}/activities",
        status=400,
        parameter="attachment_ids",
        json={
            "data": {
                "type": "activity-comment",
                "attributes": {
                    "message": "mine now",
                    "internal": True,
                    "attachment_ids": [int(theirs["id"])],
                },
            }
        },
        auth=world.admin.auth,
    )
    await assert_refused(
        engine,
        client,
        "POST",
        f"/v1/reports/{report.id}/state_changes",
        status=400,
        parameter="attachment_ids",
        json={
            "data": {
                "type": "state-change",
                "attributes": {"state": "resolved", "attachment_ids": [int(theirs["id"])]},
            }
        },
        auth=world.admin.auth,
    )
    await assert_refused(
        engine,
        client,
        "POST",
        f"/v1/reports/{report.id}/activities",
        status=400,
        parameter="attachment_ids",
        json={
            "data": {
                "type": "activity-comment",
                "attributes": {"message": "m", "internal": True, "attachment_ids": [99999999]},
            }
        },
        auth=world.admin.auth,
    )


async def test_deleting_a_reports_attachments_removes_rows_files_and_downloads(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    settings: Settings,
    world: World,
) -> None:
    report = await open_report(session, world)
    other_report = await open_report(session, world)
    mine = await uploaded(client, world.admin)
    kept = await uploaded(client, world.admin, name="kept.png")
    note = await comment(client, world.admin, report, "file", attachment_ids=[int(mine["id"])])
    await comment(client, world.admin, other_report, "file", attachment_ids=[int(kept["id"])])
    url = mine["attributes"]["expiring_url"]
    assert (await client.get(url)).status_code == 200
    files_before = stored_files(settings)
    rewarder = await token_with(session, world, "reward_management")

    await assert_refused(
        engine,
        client,
        "DELETE",
        f"/v1/reports/{report.id}/attachments",
        status=404,
        auth=rewarder.auth,
    )
    response = await client.delete(f"/v1/reports/{report.id}/attachments", auth=world.admin.auth)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert [a.id for a in await fetch_all(engine, Attachment)] == [int(kept["id"])]
    assert len(files_before - stored_files(settings)) == 1
    assert (await client.get(url)).status_code == 404
    assert (await client.get(kept["attributes"]["expiring_url"])).status_code == 200
    shown = await get_report(client, world.admin, report.id)
    (activity,) = [a for a in shown["relationships"]["activities"]["data"] if a["id"] == note["id"]]
    assert activity["relationships"]["attachments"] == {"data": []}
    again = await client.delete(f"/v1/reports/{report.id}/attachments", auth=world.admin.auth)
    assert again.status_code == 204


# ---- PDF ---------------------------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", text)


async def test_the_pdf_export_shows_the_report_and_internal_comments_only_to_the_team(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    report = await open_report(
        session,
        world,
        title="Quokka overflow in checkout",
        vulnerability_information="The zebrafish parser crashes on long input.",
    )
    await comment(client, world.admin, report, "Public wombat reply")
    await comment(client, world.admin, report, "Internal marmoset escalation", internal=True)
    url = f"/v1/reports/{report.id}/pdf"

    texts = {}
    for pdf_type in ("reporter", "full", "triage", None):
        response = await client.get(
            url, params={"pdf_type": pdf_type} if pdf_type else {}, auth=world.admin.auth
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.content.startswith(b"%PDF-")
        texts[pdf_type] = pdf_text(response.content)

    for pdf_type, text in texts.items():
        assert "Quokka overflow in checkout" in text, pdf_type
        assert "zebrafish parser crashes" in text, pdf_type
        assert "wombat" in text, pdf_type
    assert "marmoset" not in texts["reporter"]
    assert "marmoset" not in texts[None]
    assert "marmoset" in texts["full"]
    assert "marmoset" in texts["triage"]


async def test_the_pdf_export_refuses_unknown_types_and_invisible_reports(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    report = await open_report(session, world)

    bad = await client.get(
        f"/v1/reports/{report.id}/pdf", params={"pdf_type": "hacker"}, auth=world.admin.auth
    )
    assert bad.status_code == 400
    assert error_parameter(bad) == "pdf_type"
    for report_id in (world.foreign_report.id, UNKNOWN_ID, "abc"):
        response = await client.get(f"/v1/reports/{report_id}/pdf", auth=world.admin.auth)
        assert response.status_code == 403, response.text
        assert response.json() == {"errors": [{"status": 403}]}
    # A token whose groups cover another program only cannot see the report either.
    other_program = await make_program(session, world.org)
    group = await make_group(
        session, world.org, permissions=["report_management"], programs=[other_program]
    )
    outsider = await make_token(session, world.org, groups=[group])
    hidden = await client.get(f"/v1/reports/{report.id}/pdf", auth=outsider.auth)
    assert hidden.status_code == 403


# ---- the *_html twins stay inert ---------------------------------------------------------------

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)"//',
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<!--<script>alert(1)</script>-->",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](java&#x09;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java%0ascript:alert(1))",
    "[click](javascript://%0aalert(1))",
    "[click]( javascript:alert(1) )",
    "[click][evil]\n\n[evil]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<vbscript:msgbox(1)>",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![img](vbscript:msgbox(1))",
    '![x" onerror="alert(1)](https://example.com/a.png)',
    '[x](https://example.com "t\\" onmouseover=\\"alert(1)")',
    '[x](https://example.com/" onclick="alert(1))',
    "[\u0001click](\u0001javascript:alert(1))",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "> <iframe src=javascript:alert(1)>",
]
FORBIDDEN_TAGS = frozenset(
    {
        "script",
        "iframe",
        "object",
        "embed",
        "svg",
        "style",
        "math",
        "base",
        "meta",
        "link",
        "form",
        "button",
        "input",
        "frame",
        "frameset",
        "body",
        "details",
    }
)
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"<{tag} {name}=...> attribute")
            url = re.sub(r"[\x00-\x20\x7f]+", "", unquote(value or "")).lower()
            if url.startswith(SCRIPT_SCHEMES):
                self.problems.append(f"<{tag} {name}={value!r}> script URL")


def inertness_problems(fragment: str) -> list[str]:
    inspector = _Inspector()
    inspector.feed(fragment)
    inspector.close()
    return inspector.problems


def assert_inert(fragment: Any, payload: str, where: str) -> None:
    assert isinstance(fragment, str), f"{where}: no HTML twin for {payload!r}"
    problems = inertness_problems(fragment)
    assert not problems, f"{where} rendered {payload!r} as {fragment!r}: {problems}"


def test_the_inertness_check_notices_live_html() -> None:
    assert inertness_problems('<p><a href="https://example.com">ok</a></p>') == []
    for live in (
        "<script>x</script>",
        '<img src="x" onerror="y">',
        '<a href=" JaVa\tScRiPt:alert(1)">x</a>',
        '<a href="&#x6A;avascript:alert(1)">x</a>',
        '<img src="data:image/png;base64,AA">',
        "<svg></svg>",
        "<iframe></iframe>",
        "<style></style>",
    ):
        assert inertness_problems(live), live


async def test_the_xss_corpus_renders_inert_in_a_new_reports_vulnerability_information(
    client: httpx.AsyncClient, world: World
) -> None:
    assert len(XSS_PAYLOADS) >= 30
    for payload in XSS_PAYLOADS:
        response = await client.post(
            "/v1/reports",
            json={
                "data": {
                    "type": "report",
                    "attributes": {
                        "team_handle": world.program.handle,
                        "title": "xss",
                        "vulnerability_information": payload,
                        "impact": payload,
                        "source": "api",
                    },
                }
            },
            auth=world.admin.auth,
        )
        assert response.status_code == 201, response.text
        html = response.json()["data"]["attributes"]["vulnerability_information_html"]
        assert_inert(html, payload, "POST /reports vulnerability_information+impact")
        assert "<h2>Impact</h2>" in html


async def test_the_xss_corpus_renders_inert_in_comments_and_state_change_messages(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    report = await open_report(session, world)
    for payload in XSS_PAYLOADS:
        created = await comment(client, world.admin, report, payload)
        assert_inert(created["attributes"]["message_html"], payload, "comment message")
        changed = await client.post(
            f"/v1/reports/{report.id}/state_changes",
            json={
                "data": {
                    "type": "state-change",
                    "attributes": {"state": "triaged", "message": payload},
                }
            },
            auth=world.admin.auth,
        )
        assert changed.status_code == 201, changed.text
        newest = changed.json()["data"]["relationships"]["activities"]["data"][0]
        assert newest["type"] == "activity-bug-triaged"
        assert newest["attributes"]["message"] == payload
        assert_inert(newest["attributes"]["message_html"], payload, "state change message")
    for activity in await feed(client, world.admin, world.program):
        assert_inert(activity["attributes"]["message_html"], "(feed)", "incremental feed")


async def test_the_xss_corpus_renders_inert_in_summaries_and_updated_vulnerability_information(
    session: AsyncSession, client: httpx.AsyncClient, world: World
) -> None:
    report = await open_report(session, world)
    for payload in XSS_PAYLOADS:
        summary = await summarize(client, world.admin, report, payload)
        assert_inert(summary["attributes"]["content_html"], payload, "summary content")
        updated = await client.put(
            f"/v1/reports/{report.id}/vulnerability_information",
            json={
                "data": {
                    "type": "report-vulnerability-information",
                    "attributes": {"vulnerability_information": payload},
                }
            },
            auth=world.admin.auth,
        )
        assert updated.status_code == 200, updated.text
        attributes = updated.json()["data"]["attributes"]
        assert_inert(
            attributes["vulnerability_information_html"], payload, "PUT vulnerability_information"
        )
    # Safe Markdown still renders as HTML.
    summary = await summarize(
        client, world.admin, report, "**bold** [site](https://example.com) ![i](https://e.x/a.png)"
    )
    html = summary["attributes"]["content_html"]
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.com"' in html
    assert '<img src="https://e.x/a.png"' in html


# ---- unknown and foreign report ids ------------------------------------------------------------

WRITES: list[tuple[str, str, Json | None]] = [
    ("POST", "bounties", {"data": {"message": "m", "amount": 10}}),
    ("POST", "bounty_suggestions", {"data": {"message": "m", "amount": 10}}),
    ("POST", "swags", {"data": {"message": "m"}}),
    ("PUT", "ineligible_for_bounty", {"data": {"type": "report-ineligible-for-bounty"}}),
    ("POST", "retests", retest_body()),
    ("POST", "retests/approve", retest_body()),
    ("POST", "retests/reject", retest_body(message="no")),
    ("DELETE", "retests/cancel", None),
    ("POST", "disclosure_requests", disclosure_body(substate="full")),
    ("DELETE", "disclosure_requests", None),
    ("PUT", "redact", redact_body("x")),
    ("PUT", "close_comments", {"data": {"type": "activity-comments-closed"}}),
    ("POST", "summaries", {"data": {"type": "report-summary", "attributes": {"content": "c"}}}),
    ("POST", "participants", participant_body(email="a@example.com")),
    ("DELETE", "attachments", None),
]


async def test_every_write_to_an_unknown_or_foreign_report_is_refused_on_report_id(
    session: AsyncSession,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: Clock,
    world: World,
) -> None:
    # Money on the ledger, so a bounty would otherwise go through.
    await fund(session, clock, world.program, 1_000_000)
    for method, action, body in WRITES:
        for report_id in (UNKNOWN_ID, str(world.foreign_report.id), "0", "x1"):
            await assert_refused(
                engine,
                client,
                method,
                f"/v1/reports/{report_id}/{action}",
                status=400,
                parameter="report_id",
                case=f"{method} {action} on report {report_id}:",
                json=body,
                auth=world.admin.auth,
            )


async def test_reading_suggestions_of_an_unknown_or_foreign_report_is_forbidden(
    client: httpx.AsyncClient, world: World
) -> None:
    for report_id in (UNKNOWN_ID, world.foreign_report.id):
        response = await client.get(
            f"/v1/reports/{report_id}/bounty_suggestions", auth=world.admin.auth
        )
        assert response.status_code == 403, response.text


async def test_a_bounty_awarded_in_the_request_is_in_its_webhook_payload(
    session: AsyncSession, client: httpx.AsyncClient, clock: Clock, world: World
) -> None:
    """The locked read found no bounty; the award writes one in the same transaction, so the
    payload asks again which rare children the report has (reports/repository.py)."""
    await fund(session, clock, world.program, 100_000)
    report = await open_report(session, world)
    await make_webhook(session, world.program, url="https://hooks.example.com/in")

    response = await client.post(
        f"/v1/reports/{report.id}/bounties",
        json={"data": {"type": "bounty", "attributes": {"message": "Nice", "amount": 100}}},
        auth=world.admin.auth,
    )

    assert response.status_code == 201, response.text
    bodies = list(await session.scalars(select(WebhookDelivery.body)))
    assert bodies
    for body in bodies:
        bounties = orjson.loads(body)["data"]["report"]["relationships"]["bounties"]["data"]
        assert [b["id"] for b in bounties] == [response.json()["data"]["id"]]
