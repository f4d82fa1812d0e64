"""The data version (db/version.py) moves with every committed write of rendered data and stays
put for reads, rolled-back writes and delivery bookkeeping."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.core.audit import AUDIT_LOG_ITEMS
from bountybox.db.engine import session_factory
from bountybox.db.models import AuditLogItem, Organization, Program, Webhook, WebhookDelivery
from bountybox.db.version import (
    MAX_APPENDED_TOGETHER,
    append_at_commit,
    changes_rendered_data,
    data_version,
    open_writes,
    write_mark,
    written_since,
)
from bountybox.domains.webhooks import repository as webhooks_repository
from bountybox.domains.webhooks.repository import WEBHOOK_DELIVERIES
from bountybox.domains.webhooks.service import delivery_row
from tests.builders import T0, make_org, make_program, make_webhook
from tests.conftest import PG_URL


async def version(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        value = (await conn.execute(select(data_version()))).scalar_one()
    assert isinstance(value, str)
    return value


async def test_a_committed_write_moves_the_version_and_reads_do_not(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        org = await make_org(session)
    before = await version(engine)
    async with session_factory(engine)() as session, session.begin():
        assert await session.scalar(select(Organization.name).where(Organization.id == org.id))
    assert await version(engine) == before

    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(Organization).where(Organization.id == org.id).values(name="Renamed")
        )
    after = await version(engine)
    assert int(after) == int(before) + 1
    # Raw SQL on a connection counts as well.
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"UPDATE organizations SET name = 'Again' WHERE id = {org.id}")
    assert int(await version(engine)) == int(after) + 1


async def test_rolled_back_writes_and_delivery_bookkeeping_leave_the_version(
    engine: AsyncEngine,
) -> None:
    async with session_factory(engine)() as session:
        org = await make_org(session)
    before = await version(engine)
    async with session_factory(engine)() as session:
        await session.execute(
            update(Organization).where(Organization.id == org.id).values(name="Never")
        )
        await session.rollback()
    assert await version(engine) == before
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DELETE FROM webhook_delivery_attempts WHERE id = -1")
        await conn.exec_driver_sql("UPDATE webhooks SET active = active WHERE id = -1")
    assert await version(engine) == before
    async with session_factory(engine)() as session:
        name = await session.scalar(select(Organization.name).where(Organization.id == org.id))
    assert name != "Never"


@pytest.mark.parametrize(
    ("statement", "changes"),
    [
        ("SELECT * FROM reports FOR UPDATE", False),
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
        ("EXPLAIN SELECT 1", False),
        ("PRAGMA foreign_keys=ON", False),
        ("SET LOCAL statement_timeout = 0", False),
        ('INSERT INTO "reports" (id) VALUES (1)', True),
        ("  update reports SET title = 'x'", True),
        ("DELETE FROM activities", True),
        ("INSERT OR REPLACE INTO users (id) VALUES (1)", True),
        ("WITH x AS (UPDATE reports SET title = 'x' RETURNING id) SELECT 1", True),
        ("CREATE TABLE t (a int)", False),
        ("DROP SCHEMA test_x CASCADE", False),
        ("TRUNCATE reports", True),
        ("INSERT INTO webhook_deliveries (id) VALUES (1)", False),
        ("UPDATE webhooks SET lease_owner = NULL", False),
        ("INSERT INTO mail_outbox (id) VALUES (1)", False),
    ],
)
def test_which_statements_change_rendered_data(statement: str, changes: bool) -> None:
    assert changes_rendered_data(statement) is changes


async def test_a_transaction_tells_which_tables_it_wrote_since_a_mark(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        org = await make_org(session)
    async with engine.connect() as conn:
        async with conn.begin():
            await conn.exec_driver_sql(f"UPDATE organizations SET name = 'a' WHERE id = {org.id}")
            mark = write_mark(conn.info)
            assert written_since(conn.info, mark) == set()
            await conn.exec_driver_sql("SELECT 1")
            await conn.exec_driver_sql("DELETE FROM bounties WHERE id = -1")
            await conn.exec_driver_sql("UPDATE webhooks SET active = active WHERE id = -1")
            assert written_since(conn.info, mark) == {"bounties", "webhooks"}
        # The transaction ended: the mark holds no longer.
        async with conn.begin():
            assert written_since(conn.info, mark) is None


def audit_row(organization_id: int, event: str) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "program_id": None,
        "source_user_id": None,
        "event": event,
        "source": "User#1",
        "subject": f"Organization#{organization_id}",
        "log": event,
        "parameters": {"n": event},
        "user_agent": None,
        "source_ip": None,
        "country": None,
        "created_at": T0,
    }


@pytest.mark.parametrize("rows", [1, 3, MAX_APPENDED_TOGETHER + 1])
async def test_appended_rows_are_written_at_commit_in_order_with_the_version(
    engine: AsyncEngine, rows: int
) -> None:
    """On PostgreSQL up to MAX_APPENDED_TOGETHER go in one statement, more are inserted table by
    table; either way they land in the order appended, and the version moves once."""
    async with session_factory(engine)() as session:
        org = await make_org(session)
    before = await version(engine)
    events = [f"event.{n}" for n in range(rows)]
    async with session_factory(engine)() as session, session.begin():
        info = await open_writes(session)
        append_at_commit(info, AUDIT_LOG_ITEMS, [audit_row(org.id, e) for e in events[:1]])
        append_at_commit(info, AUDIT_LOG_ITEMS, [audit_row(org.id, e) for e in events[1:]])
        # Not written before the commit.
        assert await session.scalar(select(func.count()).select_from(AuditLogItem)) == 0
    assert int(await version(engine)) == int(before) + 1
    async with session_factory(engine)() as session:
        items = list(await session.scalars(select(AuditLogItem).order_by(AuditLogItem.id)))
    assert [i.event for i in items] == events
    assert items[-1].parameters == {"n": events[-1]}
    assert items[0].created_at == T0


async def test_appended_rows_of_a_rolled_back_transaction_are_never_written(
    engine: AsyncEngine,
) -> None:
    async with session_factory(engine)() as session:
        org = await make_org(session)
    before = await version(engine)
    async with session_factory(engine)() as session:
        async with session.begin():
            append_at_commit(await open_writes(session), AUDIT_LOG_ITEMS, [audit_row(org.id, "x")])
            await session.rollback()
        # The connection's next transaction does not inherit them.
        async with session.begin():
            await session.execute(
                update(Organization).where(Organization.id == org.id).values(name="Next")
            )
    assert int(await version(engine)) == int(before) + 1
    async with session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(AuditLogItem)) == 0


async def test_appending_only_unrendered_rows_leaves_the_version(engine: AsyncEngine) -> None:
    """Webhook deliveries alone (a redelivery) change nothing a response renders."""
    async with session_factory(engine)() as session:
        org = await make_org(session)
        program = await make_program(session, org, handle="acme")
        hook = await make_webhook(session, program, url="https://hooks.example.com/in")
    before = await version(engine)
    async with session_factory(engine)() as session, session.begin():
        row = delivery_row(webhook_id=hook.id, event="report_triaged", body="{}", at=T0)
        append_at_commit(await open_writes(session), WEBHOOK_DELIVERIES, [row])
    assert await version(engine) == before
    async with session_factory(engine)() as session:
        assert await session.scalar(select(WebhookDelivery.event)) == "report_triaged"


async def lock_waited_on(engine: AsyncEngine) -> None:
    """Until another session of this database waits on a lock (each look in a transaction of its
    own: PostgreSQL keeps one snapshot of pg_stat_activity per transaction)."""
    for _ in range(200):
        async with engine.connect() as conn:
            waiting = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no session waited on the locked row")


@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's")
async def test_appended_rows_wait_for_a_locked_row_before_the_counter_is_taken(
    engine: AsyncEngine,
) -> None:
    """An audit item's foreign key waits on a program another writer has locked FOR UPDATE. It
    must wait before its own transaction holds the counter's row, which that writer needs to
    commit: otherwise the two deadlock."""
    async with session_factory(engine)() as session:
        org = await make_org(session)
        program = await make_program(session, org, handle="acme")
        other = await make_org(session)
    program_locked = asyncio.Event()

    async def locking_writer() -> None:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(
                select(Program.id).where(Program.id == program.id).with_for_update()
            )
            program_locked.set()
            await lock_waited_on(engine)
            await session.execute(
                update(Organization).where(Organization.id == org.id).values(name="Locker")
            )

    async def appending_writer() -> None:
        await program_locked.wait()
        async with session_factory(engine)() as session, session.begin():
            await session.execute(
                update(Organization).where(Organization.id == other.id).values(name="Appender")
            )
            row = {**audit_row(org.id, "teams.reports.activities.create"), "program_id": program.id}
            append_at_commit(await open_writes(session), AUDIT_LOG_ITEMS, [row])

    before = await version(engine)
    await asyncio.wait_for(asyncio.gather(locking_writer(), appending_writer()), timeout=20)
    assert int(await version(engine)) == int(before) + 2
    async with session_factory(engine)() as session:
        assert await session.scalar(select(AuditLogItem.program_id)) == program.id


async def two_webhooks(engine: AsyncEngine) -> tuple[int, int, int]:
    """An organization, and two webhooks on its program."""
    async with session_factory(engine)() as session:
        org = await make_org(session)
        program = await make_program(session, org, handle="acme")
        kept = await make_webhook(session, program, url="https://hooks.example.com/kept")
        gone = await make_webhook(session, program, url="https://hooks.example.com/gone")
    return org.id, kept.id, gone.id


async def delete_webhook(session: AsyncSession, webhook_id: int) -> None:
    hook = await session.get(Webhook, webhook_id)
    assert hook is not None
    await webhooks_repository.delete_webhook(session, hook)


def deliveries(kept: int, gone: int, count: int) -> list[dict[str, Any]]:
    """`count` deliveries, every other one to the webhook that goes."""
    return [
        delivery_row(webhook_id=(gone if n % 2 else kept), event=f"e{n}", body="{}", at=T0)
        for n in range(count)
    ]


async def delivered(engine: AsyncEngine) -> list[tuple[int, str]]:
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(WebhookDelivery.webhook_id, WebhookDelivery.event).order_by(WebhookDelivery.id)
        )
        return [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize("count", [2, MAX_APPENDED_TOGETHER + 2])
async def test_deliveries_to_a_webhook_deleted_before_the_commit_are_dropped(
    engine: AsyncEngine, count: int
) -> None:
    """The write that queued them commits, with its other rows (one statement on PostgreSQL up
    to MAX_APPENDED_TOGETHER rows, one per row beyond)."""
    _, kept, gone = await two_webhooks(engine)
    rows = deliveries(kept, gone, count)
    async with session_factory(engine)() as session, session.begin():
        append_at_commit(await open_writes(session), WEBHOOK_DELIVERIES, rows)
        await delete_webhook(session, gone)
    assert await delivered(engine) == [(kept, r["event"]) for r in rows if r["webhook_id"] == kept]


@pytest.mark.skipif(not PG_URL, reason="concurrent writers are PostgreSQL's")
@pytest.mark.parametrize("deletion", ["committed", "in progress"])
async def test_a_webhook_deleted_while_a_write_to_it_is_open_does_not_fail_the_write(
    engine: AsyncEngine, deletion: str
) -> None:
    """Another request deletes the webhook after the write read it and before the write commits
    (or while it commits): the write's delivery to it is dropped, not a foreign-key error."""
    org, kept, gone = await two_webhooks(engine)
    rows = deliveries(kept, gone, 2)
    async with session_factory(engine)() as writer, session_factory(engine)() as deleter:
        await writer.begin()
        info = await open_writes(writer)
        append_at_commit(info, AUDIT_LOG_ITEMS, [audit_row(org, "teams.reports.activities.create")])
        append_at_commit(info, WEBHOOK_DELIVERIES, rows)
        await deleter.begin()
        await delete_webhook(deleter, gone)
        if deletion == "committed":
            await deleter.commit()
            await writer.commit()
        else:
            # The writer's insert waits on the row being deleted, then finds it gone.
            committing = asyncio.create_task(writer.commit())
            await lock_waited_on(engine)
            await deleter.commit()
            await asyncio.wait_for(committing, timeout=20)
    assert await delivered(engine) == [(kept, "e0")]
    async with session_factory(engine)() as session:
        assert await session.scalar(select(AuditLogItem.organization_id)) == org


def test_rows_appended_to_one_table_have_the_same_keys() -> None:
    info: dict[str, object] = {}
    append_at_commit(info, AUDIT_LOG_ITEMS, [audit_row(1, "a")])
    with pytest.raises(ValueError, match="same keys"):
        append_at_commit(info, AUDIT_LOG_ITEMS, [{"event": "b"}])
