"""Activity queries and the batched loading of everything an activity renders."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.auth import Actor
from bountybox.core.errors import Forbidden
from bountybox.core.jsonapi.query import parse_id
from bountybox.db.models import (
    Activity,
    Address,
    Attachment,
    CustomFieldAttribute,
    Group,
    Program,
    Severity,
    StructuredScope,
    Swag,
    User,
    Weakness,
)
from bountybox.db.preload import Preloader
from bountybox.db.version import open_writes, remember, remembered

# Activity relationship names (refs keys) and the table each points into.
REF_MODELS: dict[str, type[Any]] = {
    "assigned_user": User,
    "removed_user": User,
    "group": Group,
    "old_severity": Severity,
    "new_severity": Severity,
    "old_weakness": Weakness,
    "new_weakness": Weakness,
    "old_scope": StructuredScope,
    "new_scope": StructuredScope,
    "swag": Swag,
    "custom_field_attribute": CustomFieldAttribute,
    "program": Program,
}


@dataclass
class ActivityBundle:
    pre: Preloader
    attachment_url: Callable[[Attachment], str]
    attachments: dict[int, list[Attachment]] = field(default_factory=lambda: defaultdict(list))


def want_activity_refs(pre: Preloader, activities: list[Activity]) -> None:
    for activity in activities:
        if activity.actor_is_program:
            pre.want(Program, activity.program_id)
        else:
            pre.want(User, activity.actor_user_id)
        for name, ref_id in (activity.refs or {}).items():
            model = REF_MODELS.get(name)
            if model is not None:
                pre.want(model, ref_id)


ATTACHMENT_TABLES = frozenset({"attachments"})


async def recorded_without_attachments(session: AsyncSession, activity: Activity) -> None:
    """An activity this transaction just recorded has no attachment until the transaction writes
    the attachments table (moving attachments onto it): until then its attachments need no
    query (a comment's answer and its webhook payload)."""
    remember(session, await open_writes(session), ("no attachments", activity.id), True)


async def load_activity_attachments(
    session: AsyncSession, activities: list[Activity], into: dict[int, list[Attachment]]
) -> None:
    """The attachments of each activity, in one query, or none for activities this transaction
    recorded without any (a comment's answer and its webhook payload)."""
    info = await open_writes(session)
    ids = [
        a.id
        for a in activities
        if remembered(session, info, ("no attachments", a.id), ATTACHMENT_TABLES) is None
    ]
    if not ids:
        return
    rows = await session.scalars(
        select(Attachment).where(Attachment.activity_id.in_(ids)).order_by(Attachment.id)
    )
    for attachment in rows:
        assert attachment.activity_id is not None
        into[attachment.activity_id].append(attachment)


async def finish_swag_refs(pre: Preloader, swags: list[Swag]) -> None:
    """Swags embed their user and address: a second round after the swags themselves arrive."""
    for swag in swags:
        pre.want(User, swag.user_id)
        pre.want(Address, swag.address_id)
    await pre.fetch()


async def load_activity_bundle(
    session: AsyncSession,
    activities: list[Activity],
    attachment_url: Callable[[Attachment], str],
) -> ActivityBundle:
    bundle = ActivityBundle(pre=Preloader.of(session), attachment_url=attachment_url)
    want_activity_refs(bundle.pre, activities)
    await bundle.pre.fetch()
    swags = [s for a in activities if (s := bundle.pre.get(Swag, (a.refs or {}).get("swag")))]
    await finish_swag_refs(bundle.pre, swags)
    await load_activity_attachments(session, activities, bundle.attachments)
    return bundle


async def load_activity_for(session: AsyncSession, actor: Actor, activity_id: str) -> Activity:
    aid = parse_id(activity_id)
    activity = await session.get(Activity, aid) if aid is not None else None
    if activity is None or not actor.can_see(activity.program_id):
        raise Forbidden()
    return activity


def incremental_query(
    program_id: int,
    *,
    report_id: int | None,
    updated_after: dt.datetime | None,
    order_by: list[Any],
) -> Select[Activity]:
    stmt = select(Activity).where(Activity.program_id == program_id)
    if report_id is not None:
        stmt = stmt.where(Activity.report_id == report_id)
    if updated_after is not None:
        stmt = stmt.where(Activity.updated_at > updated_after)
    return stmt.order_by(*order_by)


# A page of the feed grows by at most this many activities that share its last millisecond.
MILLISECOND_TAIL_LIMIT = 1_000


async def rest_of_millisecond(
    session: AsyncSession,
    stmt: Select[Activity],
    page: list[Activity],
    following: Activity | None,
) -> list[Activity]:
    """Clients continue strictly after meta.max_updated_at, so a page of the feed `stmt`
    (ordered by updated_at, id) must not end inside a millisecond: the activities after `page`
    that share its last one's updated_at (none when the next activity is later)."""
    if following is None or following.updated_at != page[-1].updated_at:
        return []
    last = page[-1]
    rows = await session.scalars(
        stmt.where(Activity.updated_at == last.updated_at, Activity.id > last.id).limit(
            MILLISECOND_TAIL_LIMIT
        )
    )
    return list(rows)
