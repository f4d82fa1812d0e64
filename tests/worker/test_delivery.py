"""Delivery end to end: real events through the API, a real receiver on loopback that checks
signatures as HackerOne's documentation shows, retries, give-ups, auto-disable, an outage."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bountybox import events
from bountybox.config import Settings
from bountybox.core.auth import Actor, TokenKind
from bountybox.core.clock import Clock
from bountybox.db.models import (
    CustomFieldAttribute,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryAttempt,
)
from bountybox.domains.billing import service as billing
from bountybox.domains.webhooks.schemas import ACTIVITY_EVENTS, WebhookEvent
from bountybox.worker.delivery import DeliveryWorker, sign
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
from tests.worker.conftest import comment_number, produce_comments
from tests.worker.receiver import Receiver, verify_like_hackerone_docs

VECTOR_BODY = (
    b'{"data":{"activity":{"id":"1337","type":"activity-comment","attributes":'
    b'{"message":"Comment!","internal":false}},"report":{"id":"1","type":"report"}}}'
)


def test_signatures_match_the_published_test_vectors() -> None:
    assert len(VECTOR_BODY) == 150
    assert sign("s3cr3t", VECTOR_BODY) == (
        "sha256=0edaf54efb602399ff96dd706a90fb2c53a127fbec009b512d957e07607f0359"
    )
    assert sign("", VECTOR_BODY) == (
        "sha256=8406e96fc4a75fafad55f6323c7753378addefa69454eb45c2914ef70b2743e2"
    )
    headers = {"x-h1-signature": sign("s3cr3t", VECTOR_BODY)}
    assert verify_like_hackerone_docs("s3cr3t", headers, VECTOR_BODY) == 200
    assert verify_like_hackerone_docs("other", headers, VECTOR_BODY) == 401


async def deliveries(session: AsyncSession) -> list[WebhookDelivery]:
    # A fresh snapshot: an open SQLite read transaction would keep showing the old rows.
    await session.commit()
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id)
    return list(await session.scalars(stmt.execution_options(populate_existing=True)))


async def attempts(session: AsyncSession) -> list[WebhookDeliveryAttempt]:
    await session.commit()
    stmt = select(WebhookDeliveryAttempt).order_by(WebhookDeliveryAttempt.id)
    return list(await session.scalars(stmt))


async def until_settled(worker: DeliveryWorker, session: AsyncSession, timeout: float = 10) -> None:
    """Runs the worker until nothing is pending (retries included)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while pending := [d for d in await deliveries(session) if d.state == "pending"]:
        assert loop.time() < deadline, [(d.event, d.attempt_count, d.last_status) for d in pending]
        await worker.deliver_due()
        await asyncio.sleep(0.02)


# ---- every event, end to end ----


