"""Every webhook query: the management API's (always under a program the caller manages, so another
program's ids answer like missing ones), the outbox writes, and the delivery worker's claims."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    ScalarSelect,
    Select,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bountybox.core.errors import NotFound
from bountybox.core.jsonapi.query import parse_id
from bountybox.db.models import (
    Program,
    Report,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryAttempt,
)
from bountybox.db.preload import in_session
from bountybox.db.version import (
    append_at_commit,
    kept_while_exists,
    open_writes,
    remember,
    remembered,
)
from bountybox.domains.webhooks.schemas import DeliveryState, DisabledReason

PENDING = DeliveryState.PENDING.value

# ---- the outbox ----


WEBHOOK_DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[assignment]
# A delivery queued by a write whose webhook is deleted before the write commits is dropped.
kept_while_exists(WEBHOOK_DELIVERIES, "webhook_id")
# Recorded activities run it unless their transaction read the program's webhooks already: built
# once (building it per call cost as much as running it).
ACTIVE_WEBHOOKS = select(Webhook.id, Webhook.events).where(
    Webhook.program_id == bindparam("program_id"), Webhook.active.is_(True)
)
WEBHOOK_TABLES = frozenset({"webhooks"})


class _id_and_events(FunctionElement[Any]):
    """The webhooks of a subquery as one JSON array of [id, events] pairs (NULL or [] when
    none)."""

    type = JSON()
    inherit_cache = True


@compiles(_id_and_events, "postgresql")
def _id_and_events_postgresql(element: _id_and_events, compiler: SQLCompiler, **kw: Any) -> str:
    id_, events = (compiler.process(c, **kw) for c in element.clauses)
    return f"json_agg(json_build_array({id_}, {events}))"


@compiles(_id_and_events, "sqlite")
def _id_and_events_sqlite(element: _id_and_events, compiler: SQLCompiler, **kw: Any) -> str:
    id_, events = (compiler.process(c, **kw) for c in element.clauses)
    return f"json_group_array(json_array({id_}, json({events})))"


def active_webhooks_of(program_id: Any) -> ScalarSelect[Any]:
    """For a statement that already reads the program's row (a write's report): its active
    webhooks as one column, a JSON array of [id, events] (read with `webhook_rows`)."""
    return (
        select(_id_and_events(Webhook.id, Webhook.events))
        .where(Webhook.program_id == program_id, Webhook.active.is_(True))
        .scalar_subquery()
    )


def webhook_rows(value: list[list[Any]] | None) -> list[tuple[int, Any]]:
    return [(int(id_), events) for id_, events in value or []]


def keep_active_webhooks(
    session: AsyncSession, info: dict[Any, Any], program_id: int, rows: list[tuple[int, Any]]
) -> None:
    """What a statement of this transaction read of the program's active webhooks (id, events),
    for `subscribed_webhook_ids` until the transaction writes webhooks."""
    remember(session, info, _active_webhooks_key(program_id), rows)


def _active_webhooks_key(program_id: int) -> tuple[str, int]:
    return ("active webhooks", program_id)


async def subscribed_webhook_ids(session: AsyncSession, program_id: int, event: str) -> list[int]:
    """Active webhooks of the program that want the event (an empty list of events wants all).
    One indexed query, or none when the transaction read them already: a program without
    webhooks costs nothing more on the write path."""
    info = await open_writes(session)
    key = _active_webhooks_key(program_id)
    rows: list[tuple[int, Any]] | None = remembered(session, info, key, WEBHOOK_TABLES)
    if rows is None:
        rows = [
            (id_, events)
            for id_, events in await session.execute(ACTIVE_WEBHOOKS, {"program_id": program_id})
        ]
        keep_active_webhooks(session, info, program_id, rows)
    return [id_ for id_, events in rows if not events or event in events]


async def reports_by_id(session: AsyncSession, ids: set[int]) -> list[Report]:
    """The reports of a transaction's events: those the transaction loaded come from the session
    (a comment's webhook payload renders the report its write locked), the rest are read."""
    found, missing = in_session(session, Report, sorted(ids))
    if missing:
        found.update(
            (r.id, r) for r in await session.scalars(select(Report).where(Report.id.in_(missing)))
        )
    return [found[i] for i in sorted(found)]


async def insert_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Written as the transaction commits (nothing reads them back before)."""
    append_at_commit(await open_writes(session), WEBHOOK_DELIVERIES, rows)


# ---- management ----


async def find_program_by_handle(session: AsyncSession, handle: str) -> Program | None:
    """For the operator's CLI, which acts on every organization."""
    return await session.scalar(select(Program).where(Program.handle == handle))


def webhooks_query(program: Program) -> Select[Any]:
    return select(Webhook).where(Webhook.program_id == program.id).order_by(Webhook.id)


async def load_webhook(session: AsyncSession, program: Program, webhook_id: str) -> Webhook:
    wid = parse_id(webhook_id)
    webhook = (
        await session.scalar(
            select(Webhook).where(Webhook.id == wid, Webhook.program_id == program.id)
        )
        if wid is not None
        else None
    )
    if webhook is None:
        raise NotFound("The webhook does not exist.")
    return webhook


async def find_webhook(session: AsyncSession, webhook_id: int) -> Webhook | None:
    """For the operator's CLI."""
    return await session.get(Webhook, webhook_id)


async def delete_webhook(session: AsyncSession, webhook: Webhook) -> None:
    # Explicit rather than ON DELETE CASCADE, so it holds whatever the database enforces.
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook.id)
    await session.execute(
        delete(WebhookDeliveryAttempt).where(WebhookDeliveryAttempt.delivery_id.in_(deliveries))
    )
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    await session.delete(webhook)
    await session.flush()


