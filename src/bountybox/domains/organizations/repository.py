"""Organization queries, all confined to the caller's own organization."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Select, Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.auth import Actor
from bountybox.core.errors import NotFound
from bountybox.core.jsonapi.query import parse_id
from bountybox.db.models import (
    AuditLogItem,
    EligibilitySetting,
    Group,
    Inbox,
    Organization,
    OrganizationInvitation,
    OrganizationMember,
    Program,
    User,
    group_inboxes,
    group_members,
    group_programs,
)

NOT_FOUND = "The requested organization could not be found."


async def load_organization_for(
    session: AsyncSession, actor: Actor, organization_id: str
) -> Organization:
    oid = parse_id(organization_id)
    if oid is None or oid != actor.organization_id:
        raise NotFound(NOT_FOUND)
    organization = await session.get(Organization, oid)
    if organization is None:
        raise NotFound(NOT_FOUND)
    return organization


def members_query(organization: Organization) -> Select[OrganizationMember]:
    return (
        select(OrganizationMember)
        .where(OrganizationMember.organization_id == organization.id)
        .order_by(OrganizationMember.id)
    )


async def load_member(
    session: AsyncSession, organization: Organization, member_id: str
) -> OrganizationMember:
    mid = parse_id(member_id)
    member = await session.get(OrganizationMember, mid) if mid is not None else None
    if member is None or member.organization_id != organization.id:
        raise NotFound("The requested member could not be found.")
    return member


async def users_and_groups_of(
    session: AsyncSession, members: Sequence[OrganizationMember]
) -> tuple[dict[int, User], dict[int, list[Group]]]:
    """The users behind a page of members and the groups each is in, in two queries."""
    user_ids = [m.user_id for m in members]
    if not user_ids:
        return {}, {}
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(user_ids)))}
    groups: dict[int, list[Group]] = defaultdict(list)
    rows = await session.execute(
        select(group_members.c.user_id, Group)
        .join(Group, Group.id == group_members.c.group_id)
        .where(
            group_members.c.user_id.in_(user_ids),
            Group.organization_id == members[0].organization_id,
        )
        .order_by(Group.id)
    )
    for user_id, group in rows:
        groups[user_id].append(group)
    return users, groups


def groups_query(organization: Organization) -> Select[Group]:
    return select(Group).where(Group.organization_id == organization.id).order_by(Group.id)


async def load_group(session: AsyncSession, organization: Organization, group_id: str) -> Group:
    gid = parse_id(group_id)
    group = await session.get(Group, gid) if gid is not None else None
    if group is None or group.organization_id != organization.id:
        raise NotFound("The requested group could not be found.")
    return group


async def group_relations(
    session: AsyncSession, group: Group
) -> tuple[list[OrganizationMember], list[Program], list[Inbox]]:
    members = list(
        await session.scalars(
            select(OrganizationMember)
            .join(group_members, group_members.c.user_id == OrganizationMember.user_id)
            .where(
                group_members.c.group_id == group.id,
                OrganizationMember.organization_id == group.organization_id,
            )
            .order_by(OrganizationMember.id)
        )
    )
    programs = list(
        await session.scalars(
            select(Program)
            .join(group_programs, group_programs.c.program_id == Program.id)
            .where(group_programs.c.group_id == group.id)
            .order_by(Program.id)
        )
    )
    inboxes = list(
        await session.scalars(
            select(Inbox)
            .join(group_inboxes, group_inboxes.c.inbox_id == Inbox.id)
            .where(group_inboxes.c.group_id == group.id)
            .order_by(Inbox.id)
        )
    )
    return members, programs, inboxes


async def members_by_ids(
    session: AsyncSession, organization: Organization, ids: set[int]
) -> list[OrganizationMember]:
    if not ids:
        return []
    return list(
        await session.scalars(
            select(OrganizationMember).where(
                OrganizationMember.id.in_(ids),
                OrganizationMember.organization_id == organization.id,
            )
        )
    )


async def programs_by_ids(
    session: AsyncSession, organization: Organization, ids: set[int]
) -> list[Program]:
    if not ids:
        return []
    return list(
        await session.scalars(
            select(Program).where(Program.id.in_(ids), Program.organization_id == organization.id)
        )
    )


async def inboxes_by_ids(
    session: AsyncSession, organization: Organization, ids: set[int]
) -> list[Inbox]:
    if not ids:
        return []
    return list(
        await session.scalars(
            select(Inbox).where(Inbox.id.in_(ids), Inbox.organization_id == organization.id)
        )
    )


async def groups_by_ids(
    session: AsyncSession, organization: Organization, ids: set[int]
) -> list[Group]:
    if not ids:
        return []
    return list(
        await session.scalars(
            select(Group).where(Group.id.in_(ids), Group.organization_id == organization.id)
        )
    )


async def replace_links(
    session: AsyncSession,
    table: Table,
    owner_column: str,
    owner_id: int,
    other_column: str,
    ids: list[int],
) -> None:
    """Replaces the rows of an association table that belong to one owner."""
    await session.execute(delete(table).where(table.c[owner_column] == owner_id))
    if ids:
        await session.execute(
            insert(table), [{owner_column: owner_id, other_column: other} for other in ids]
        )


async def find_eligibility_setting(
    session: AsyncSession, organization: Organization, setting_id: int
) -> EligibilitySetting | None:
    setting = await session.get(EligibilitySetting, setting_id)
    return setting if setting is not None and setting.organization_id == organization.id else None


def eligibility_settings_query(organization: Organization) -> Select[EligibilitySetting]:
    return (
        select(EligibilitySetting)
        .where(EligibilitySetting.organization_id == organization.id)
        .order_by(EligibilitySetting.id)
    )


async def load_eligibility_setting(
    session: AsyncSession, organization: Organization, setting_id: str
) -> EligibilitySetting:
    sid = parse_id(setting_id)
    setting = await find_eligibility_setting(session, organization, sid) if sid else None
    if setting is None:
        raise NotFound("The requested eligibility setting could not be found.")
    return setting


def inboxes_query(organization: Organization) -> Select[Inbox]:
    return select(Inbox).where(Inbox.organization_id == organization.id).order_by(Inbox.id)


def pending_invitations_query(
    organization: Organization, now: object
) -> Select[OrganizationInvitation]:
    return (
        select(OrganizationInvitation)
        .where(
            OrganizationInvitation.organization_id == organization.id,
            OrganizationInvitation.accepted_at.is_(None),
            OrganizationInvitation.cancelled_at.is_(None),
            OrganizationInvitation.expires_at > now,
        )
        .order_by(OrganizationInvitation.id)
    )


async def pending_invitation_for(
    session: AsyncSession, organization: Organization, email: str, now: object
) -> OrganizationInvitation | None:
    return await session.scalar(
        pending_invitations_query(organization, now).where(OrganizationInvitation.email == email)
    )


async def member_with_email(
    session: AsyncSession, organization: Organization, email: str
) -> OrganizationMember | None:
    return await session.scalar(
        select(OrganizationMember)
        .join(User, User.id == OrganizationMember.user_id)
        .where(OrganizationMember.organization_id == organization.id, User.email == email)
    )


def programs_query(organization: Organization) -> Select[Program]:
    return select(Program).where(Program.organization_id == organization.id).order_by(Program.id)


def audit_log_query(
    *, organization_id: int | None = None, program_id: int | None = None
) -> Select[AuditLogItem]:
    stmt = select(AuditLogItem)
    if organization_id is not None:
        stmt = stmt.where(AuditLogItem.organization_id == organization_id)
    if program_id is not None:
        stmt = stmt.where(AuditLogItem.program_id == program_id)
    return stmt.order_by(AuditLogItem.id.desc())


async def users_by_ids(session: AsyncSession, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}


async def admin_count(session: AsyncSession, organization: Organization) -> int:
    rows = await session.scalars(
        select(OrganizationMember.id)
        .join(User, User.id == OrganizationMember.user_id)
        .where(
            OrganizationMember.organization_id == organization.id,
            OrganizationMember.organization_admin.is_(True),
            User.user_type != "api",
        )
    )
    return len(list(rows))
