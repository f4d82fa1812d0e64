"""Every program query, scoped to what the actor may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.audit import note
from bountybox.core.auth import Actor
from bountybox.core.errors import Forbidden
from bountybox.core.jsonapi.query import parse_id
from bountybox.db.models import (
    CustomFieldAttribute,
    Group,
    Organization,
    OrganizationMember,
    Program,
    Report,
    StructuredScope,
    User,
    Weakness,
    group_members,
    group_programs,
    program_weaknesses,
)


def visible_programs(actor: Actor) -> Select[Program]:
    return select(Program).where(Program.id.in_(actor.program_ids)).order_by(Program.id)


async def load_program_for(session: AsyncSession, actor: Actor, program_id: str) -> Program:
    """The program, when the actor may see it; 403 as for reports otherwise."""
    pid = parse_id(program_id)
    if pid is None or not actor.can_see(pid):
        raise Forbidden()
    program = await session.get(Program, pid)
    if program is None:
        raise Forbidden()
    note(program_id=program.id, subject=f"Team#{program.id}")
    return program


async def find_visible_by_handles(
    session: AsyncSession, actor: Actor, handles: Sequence[str]
) -> list[Program]:
    if not handles:
        return []
    rows = await session.scalars(
        select(Program).where(Program.handle.in_(handles), Program.id.in_(actor.program_ids))
    )
    return list(rows)


async def find_visible_by_handle(
    session: AsyncSession, actor: Actor, handle: str
) -> Program | None:
    programs = await find_visible_by_handles(session, actor, [handle])
    return programs[0] if programs else None


async def organization_of(session: AsyncSession, program: Program) -> Organization:
    organization = await session.get(Organization, program.organization_id)
    assert organization is not None
    return organization


async def groups_of(session: AsyncSession, program: Program) -> list[Group]:
    rows = await session.scalars(
        select(Group)
        .join(group_programs, group_programs.c.group_id == Group.id)
        .where(group_programs.c.program_id == program.id)
        .order_by(Group.id)
    )
    return list(rows)


async def members_of(
    session: AsyncSession, program: Program, groups: list[Group]
) -> list[tuple[OrganizationMember, User, list[str]]]:
    """People (not API users) with access to the program and their program permissions."""
    group_perms = {g.id: set(g.permissions) for g in groups}
    rows = await session.execute(
        select(OrganizationMember, User)
        .join(User, User.id == OrganizationMember.user_id)
        .where(
            OrganizationMember.organization_id == program.organization_id, User.user_type != "api"
        )
        .order_by(OrganizationMember.id)
    )
    memberships = await session.execute(
        select(group_members.c.user_id, group_members.c.group_id).where(
            group_members.c.group_id.in_(list(group_perms))
        )
    )
    per_user: dict[int, set[str]] = {}
    for user_id, group_id in memberships:
        per_user.setdefault(user_id, set()).update(group_perms[group_id])
    result = []
    all_permissions = [
        "report_management",
        "reward_management",
        "program_management",
        "user_management",
    ]
    for member, user in rows:
        if member.organization_admin:
            result.append((member, user, all_permissions))
        elif member.user_id in per_user:
            result.append((member, user, sorted(per_user[member.user_id])))
    return result


async def custom_field_attributes_of(
    session: AsyncSession, program: Program
) -> list[CustomFieldAttribute]:
    rows = await session.scalars(
        select(CustomFieldAttribute)
        .where(CustomFieldAttribute.program_id == program.id)
        .order_by(CustomFieldAttribute.id)
    )
    return list(rows)


def reporters_query(program: Program) -> Select[User]:
    reporter_ids = select(Report.reporter_id).where(Report.program_id == program.id).distinct()
    return select(User).where(User.id.in_(reporter_ids)).order_by(User.id)


def weaknesses_query(program: Program) -> Select[Weakness]:
    return (
        select(Weakness)
        .join(program_weaknesses, program_weaknesses.c.weakness_id == Weakness.id)
        .where(program_weaknesses.c.program_id == program.id)
        .order_by(Weakness.id)
    )


def structured_scopes_query(program: Program) -> Select[StructuredScope]:
    return (
        select(StructuredScope)
        .where(StructuredScope.program_id == program.id, StructuredScope.archived_at.is_(None))
        .order_by(StructuredScope.id)
    )