async def test_every_event_arrives_signed_and_passes_a_hackerone_style_receiver(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    worker: DeliveryWorker,
    receiver: Receiver,
) -> None:
    org = await make_org(session)
    program = await make_program(session, org, handle="acme")
    hacker = await make_user(session, username="hacker1")
    triager = await make_member(session, org, username="triager")
    team = await make_group(
        session, org, name="Team", permissions=["report_management"], programs=[program]
    )
    await make_group(
        session, org, permissions=["report_management"], programs=[program], users=[triager]
    )
    token = await make_token(session, org)
    await make_webhook(session, program, url=receiver.url, secret="s3cr3t")
    field = CustomFieldAttribute(
        program_id=program.id,
        label="Ticket",
        field_type="Text",
        internal=False,
        required=False,
        created_at=T0,
        updated_at=T0,
    )
    session.add(field)
    await billing.top_up(session, clock, program=program, amount_cents=1_000_000)
    await session.commit()
    main = await make_report(session, program, reporter=hacker)
    other = await make_report(session, program, reporter=hacker)
    agreed = await make_report(
        session, program, reporter=hacker, state="resolved", reporter_agreed_on_going_public_at=T0
    )

    async def call(method: str, path: str, body: dict[str, Any] | None = None) -> None:
        response = await client.request(method, path, json=body, auth=token.auth)
        assert response.status_code < 300, (path, response.text)

    def attributes(**values: Any) -> dict[str, Any]:
        return {"data": {"attributes": values}}

    async def state(report_id: int, new: str, **extra: Any) -> None:
        await call(
            "POST",
            f"/v1/reports/{report_id}/state_changes",
            {"data": {"type": "state-change", "attributes": {"state": new, **extra}}},
        )

    r = f"/v1/reports/{main.id}"
    await call(
        "POST",
        "/v1/reports",
        {
            "data": {
                "type": "report",
                "attributes": {
                    "team_handle": "acme",
                    "title": "Imported",
                    "vulnerability_information": "v",
                    "impact": "i",
                    "source": "import",
                },
            }
        },
    )
    await call(
        "POST",
        f"{r}/activities",
        {"data": {"type": "activity-comment", "attributes": {"message": "c", "internal": False}}},
    )
    await state(main.id, "triaged")
    await state(main.id, "needs-more-info", message="more please")
    await state(main.id, "new")
    await call("PUT", f"{r}/assignee", {"data": {"type": "group", "id": team.id}})
    await call("PUT", f"{r}/assignee", {"data": {"type": "user", "id": triager.id}})
    await call(
        "POST",
        f"{r}/custom_field_values",
        attributes(custom_field_attribute_id=field.id, value="JIRA-1"),
    )
    await call("POST", f"{r}/bounty_suggestions", attributes(message="worth it", amount="100"))
    await call("POST", f"{r}/bounties", attributes(message="thanks", amount="100"))
    await call("POST", f"{r}/swags", attributes(message="a shirt"))
    await call("PUT", f"{r}/ineligible_for_bounty")
    await state(main.id, "resolved")
    await state(main.id, "triaged")
    await state(main.id, "resolved")
    await call("POST", f"{r}/retests", attributes(message="please retest"))
    await call("POST", f"{r}/retests/reject", attributes(message="still broken"))
    await call("POST", f"{r}/retests", attributes())
    await call("POST", f"{r}/retests/approve", attributes())
    await call("PUT", f"{r}/close_comments")
    await call("POST", f"{r}/disclosure_requests", attributes(substate="full"))
    await call("POST", f"/v1/reports/{agreed.id}/disclosure_requests", attributes(substate="full"))
    await state(other.id, "duplicate", message="dup", original_report_id=main.id)
    for closed in ("informative", "spam", "not-applicable"):
        await state(other.id, "new")
        await state(other.id, closed, message="closing")

    # Operations bountybox does not offer yet fire their events through emit() like any other.
    hacker_actor = Actor(token_id=0, user_id=hacker.id, kind=TokenKind.HACKER)
    by_api = {e.value for e in WebhookEvent} - {
        "report_prioritised",
        "report_retest_user_completed",
        "report_retest_user_expired",
        "report_retest_user_left",
        "report_manually_disclosed",
        "report_undisclosed",
        "program_hacker_joined",
        "program_hacker_left",
    }
    async with sessions() as writer, writer.begin():
        for activity_type, event in ACTIVITY_EVENTS.items():
            if event.value in by_api:
                continue
            program_event = event.value.startswith("program_")
            await events.emit(
                writer,
                clock,
                type=activity_type,
                program_id=program.id,
                report_id=None if program_event else main.id,
                actor=hacker_actor,
                refs={"program": program.id} if program_event else None,
                extra={"high_priority": True} if event.value == "report_prioritised" else None,
            )

    await until_settled(worker, session)
    assert all(r.status == 200 for r in receiver.received), [
        (r.event, r.status) for r in receiver.received if r.status != 200
    ]
    assert {r.event for r in receiver.received} == {e.value for e in WebhookEvent}
    assert len({r.guid for r in receiver.received}) == len(receiver.received)
    for received in receiver.received:
        assert received.headers["content-type"] == "application/json"
        assert received.headers["x-h1-signature"] == sign("s3cr3t", received.body)
        assert len(received.headers["x-h1-delivery"]) == 36
        data = received.json()["data"]
        assert ACTIVITY_EVENTS[data["activity"]["type"]].value == received.event
        if received.event.startswith("program_"):
            assert "report" not in data
        else:
            assert data["report"]["type"] == "report"
            assert data["report"]["relationships"]["program"]["data"]["attributes"]["handle"] == (
                "acme"
            )
    became_public = next(r for r in receiver.received if r.event == "report_became_public")
    assert became_public.json()["data"]["report"]["attributes"]["disclosed_at"] is not None


