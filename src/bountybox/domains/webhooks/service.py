"""Webhook rules: the transactional outbox that turns recorded events into deliveries, and the
management of webhooks (create, update, delete, test, redeliver).

The outbox. events.emit() asks `enqueue_activity` whether any active webhook of the program wants
the event: one indexed query, or none when the transaction's locked read of its report brought
the program's active webhooks along. When none does (the usual case) that is the whole cost.
Otherwise the event is queued on the session, and the payloads are rendered just before the
transaction commits and their delivery rows written as it commits, in that same transaction.
Rendering at the end rather than at emit() time matters: services record the activity first and
finish the change after it (the attachments of a comment are claimed, `disclosed_at` is set), and
a payload rendered at emit() would miss all of that. A rolled-back transaction writes no
delivery; a committed one always has its deliveries, which the worker sends afterwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession, async_session, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from bountybox.config import Settings
from bountybox.core.auth import Actor
from bountybox.core.clock import Clock
from bountybox.core.errors import InvalidParameter
from bountybox.core.jsonapi.render import Json
from bountybox.core.outbound import UnsafeUrl, check_url
from bountybox.core.signing import download_url
from bountybox.db.models import (
    Activity,
    Attachment,
    Program,
    Report,
    User,
    Webhook,
    WebhookDelivery,
)
from bountybox.db.preload import Preloader
from bountybox.domains.activities.repository import load_activity_bundle
from bountybox.domains.reports.repository import load_bundle
from bountybox.domains.reports.resource import (
    AttachmentUrl,
    ReportBundle,
    render_activity,
    render_report,
)
from bountybox.domains.webhooks import repository
from bountybox.domains.webhooks.schemas import (
    ACTIVITY_EVENTS,
    PROGRAM_EVENTS,
    DeliveryState,
    WebhookAttributes,
    WebhookEvent,
    WebhookUpdateAttributes,
)

OUTBOX_KEY = "bountybox.webhooks.outbox"
LINKS_KEY = "bountybox.webhooks.links"


@dataclass(frozen=True)
class PublicLinks:
    """Signed attachment links for payloads rendered outside a request: the configured public
    base URL stands in for the host a client called."""

    root_url: str
    secret: str

    @classmethod
    def from_settings(cls, settings: Settings) -> PublicLinks:
        return cls(settings.public_url.rstrip("/"), settings.resolved_secret_key())

    def attachment_url(self, now: dt.datetime) -> AttachmentUrl:
        stamp = now.timestamp()

        def url(attachment: Attachment) -> str:
            return download_url(
                self.root_url, self.secret, attachment.id, attachment.file_name, stamp
            )

        return url


def configure_sessions(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """Sessions from this factory can render webhook payloads (they need the public links)."""
    sessionmaker.configure(info={LINKS_KEY: PublicLinks.from_settings(settings)})


def _links_of(session: AsyncSession) -> PublicLinks | None:
    links = session.info.get(LINKS_KEY)
    return links if isinstance(links, PublicLinks) else None


def _unconfigured(_attachment: Attachment) -> str:
    raise RuntimeError("webhook payloads need sessions from configure_sessions()")


# ---- the outbox ----


@dataclass
class QueuedEvent:
    event: WebhookEvent
    webhook_ids: list[int]
    # Stored, or (report_created) a transient one that exists only in the payload.
    activity: Activity


async def enqueue_activity(session: AsyncSession, activity: Activity) -> None:
    """Called by events.emit() for every recorded activity."""
    event = ACTIVITY_EVENTS.get(activity.type)
    if event is not None:
        await enqueue_event(session, event, activity)


async def report_created(session: AsyncSession, report: Report) -> None:
    """`report_created` for a report created without an activity (POST /reports records none):
    the payload carries an `activity-bug-filed` by the reporter that is not stored, so it has no
    id."""
    activity = Activity(
        type="activity-bug-filed",
        program_id=report.program_id,
        report_id=report.id,
        actor_user_id=report.reporter_id,
        actor_is_program=False,
        message="",
        internal=False,
        extra={},
        refs={},
        created_at=report.created_at,
        updated_at=report.created_at,
    )
    await enqueue_event(session, WebhookEvent.REPORT_CREATED, activity)


async def enqueue_event(
    session: AsyncSession, event: WebhookEvent, activity: Activity
) -> list[int]:
    """Queues `event` about `activity` (stored, or transient like report_created's) for every
    active webhook subscribed to it; returns their ids. Sandbox mode sends events on demand
    through here."""
    webhook_ids = await repository.subscribed_webhook_ids(session, activity.program_id, event)
    if webhook_ids:
        session.info.setdefault(OUTBOX_KEY, []).append(QueuedEvent(event, webhook_ids, activity))
    return webhook_ids


@sa_event.listens_for(Session, "before_commit")
def _write_outbox(sync_session: Session) -> None:
    queued: list[QueuedEvent] | None = sync_session.info.pop(OUTBOX_KEY, None)
    if not queued:
        return
    session = async_session(sync_session)
    if session is None:
        raise RuntimeError("webhook events are recorded through an AsyncSession")
    # Commit runs this hook inside SQLAlchemy's greenlet bridge, so the async renderer can be
    # driven from here; flushing first lets its queries see everything the transaction changed.
    sync_session.flush()
    await_only(write_deliveries(session, queued))


@sa_event.listens_for(Session, "after_rollback")
def _discard_outbox(sync_session: Session) -> None:
    sync_session.info.pop(OUTBOX_KEY, None)


async def write_deliveries(session: AsyncSession, queued: list[QueuedEvent]) -> None:
    """Renders every queued event once, with the API's renderers, and writes one delivery row per
    subscribed webhook."""
    links = _links_of(session)
    now = max(q.activity.created_at for q in queued)
    attachment_url = links.attachment_url(now) if links else _unconfigured
    activities = [q.activity for q in queued]
    activity_bundle = await load_activity_bundle(session, activities, attachment_url)
    report_ids = {
        q.activity.report_id
        for q in queued
        if q.activity.report_id is not None and q.event not in PROGRAM_EVENTS
    }
    reports = {r.id: r for r in await repository.reports_by_id(session, report_ids)}
    report_bundle = await load_bundle(
        session, list(reports.values()), full=False, attachment_url=attachment_url
    )
    rows: list[dict[str, Any]] = []
    for item in queued:
        activity = item.activity
        data: Json = {
            "activity": render_activity(
                activity,
                activity_bundle.pre,
                activity_bundle.attachments[activity.id] if activity.id else [],
                attachment_url,
            )
        }
        report = reports.get(activity.report_id) if activity.report_id else None
        if report is not None:
            data["report"] = render_report(report, report_bundle, full=False)
        body = orjson.dumps({"data": data}).decode()
        rows += [
            delivery_row(
                webhook_id=webhook_id,
                event=item.event,
                body=body,
                at=activity.created_at,
                activity_id=activity.id,
                report_id=activity.report_id,
            )
            for webhook_id in item.webhook_ids
        ]
    await repository.insert_deliveries(session, rows)


def delivery_row(
    *,
    webhook_id: int,
    event: str,
    body: str,
    at: dt.datetime,
    activity_id: int | None = None,
    report_id: int | None = None,
    redelivery_of_id: int | None = None,
    test: bool = False,
) -> dict[str, Any]:
    return {
        "webhook_id": webhook_id,
        "event": event,
        "guid": str(uuid.uuid4()),
        "activity_id": activity_id,
        "report_id": report_id,
        "redelivery_of_id": redelivery_of_id,
        "test": test,
        "body": body,
        "state": DeliveryState.PENDING.value,
        "attempt_count": 0,
        "next_attempt_at": at,
        "created_at": at,
    }


# ---- management ----


async def checked_url(url: str, settings: Settings) -> str:
    try:
        await check_url(url, allow_private=settings.webhooks_allow_private)
    except UnsafeUrl as exc:
        raise InvalidParameter("url", str(exc)) from None
    return url


def unique_events(events: list[WebhookEvent]) -> list[str]:
    return [e.value for e in dict.fromkeys(events)]


async def create_webhook(
    *,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    program: Program,
    created_by: Actor | None,
    webhook_in: WebhookAttributes,
) -> Webhook:
    now = clock.now()
    webhook = Webhook(
        program_id=program.id,
        url=await checked_url(webhook_in.url, settings),
        secret=webhook_in.secret or None,
        events=unique_events(webhook_in.events),
        active=webhook_in.active,
        created_by_user_id=created_by.user_id if created_by else None,
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )
    session.add(webhook)
    await session.flush()
    return webhook


async def update_webhook(
    *,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    webhook: Webhook,
    update_in: WebhookUpdateAttributes,
) -> Webhook:
    given = update_in.model_fields_set
    if "url" in given:
        if update_in.url is None:
            raise InvalidParameter("url")
        webhook.url = await checked_url(update_in.url, settings)
    if "secret" in given:
        webhook.secret = update_in.secret or None
    if "events" in given:
        webhook.events = unique_events(update_in.events or [])
    if "active" in given:
        if update_in.active is None:
            raise InvalidParameter("active")
        if update_in.active and not webhook.active:
            # A fresh start: the held-back queue goes out right away.
            webhook.consecutive_failures = 0
            webhook.disabled_at = None
            webhook.disabled_reason = None
            webhook.retry_at = None
        webhook.active = update_in.active
    webhook.updated_at = clock.now()
    await session.flush()
    return webhook


async def delete_webhook(*, session: AsyncSession, webhook: Webhook) -> None:
    await repository.delete_webhook(session, webhook)


def require_active(webhook: Webhook) -> None:
    if not webhook.active:
        raise InvalidParameter(
            "active", "The webhook is inactive; activate it before sending to it."
        )


async def redeliver(
    *, session: AsyncSession, clock: Clock, webhook: Webhook, delivery: WebhookDelivery
) -> WebhookDelivery:
    """Queues the same body again as a new delivery (a fresh X-H1-Delivery, so receivers that
    deduplicate do process it), behind the webhook's pending deliveries."""
    require_active(webhook)
    row = delivery_row(
        webhook_id=webhook.id,
        event=delivery.event,
        body=delivery.body,
        at=clock.now(),
        activity_id=delivery.activity_id,
        report_id=delivery.report_id,
        redelivery_of_id=delivery.id,
        test=delivery.test,
    )
    return await _add_delivery(session, row)


async def send_test(
    *, session: AsyncSession, clock: Clock, settings: Settings, webhook: Webhook
) -> WebhookDelivery:
    """HackerOne's "Test request": a well-formed `report_created` delivery with the normal headers
    and signature, about an example report (id "0") that does not exist, so no real report data
    goes to a URL that is only being tried out."""
    require_active(webhook)
    program = await session.get(Program, webhook.program_id)
    assert program is not None
    now = clock.now()
    links = PublicLinks.from_settings(settings)
    body = orjson.dumps({"data": example_payload(session, program, now, links)}).decode()
    row = delivery_row(
        webhook_id=webhook.id,
        event=WebhookEvent.REPORT_CREATED.value,
        body=body,
        at=now,
        test=True,
    )
    return await _add_delivery(session, row)


async def _add_delivery(session: AsyncSession, row: dict[str, Any]) -> WebhookDelivery:
    delivery = WebhookDelivery(**row)
    session.add(delivery)
    await session.flush()
    return delivery


def example_payload(
    session: AsyncSession, program: Program, now: dt.datetime, links: PublicLinks
) -> Json:
    hacker = User(
        id=0,
        username="example-hacker",
        name="Example Hacker",
        disabled=False,
        created_at=now,
        user_type="hacker",
    )
    report = Report(
        id=0,
        program_id=program.id,
        reporter_id=hacker.id,
        title="Example report (webhook test request)",
        vulnerability_information="This example report was sent by a webhook test request.",
        state="new",
        source=None,
        created_at=now,
        updated_at=now,
        submitted_at=now,
        last_reporter_activity_at=now,
        last_activity_at=now,
        last_public_activity_at=now,
        cve_ids=[],
        report_tags=[],
        hai_is_priority=False,
        hacker_published=False,
        comments_closed=False,
        ineligible_for_bounty=False,
    )
    activity = Activity(
        id=0,
        type="activity-bug-filed",
        program_id=program.id,
        report_id=report.id,
        actor_user_id=hacker.id,
        actor_is_program=False,
        message="",
        internal=False,
        extra={},
        refs={},
        created_at=now,
        updated_at=now,
    )
    # Everything the example embeds is at hand, so nothing is fetched.
    pre = Preloader(session)
    pre.add([program, hacker])
    url = links.attachment_url(now)
    return {
        "activity": render_activity(activity, pre, [], url),
        "report": render_report(report, ReportBundle(pre=pre, attachment_url=url), full=False),
    }