def deliveries_query(webhook: Webhook) -> Select[Any]:
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id)
        .order_by(WebhookDelivery.id.desc())
    )


async def load_delivery(
    session: AsyncSession, webhook: Webhook, delivery_id: str
) -> WebhookDelivery:
    did = parse_id(delivery_id)
    delivery = (
        await session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.id == did, WebhookDelivery.webhook_id == webhook.id
            )
        )
        if did is not None
        else None
    )
    if delivery is None:
        raise NotFound("The delivery does not exist.")
    return delivery


async def find_delivery(session: AsyncSession, delivery_id: int) -> WebhookDelivery | None:
    """For the operator's CLI."""
    return await session.get(WebhookDelivery, delivery_id)


async def attempts_of(
    session: AsyncSession, delivery_ids: list[int]
) -> dict[int, list[WebhookDeliveryAttempt]]:
    """The attempts of a page of deliveries, newest first, in one query."""
    out: dict[int, list[WebhookDeliveryAttempt]] = defaultdict(list)
    if not delivery_ids:
        return out
    rows = await session.scalars(
        select(WebhookDeliveryAttempt)
        .where(WebhookDeliveryAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookDeliveryAttempt.id.desc())
    )
    for attempt in rows:
        out[attempt.delivery_id].append(attempt)
    return out


# ---- the delivery worker ----


@dataclass(frozen=True)
class Destination:
    webhook_id: int
    url: str
    secret: str
    active: bool
    leased: bool
    consecutive_failures: int


@dataclass(frozen=True)
class QueuedDelivery:
    id: int
    guid: str
    event: str
    body: str
    created_at: dt.datetime
    attempt_count: int


def _claimable(now: dt.datetime) -> Any:
    has_pending = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.webhook_id == Webhook.id, WebhookDelivery.state == PENDING)
        .exists()
    )
    return (
        Webhook.active.is_(True),
        or_(Webhook.lease_owner.is_(None), Webhook.lease_expires_at < now),
        or_(Webhook.retry_at.is_(None), Webhook.retry_at <= now),
        has_pending,
    )


async def any_claimable(session: AsyncSession, now: dt.datetime) -> bool:
    """A plain read, so idle workers never take SQLite's write lock."""
    found = await session.scalar(select(Webhook.id).where(*_claimable(now)).limit(1))
    return found is not None