# ---- failures ----


async def test_a_failed_attempt_is_retried_after_a_backoff_and_every_attempt_is_recorded(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    worker: DeliveryWorker,
    receiver: Receiver,
) -> None:
    org = await make_org(session)
    program = await make_program(session, org)
    hacker = await make_user(session)
    hook = await make_webhook(session, program, url=receiver.url, secret="s3cr3t")
    report = await make_report(session, program, reporter=hacker)
    receiver.statuses = [503, 200]
    receiver.response_body = b"x" * 50_000
    await produce_comments(sessions, clock, report.id, hacker.id, 2)

    assert await worker.deliver_due() == 1
    first, second = await deliveries(session)
    assert first.state == "pending"
    assert first.attempt_count == 1
    assert first.last_status == 503
    assert first.next_attempt_at is not None
    assert first.next_attempt_at > first.created_at
    # Strictly in order: the second waits behind the first.
    assert second.attempt_count == 0
    assert await worker.deliver_due() == 0

    await until_settled(worker, session)
    assert [r.json()["data"]["activity"]["attributes"]["message"] for r in receiver.ok] == [
        "comment 0",
        "comment 1",
    ]
    assert receiver.received[0].guid == receiver.received[1].guid  # a retry, not a new delivery
    failed, succeeded, _ = await attempts(session)
    assert failed.success is False
    assert failed.response_status == 503
    assert failed.response_truncated is True
    assert len(failed.response_body or "") == 16 * 1024
    assert failed.request_headers["x-h1-event"] == "report_comment_created"
    assert failed.request_headers["x-h1-signature"].startswith("sha256=")
    assert failed.worker == worker.owner
    assert succeeded.success is True
    assert succeeded.duration_ms >= 0

    token = await make_token(session, org)
    listed = await client.get(
        f"/v1/programs/{program.id}/webhooks/{hook.id}/deliveries", auth=token.auth
    )
    newest_first = listed.json()["data"]
    assert [d["attributes"]["state"] for d in newest_first] == ["delivered", "delivered"]
    oldest = newest_first[1]
    assert oldest["attributes"]["attempt_count"] == 2
    assert [
        a["attributes"]["response_status"] for a in oldest["relationships"]["attempts"]["data"]
    ] == [200, 503]
    assert orjson.loads(oldest["attributes"]["request_body"]) == receiver.ok[0].json()
    hook_now = await client.get(f"/v1/programs/{program.id}/webhooks/{hook.id}", auth=token.auth)
    assert hook_now.json()["data"]["attributes"]["consecutive_failures"] == 0


async def test_redirects_are_not_followed_and_timeouts_are_recorded(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    worker: DeliveryWorker,
    receiver: Receiver,
) -> None:
    org = await make_org(session)
    program = await make_program(session, org)
    hacker = await make_user(session)
    await make_webhook(session, program, url=receiver.url, secret="s3cr3t")
    report = await make_report(session, program, reporter=hacker)
    receiver.statuses = [302]
    receiver.extra_headers = {"Location": receiver.url + "/elsewhere"}
    await produce_comments(sessions, clock, report.id, hacker.id, 1)
    await worker.deliver_due()
    assert [r.path for r in receiver.received] == ["/hooks/hackerone"]
    [redirected] = await attempts(session)
    assert redirected.success is False
    assert redirected.response_status == 302

    worker.timeout = 0.2
    receiver.statuses = []
    receiver.delay = 1.0
    # Past the longest backoff (0.6 s here), so the retry is due at once on a busy machine.
    clock.advance(dt.timedelta(seconds=1))
    for _ in range(100):  # until the retry is due
        await worker.deliver_due()
        if len(await attempts(session)) == 2:
            break
        await asyncio.sleep(0.05)
    _, timed_out = await attempts(session)
    assert timed_out.error == "timed out after 0.2 s"
    assert timed_out.response_status is None


