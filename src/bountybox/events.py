"""emit(): the one way a change is recorded. It writes the activity row in the caller's transaction
and queues the webhook deliveries it causes, which are written in that same transaction (see
domains/webhooks/service.py), so a rolled-back request leaves no trace and sends nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.audit import note
from bountybox.core.auth import Actor
from bountybox.core.clock import Clock
from bountybox.db.models import Activity
from bountybox.domains.activities.repository import recorded_without_attachments
from bountybox.domains.webhooks import service as webhooks


async def emit(
    session: AsyncSession,
    clock: Clock,
    *,
    type: str,
    program_id: int,
    report_id: int | None,
    actor: Actor | None,
    message: str | None = "",
    internal: bool = False,
    extra: dict[str, Any] | None = None,
    refs: dict[str, int] | None = None,
    actor_is_program: bool = False,
    at: dt.datetime | None = None,
) -> Activity:
    """`at` lets one operation stamp its row changes and its activity with the same instant."""
    now = at or clock.now()
    activity = Activity(
        type=type,
        program_id=program_id,
        report_id=report_id,
        actor_user_id=None if actor is None or actor_is_program else actor.user_id,
        actor_is_program=actor_is_program,
        message=message,
        internal=internal,
        extra=extra or {},
        refs=refs or {},
        created_at=now,
        updated_at=now,
    )
    session.add(activity)
    await session.flush()
    await recorded_without_attachments(session, activity)
    note(program_id=program_id, subject=f"Report#{report_id}" if report_id else None)
    await webhooks.enqueue_activity(session, activity)
    return activity
