"""User lookups. Profiles are public; the programs listed with one are only the caller's."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.auth import Actor
from bountybox.core.errors import NotFound
from bountybox.core.jsonapi.query import parse_id
from bountybox.db.models import Program, Report, ReportCollaborator, User


async def load_user_by_username(session: AsyncSession, username: str) -> User:
    user = await session.scalar(
        select(User).where(User.username == username, User.user_type != "api")
    )
    if user is None:
        raise NotFound("The requested user could not be found.")
    return user


async def load_user_by_id(session: AsyncSession, user_id: str) -> User:
    uid = parse_id(user_id)
    user = await session.get(User, uid) if uid is not None else None
    if user is None or user.user_type == "api":
        raise NotFound("The requested user could not be found.")
    return user


async def participating_programs(session: AsyncSession, actor: Actor, user: User) -> list[Program]:
    """Programs the caller can see that the user reported to or collaborated on."""
    reported = select(Report.program_id).where(
        or_(
            Report.reporter_id == user.id,
            Report.id.in_(
                select(ReportCollaborator.report_id).where(ReportCollaborator.user_id == user.id)
            ),
        )
    )
    rows = await session.scalars(
        select(Program)
        .where(Program.id.in_(reported), Program.id.in_(actor.program_ids))
        .order_by(Program.id)
    )
    return list(rows)