async def test_a_delivery_past_the_maximum_age_is_given_up_and_the_next_one_goes_out(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    worker: DeliveryWorker,
    receiver: Receiver,
    settings: Settings,
) -> None:
    org = await make_org(session)
    program = await make_program(session, org)
    hacker = await make_user(session)
    await make_webhook(session, program, url=receiver.url, secret="s3cr3t")
    report = await make_report(session, program, reporter=hacker)
    await produce_comments(sessions, clock, report.id, hacker.id, 1)
    clock.advance(dt.timedelta(seconds=settings.webhooks_max_age_seconds + 1))
    await produce_comments(sessions, clock, report.id, hacker.id, 1, start=1)
    receiver.statuses = [500, 200]
    await until_settled(worker, session)
    old, new = await deliveries(session)
    assert (old.state, old.attempt_count, old.completed_at is not None) == ("failed", 1, True)
    assert (new.state, new.attempt_count) == ("delivered", 1)


async def test_repeated_failures_deactivate_the_webhook_and_keep_its_queue(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    receiver: Receiver,
    settings: Settings,
) -> None:
    org = await make_org(session)
    program = await make_program(session, org)
    hacker = await make_user(session)
    hook = await make_webhook(session, program, url=receiver.url, secret="s3cr3t")
    report = await make_report(session, program, reporter=hacker)
    await produce_comments(sessions, clock, report.id, hacker.id, 2)
    receiver.statuses = [500]
    strict = settings.model_copy(
        update={"webhooks_disable_after_failures": 3, "webhooks_backoff_seconds": 0}
    )
    worker = DeliveryWorker(sessions, strict, clock)
    try:
        for _ in range(5):
            await worker.deliver_due()
    finally:
        await worker.client.aclose()
    assert len(receiver.received) == 3
    row = await session.scalar(
        select(Webhook).where(Webhook.id == hook.id).execution_options(populate_existing=True)
    )
    assert row is not None
    assert (row.active, row.disabled_reason, row.consecutive_failures) == (
        False,
        "consecutive_failures",
        3,
    )
    assert [d.state for d in await deliveries(session)] == ["pending", "pending"]
    # A disabled webhook gets no new deliveries.
    await produce_comments(sessions, clock, report.id, hacker.id, 1, start=2)
    assert len(await deliveries(session)) == 2


# ---- outage ----


async def test_after_an_outage_all_500_events_arrive_in_order_and_once(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    worker: DeliveryWorker,
    receiver: Receiver,
) -> None:
    org = await make_org(session)
    program = await make_program(session, org)
    hacker = await make_user(session)
    await make_webhook(session, program, url=receiver.url, secret="s3cr3t")
    report = await make_report(session, program, reporter=hacker)
    await receiver.stop()
    worker.start()
    try:
        await produce_comments(sessions, clock, report.id, hacker.id, 500)
        await asyncio.sleep(0.3)
        assert receiver.received == []
        await receiver.start()
        received = await receiver.wait_for(500, timeout=60)
    finally:
        await worker.stop()
    assert [comment_number(r.json()) for r in received] == list(range(500))
    assert len({r.guid for r in received}) == 500
    assert all(r.headers["x-h1-signature"] == sign("s3cr3t", r.body) for r in received)
    failed = [a for a in await attempts(session) if not a.success]
    assert failed, "the outage was noticed"
    assert all("Connect" in (a.error or "") for a in failed)


async def test_webhooks_of_one_program_do_not_wait_for_each_other(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    worker: DeliveryWorker,
    receiver: Receiver,
) -> None:
    count = 3
    org = await make_org(session)
    program = await make_program(session, org)
    hacker = await make_user(session)
    down = await Receiver().start()
    await down.stop()
    await make_webhook(session, program, url=down.url)
    await make_webhook(session, program, url=receiver.url, secret="s3cr3t")
    report = await make_report(session, program, reporter=hacker)
    await produce_comments(sessions, clock, report.id, hacker.id, count)
    await worker.deliver_due()
    assert len(receiver.ok) == count
    states = [d.state for d in await deliveries(session)]
    assert states.count("delivered") == count
    assert states.count("pending") == count
