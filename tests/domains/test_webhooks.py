"""Webhook management API, and the transactional outbox that emit() feeds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox import events
from bountybox.config import Settings
from bountybox.core.auth import Actor, ProgramPermission, TokenKind
from bountybox.core.clock import Clock
from bountybox.db.engine import session_factory
from bountybox.db.models import AuditLogItem, Webhook, WebhookDelivery
from bountybox.domains.reports.repository import load_report_for_write
from bountybox.domains.webhooks.repository import claim_webhooks, subscribed_webhook_ids
from bountybox.domains.webhooks.service import configure_sessions, delivery_row
from tests.builders import (
    T0,
    make_group,
    make_member,
    make_org,
    make_program,
    make_report,
    make_token,
    make_user,
    make_webhook,
)
from tests.conftest import PG_URL, QueryCounter

HOOK = "http://127.0.0.1:9/hooks"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"webhooks_allow_private": True, "public_url": "https://bounty.example"}
    )


@pytest.fixture
async def world(session: AsyncSession) -> dict[str, Any]:
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


async def deliveries(session: AsyncSession) -> list[WebhookDelivery]:
    # A fresh snapshot: an open SQLite read transaction would keep showing the old rows.
    await session.commit()
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id)
    return list(await session.scalars(stmt.execution_options(populate_existing=True)))


def hook_body(url: str = HOOK, **attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "webhook", "attributes": {"url": url, **attributes}}}


async def comment(client: httpx.AsyncClient, world: dict[str, Any], report_id: int) -> Any:
    response = await client.post(
        f"/v1/reports/{report_id}/activities",
        auth=world["token"].auth,
        json={
            "data": {"type": "activity-comment", "attributes": {"message": "hi", "internal": True}}
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


# ---- management ----


async def test_webhooks_are_created_listed_changed_and_deleted_without_showing_the_secret(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    base = f"/v1/programs/{world['program'].id}/webhooks"
    auth = world["token"].auth
    created = await client.post(
        base,
        auth=auth,
        json=hook_body(secret="s3cr3t", events=["report_triaged", "report_triaged"]),
    )
    assert created.status_code == 201, created.text
    hook = created.json()["data"]
    assert hook["type"] == "webhook"
    assert hook["attributes"]["events"] == ["report_triaged"]
    assert hook["attributes"]["has_secret"] is True
    assert hook["attributes"]["active"] is True
    assert "s3cr3t" not in created.text

    listed = (await client.get(base, auth=auth)).json()
    assert [h["id"] for h in listed["data"]] == [hook["id"]]
    assert "s3cr3t" not in str(listed)
    audited = list(await session.scalars(select(AuditLogItem.parameters)))
    assert audited
    assert "s3cr3t" not in str(audited)

    changed = await client.put(
        f"{base}/{hook['id']}",
        auth=auth,
        json={"data": {"type": "webhook", "attributes": {"secret": None, "events": []}}},
    )
    assert changed.status_code == 200, changed.text
    attributes = changed.json()["data"]["attributes"]
    assert attributes["has_secret"] is False
    assert attributes["events"] == []
    assert attributes["url"] == HOOK

    patched = await client.patch(
        f"{base}/{hook['id']}", auth=auth, json={"data": {"attributes": {"active": False}}}
    )
    assert patched.json()["data"]["attributes"]["active"] is False
    assert (await client.get(f"{base}/{hook['id']}", auth=auth)).status_code == 200

    deleted = await client.delete(f"{base}/{hook['id']}", auth=auth)
    assert deleted.status_code == 204
    assert (await client.get(f"{base}/{hook['id']}", auth=auth)).status_code == 404


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        (hook_body(events=["report_exploded"]), "events"),
        (hook_body("ftp://example.com/x"), "url"),
        (hook_body("not a url"), "url"),
        (hook_body(active="yes"), "active"),
        ({"data": {"type": "webhook", "attributes": {}}}, "url"),
    ],
)
async def test_invalid_webhooks_are_refused_with_the_parameter_named(
    client: httpx.AsyncClient, world: dict[str, Any], body: dict[str, Any], parameter: str
) -> None:
    response = await client.post(
        f"/v1/programs/{world['program'].id}/webhooks", auth=world["token"].auth, json=body
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["source"] == {"parameter": parameter}


async def test_managing_webhooks_needs_program_management(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    program = world["program"]
    member = await make_member(session, world["org"])
    triagers = await make_group(
        session,
        world["org"],
        permissions=[ProgramPermission.REPORT_MANAGEMENT.value],
        programs=[program],
        users=[member],
    )
    triager = await make_token(session, world["org"], groups=[triagers])
    hook = await make_webhook(session, program, url=HOOK)
    for method, path in [
        ("GET", f"/v1/programs/{program.id}/webhooks"),
        ("POST", f"/v1/programs/{program.id}/webhooks"),
        ("GET", f"/v1/programs/{program.id}/webhooks/{hook.id}"),
        ("DELETE", f"/v1/programs/{program.id}/webhooks/{hook.id}"),
        ("GET", f"/v1/programs/{program.id}/webhooks/{hook.id}/deliveries"),
        ("POST", f"/v1/programs/{program.id}/webhooks/{hook.id}/test"),
    ]:
        response = await client.request(
            method, path, auth=triager.auth, json=hook_body() if method == "POST" else None
        )
        assert response.status_code == 403, (method, path, response.text)


async def test_other_organizations_webhooks_answer_like_missing_ones(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    foreign_hook = await make_webhook(session, world["foreign"], url=HOOK)
    auth = world["token"].auth
    foreign_program = await client.get(f"/v1/programs/{world['foreign'].id}/webhooks", auth=auth)
    missing_program = await client.get("/v1/programs/999999/webhooks", auth=auth)
    assert foreign_program.status_code == missing_program.status_code == 403
    assert foreign_program.json() == missing_program.json()
    # Another program's webhook id, under a program the token manages: like an unknown id.
    under_own = await client.get(
        f"/v1/programs/{world['program'].id}/webhooks/{foreign_hook.id}", auth=auth
    )
    unknown = await client.get(f"/v1/programs/{world['program'].id}/webhooks/999999", auth=auth)
    assert under_own.status_code == unknown.status_code == 404
    assert under_own.json() == unknown.json()


async def test_reactivating_a_disabled_webhook_starts_it_afresh(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    hook = await make_webhook(session, world["program"], url=HOOK, active=False)
    hook.consecutive_failures = 100
    hook.disabled_reason = "consecutive_failures"
    hook.disabled_at = T0
    await session.commit()
    response = await client.put(
        f"/v1/programs/{world['program'].id}/webhooks/{hook.id}",
        auth=world["token"].auth,
        json={"data": {"attributes": {"active": True}}},
    )
    attributes = response.json()["data"]["attributes"]
    assert attributes["active"] is True
    assert attributes["consecutive_failures"] == 0
    assert attributes["disabled_reason"] is None
    assert attributes["disabled_at"] is None


# ---- the outbox ----


async def test_without_active_webhooks_a_write_pays_no_query_and_renders_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: dict[str, Any],
    query_counter: QueryCounter,
) -> None:
    """The write's locked read of its report brings the program's active webhooks along."""
    await make_webhook(session, world["program"], url=HOOK, active=False)
    report = await make_report(session, world["program"], reporter=world["hacker"])
    query_counter.statements.clear()
    await comment(client, world, report.id)
    webhook_queries = [s for s in query_counter.statements if "webhook" in s]
    assert len(webhook_queries) == 1
    assert webhook_queries[0].lstrip().startswith("SELECT reports.")
    assert await deliveries(session) == []


async def test_a_recorded_event_writes_one_delivery_per_subscribed_active_webhook(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    program = world["program"]
    everything = await make_webhook(session, program, url=HOOK)
    comments = await make_webhook(session, program, url=HOOK, events=["report_comment_created"])
    await make_webhook(session, program, url=HOOK, events=["report_triaged"])
    await make_webhook(session, program, url=HOOK, active=False)
    await make_webhook(session, world["foreign"], url=HOOK)
    report = await make_report(session, program, reporter=world["hacker"])

    await comment(client, world, report.id)

    rows = await deliveries(session)
    assert sorted(r.webhook_id for r in rows) == [everything.id, comments.id]
    assert {r.event for r in rows} == {"report_comment_created"}
    assert rows[0].body == rows[1].body
    assert rows[0].guid != rows[1].guid
    assert {r.state for r in rows} == {"pending"}


async def test_payloads_are_the_api_documents_as_of_the_commit(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    program = world["program"]
    await make_webhook(session, program, url=HOOK)
    report = await make_report(session, program, reporter=world["hacker"], rating="high")
    activity = (await comment(client, world, report.id))["data"]

    [row] = await deliveries(session)
    body = orjson.loads(row.body)
    assert list(body) == ["data"]
    assert list(body["data"]) == ["activity", "report"]
    assert body["data"]["activity"] == activity
    listed = await client.get(
        "/v1/reports", params={"filter[program][]": "acme"}, auth=world["token"].auth
    )
    assert body["data"]["report"] == listed.json()["data"][0]
    # The report moved with the comment; the payload shows it after the change, not before.
    assert (
        body["data"]["report"]["attributes"]["last_activity_at"]
        == (activity["attributes"]["created_at"])
    )
    assert row.activity_id == int(activity["id"])
    assert row.report_id == report.id


async def test_attachments_claimed_after_the_activity_are_in_the_payload_with_public_links(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    program = world["program"]
    await make_webhook(session, program, url=HOOK)
    report = await make_report(session, program, reporter=world["hacker"])
    uploaded = await client.post(
        "/v1/reports/attachments",
        auth=world["token"].auth,
        files={"file": ("poc.txt", b"proof", "text/plain")},
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment_id = int(uploaded.json()["data"]["id"])
    response = await client.post(
        f"/v1/reports/{report.id}/activities",
        auth=world["token"].auth,
        json={
            "data": {
                "type": "activity-comment",
                "attributes": {
                    "message": "see file",
                    "internal": False,
                    "attachment_ids": [attachment_id],
                },
            }
        },
    )
    assert response.status_code == 201, response.text
    [row] = await deliveries(session)
    [attachment] = orjson.loads(row.body)["data"]["activity"]["relationships"]["attachments"][
        "data"
    ]
    assert attachment["attributes"]["file_name"] == "poc.txt"
    assert attachment["attributes"]["expiring_url"].startswith(
        f"https://bounty.example/attachments/{attachment_id}/poc.txt?expires="
    )


async def test_a_rolled_back_write_queues_nothing(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    program = world["program"]
    await make_webhook(session, program, url=HOOK)
    report = await make_report(session, program, reporter=world["hacker"])
    # The triage activity is recorded, then the unknown attachment fails the request.
    response = await client.post(
        f"/v1/reports/{report.id}/state_changes",
        auth=world["token"].auth,
        json={
            "data": {
                "type": "state-change",
                "attributes": {"state": "triaged", "attachment_ids": [424242]},
            }
        },
    )
    assert response.status_code == 400, response.text
    assert await deliveries(session) == []


async def test_report_creation_sends_report_created_with_an_unstored_bug_filed_activity(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    await make_webhook(session, world["program"], url=HOOK, events=["report_created"])
    created = await client.post(
        "/v1/reports",
        auth=world["token"].auth,
        json={
            "data": {
                "type": "report",
                "attributes": {
                    "team_handle": "acme",
                    "title": "XSS",
                    "vulnerability_information": "details",
                    "impact": "bad",
                    "source": "import",
                    "severity_rating": "high",
                },
            }
        },
    )
    assert created.status_code == 201, created.text
    [row] = await deliveries(session)
    assert row.event == "report_created"
    data = orjson.loads(row.body)["data"]
    assert "id" not in data["activity"]
    assert data["activity"]["type"] == "activity-bug-filed"
    assert data["activity"]["attributes"]["message"] == ""
    report = created.json()["data"]
    assert data["report"]["id"] == report["id"]
    assert data["report"]["relationships"]["severity"]["data"]["attributes"]["rating"] == "high"


async def test_program_events_carry_no_report_and_a_bare_program(
    session: AsyncSession,
    engine: AsyncEngine,
    world: dict[str, Any],
    settings: Settings,
    clock: Clock,
) -> None:
    program, hacker = world["program"], world["hacker"]
    await make_webhook(session, program, url=HOOK)
    sessions = session_factory(engine)
    configure_sessions(sessions, settings)
    async with sessions() as writer, writer.begin():
        await events.emit(
            writer,
            clock,
            type="activity-program-hacker-joined",
            program_id=program.id,
            report_id=None,
            actor=Actor(token_id=0, user_id=hacker.id, kind=TokenKind.HACKER),
            message="Program hacker joined",
            refs={"program": program.id},
        )
    [row] = await deliveries(session)
    assert row.event == "program_hacker_joined"
    data = orjson.loads(row.body)["data"]
    assert list(data) == ["activity"]
    relationships = data["activity"]["relationships"]
    assert relationships["program"]["attributes"]["handle"] == "acme"
    assert relationships["actor"]["data"]["attributes"]["username"] == "hacker1"


async def test_test_requests_and_redeliveries_are_queued_as_new_deliveries(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    program = world["program"]
    hook = await make_webhook(session, program, url=HOOK, secret="k")
    base = f"/v1/programs/{program.id}/webhooks/{hook.id}"
    auth = world["token"].auth
    tested = await client.post(f"{base}/test", auth=auth)
    assert tested.status_code == 201, tested.text
    test_delivery = tested.json()["data"]
    attributes = test_delivery["attributes"]
    assert attributes["event"] == "report_created"
    assert attributes["test"] is True
    assert attributes["state"] == "pending"
    example = orjson.loads(attributes["request_body"])["data"]
    assert example["report"]["id"] == "0"
    assert example["report"]["relationships"]["program"]["data"]["attributes"]["handle"] == "acme"
    assert example["activity"]["type"] == "activity-bug-filed"

    again = await client.post(f"{base}/deliveries/{test_delivery['id']}/redeliver", auth=auth)
    assert again.status_code == 201, again.text
    redelivery = again.json()["data"]["attributes"]
    assert redelivery["request_body"] == attributes["request_body"]
    assert redelivery["guid"] != attributes["guid"]
    assert redelivery["redelivery_of_id"] == test_delivery["id"]

    listed = (await client.get(f"{base}/deliveries", auth=auth)).json()
    assert [d["id"] for d in listed["data"]] == [again.json()["data"]["id"], test_delivery["id"]]
    missing = await client.post(f"{base}/deliveries/999999/redeliver", auth=auth)
    assert missing.status_code == 404

    await client.put(base, auth=auth, json={"data": {"attributes": {"active": False}}})
    refused = await client.post(f"{base}/test", auth=auth)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["source"] == {"parameter": "active"}


async def test_deleting_a_webhook_deletes_its_deliveries(
    client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    program = world["program"]
    hook = await make_webhook(session, program, url=HOOK)
    report = await make_report(session, program, reporter=world["hacker"])
    await comment(client, world, report.id)
    response = await client.delete(
        f"/v1/programs/{program.id}/webhooks/{hook.id}", auth=world["token"].auth
    )
    assert response.status_code == 204
    assert await deliveries(session) == []
    assert await session.scalar(select(func.count()).select_from(Webhook)) == 0


async def test_a_webhook_created_after_the_writes_read_of_its_report_still_gets_the_event(
    session: AsyncSession, engine: AsyncEngine, settings: Settings, world: dict[str, Any]
) -> None:
    """The active webhooks that came with the locked read hold only until the transaction
    writes webhooks."""
    program = world["program"]
    report = await make_report(session, program, reporter=world["hacker"])
    actor = Actor(
        token_id=0,
        user_id=world["hacker"].id,
        kind=TokenKind.ORGANIZATION,
        organization_id=world["org"].id,
        programs={program.id: frozenset(p.value for p in ProgramPermission)},
    )
    sessions = session_factory(engine)
    configure_sessions(sessions, settings)
    async with sessions() as writer, writer.begin():
        locked = await load_report_for_write(writer, actor, str(report.id))
        assert await subscribed_webhook_ids(writer, program.id, "report_comment_created") == []
        hook = await make_webhook(writer, program, url=HOOK, commit=False)
        await events.emit(
            writer,
            Clock(),
            type="activity-comment",
            program_id=program.id,
            report_id=locked.id,
            actor=actor,
            message="hi",
        )
    [row] = await deliveries(session)
    assert (row.webhook_id, row.event) == (hook.id, "report_comment_created")


@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's")
async def test_a_worker_claims_a_webhook_while_a_write_adds_a_delivery_to_it(
    session: AsyncSession, engine: AsyncEngine, world: dict[str, Any]
) -> None:
    """A delivery's foreign-key check shares its webhook's key; the worker's claim must not skip
    the webhook for it, or a steady write load would starve the deliveries."""
    hook = await make_webhook(session, world["program"], url=HOOK)
    session.add(WebhookDelivery(**delivery_row(webhook_id=hook.id, event="e", body="{}", at=T0)))
    await session.commit()
    sessions = session_factory(engine)
    async with sessions() as writer, writer.begin():
        writer.add(WebhookDelivery(**delivery_row(webhook_id=hook.id, event="e", body="{}", at=T0)))
        await writer.flush()
        async with sessions() as worker, worker.begin():
            now = T0 + dt.timedelta(minutes=1)
            until = now + dt.timedelta(minutes=1)
            claimed = await claim_webhooks(worker, owner="w", now=now, until=until, limit=5)
        assert claimed == [hook.id]
        await writer.rollback()