async def claim_webhooks(
    session: AsyncSession, *, owner: str, now: dt.datetime, until: dt.datetime, limit: int
) -> list[int]:
    """Leases up to `limit` webhooks with due deliveries to `owner`. PostgreSQL skips rows another
    worker is claiming; SQLite runs this under BEGIN IMMEDIATE, so claims are serial there."""
    ids = list(
        await session.scalars(
            select(Webhook.id)
            .where(*_claimable(now))
            # Least recently served first, so no webhook starves.
            .order_by(Webhook.lease_expires_at.asc().nulls_first(), Webhook.id)
            .limit(limit)
            # FOR NO KEY UPDATE: the foreign-key checks of deliveries being written take a key
            # share on their webhook, and a plain FOR UPDATE would skip every webhook under a
            # steady write load.
            .with_for_update(skip_locked=True, key_share=True)
        )
    )
    if ids:
        await session.execute(
            update(Webhook)
            .where(Webhook.id.in_(ids))
            .values(lease_owner=owner, lease_expires_at=until)
        )
    return ids


async def destination(session: AsyncSession, webhook_id: int, owner: str) -> Destination | None:
    row = (
        await session.execute(
            select(
                Webhook.url,
                Webhook.secret,
                Webhook.active,
                Webhook.lease_owner,
                Webhook.consecutive_failures,
            ).where(Webhook.id == webhook_id)
        )
    ).first()
    if row is None:
        return None
    url, secret, active, lease_owner, failures = row
    return Destination(webhook_id, url, secret or "", active, lease_owner == owner, failures)


async def next_deliveries(
    session: AsyncSession, webhook_id: int, limit: int
) -> list[QueuedDelivery]:
    rows = await session.execute(
        select(
            WebhookDelivery.id,
            WebhookDelivery.guid,
            WebhookDelivery.event,
            WebhookDelivery.body,
            WebhookDelivery.created_at,
            WebhookDelivery.attempt_count,
        )
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.state == PENDING)
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    return [QueuedDelivery(*row) for row in rows]


async def record_attempt(
    session: AsyncSession,
    *,
    owner: str,
    webhook_id: int,
    delivery: QueuedDelivery,
    attempt: dict[str, Any],
    state: DeliveryState,
    retry_at: dt.datetime | None,
    lease_until: dt.datetime | None,
    reset_failures: bool,
    disable_after: int,
) -> bool:
    """Writes one attempt and its consequences; False when the delivery is gone (webhook deleted)
    or was already settled by someone else. The webhook row is only written when something about
    it changes (failures, a reset, a lease renewal): a success in a healthy run costs two
    statements."""
    now = attempt["attempted_at"]
    settled = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.state == PENDING)
        .values(
            state=state.value,
            attempt_count=WebhookDelivery.attempt_count + 1,
            last_status=attempt["response_status"],
            next_attempt_at=retry_at if state is DeliveryState.PENDING else None,
            completed_at=None if state is DeliveryState.PENDING else now,
        )
    )
    if getattr(settled, "rowcount", 0) != 1:
        return False
    await session.execute(insert(WebhookDeliveryAttempt).values(delivery_id=delivery.id, **attempt))
    webhook_values: dict[str, Any] = {}
    if not attempt["success"]:
        failures = Webhook.consecutive_failures + 1
        disable = failures >= disable_after
        webhook_values = {
            "consecutive_failures": failures,
            "retry_at": retry_at,
            "active": case((disable, False), else_=Webhook.active),
            "disabled_at": case((disable, now), else_=Webhook.disabled_at),
            "disabled_reason": case(
                (disable, DisabledReason.FAILURES.value), else_=Webhook.disabled_reason
            ),
        }
    elif reset_failures:
        webhook_values = {"consecutive_failures": 0, "retry_at": None}
    if lease_until is not None:
        webhook_values["lease_expires_at"] = lease_until
    if webhook_values:
        await session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id, Webhook.lease_owner == owner)
            .values(**webhook_values)
        )
    return True


async def release(session: AsyncSession, webhook_id: int, owner: str, now: dt.datetime) -> None:
    """The lease ends now; its expiry time stays as the "last served" mark for fairness."""
    await session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=now)
    )


async def prune(session: AsyncSession, before: dt.datetime, limit: int) -> int:
    """Deletes up to `limit` finished deliveries completed before `before`, with their attempts."""
    ids = list(
        await session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.state != PENDING,
                WebhookDelivery.completed_at < before,
            )
            .limit(limit)
        )
    )
    if ids:
        await session.execute(
            delete(WebhookDeliveryAttempt).where(WebhookDeliveryAttempt.delivery_id.in_(ids))
        )
        await session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
    return len(ids)


async def count_pending(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.state == PENDING)
        )
        or 0
    )
