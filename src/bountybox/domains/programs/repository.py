"""Every program query, scoped to what the actor may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.audit import note
from bountybox.core.auth import Actor
from bountybox.core.errors import Forbidden, NotFound
from bountybox.core.jsonapi.query import parse_id
from bountybox.db.models import (
    Activity,
    BountyTable,
    BountyTableRow,
    Campaign,
    CampaignDetail,
    CampaignObjective,
    CommonResponse,
    CustomFieldAttribute,
    CveRequest,
    Group,
    HackerInvitation,
    LedgerTransaction,
    Organization,
    OrganizationMember,
    Program,
    ProgramHacker,
    ProgramIntegration,
    Report,
    ScopeExclusion,
    Severity,
    StructuredScope,
    Swag,
    TriageReview,
    User,
    Weakness,
    group_members,
    group_programs,
    program_weaknesses,
)
from bountybox.db.preload import Preloader
from bountybox.domains.activities.repository import finish_swag_refs
from bountybox.domains.programs.schemas import HistoryEntry


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


# ---- program administration ----


async def load_scope_exclusion(
    session: AsyncSession, program: Program, exclusion_id: str
) -> ScopeExclusion:
    eid = parse_id(exclusion_id)
    exclusion = await session.get(ScopeExclusion, eid) if eid is not None else None
    if exclusion is None or exclusion.program_id != program.id:
        raise NotFound("The requested scope exclusion could not be found.")
    return exclusion


def scope_exclusions_query(program: Program) -> Select[ScopeExclusion]:
    return (
        select(ScopeExclusion)
        .where(ScopeExclusion.program_id == program.id)
        .order_by(ScopeExclusion.id)
    )


def swag_query(program: Program) -> Select[Swag]:
    return (
        select(Swag)
        .join(Report, Report.id == Swag.report_id)
        .where(Report.program_id == program.id)
        .order_by(Swag.id)
    )


async def load_swag(session: AsyncSession, program: Program, swag_id: str) -> Swag:
    sid = parse_id(swag_id)
    row = (
        await session.execute(
            select(Swag, Report.program_id)
            .join(Report, Report.id == Swag.report_id)
            .where(Swag.id == (sid or 0))
        )
    ).first()
    if row is None or row[1] != program.id:
        raise NotFound("The requested swag could not be found.")
    swag: Swag = row[0]
    return swag


def common_responses_query(program: Program) -> Select[CommonResponse]:
    return (
        select(CommonResponse)
        .where(CommonResponse.program_id == program.id)
        .order_by(CommonResponse.id)
    )


async def integrations_of(session: AsyncSession, program: Program) -> list[ProgramIntegration]:
    rows = await session.scalars(
        select(ProgramIntegration)
        .where(ProgramIntegration.program_id == program.id)
        .order_by(ProgramIntegration.id)
    )
    return list(rows)


def program_members_query(program: Program, *, exclude_system: bool) -> Select[OrganizationMember]:
    """Organization admins and members of the groups covering the program."""
    in_groups = (
        select(group_members.c.user_id)
        .join(group_programs, group_programs.c.group_id == group_members.c.group_id)
        .where(group_programs.c.program_id == program.id)
    )
    stmt = (
        select(OrganizationMember)
        .join(User, User.id == OrganizationMember.user_id)
        .where(
            OrganizationMember.organization_id == program.organization_id,
            OrganizationMember.organization_admin.is_(True)
            | OrganizationMember.user_id.in_(in_groups),
        )
        .order_by(OrganizationMember.id)
    )
    if exclude_system:
        stmt = stmt.where(User.user_type != "api")
    return stmt


async def program_groups_by_user(
    session: AsyncSession, program: Program, user_ids: list[int]
) -> dict[int, list[Group]]:
    out: dict[int, list[Group]] = {}
    if not user_ids:
        return out
    rows = await session.execute(
        select(group_members.c.user_id, Group)
        .join(Group, Group.id == group_members.c.group_id)
        .join(group_programs, group_programs.c.group_id == Group.id)
        .where(group_members.c.user_id.in_(user_ids), group_programs.c.program_id == program.id)
        .order_by(Group.id)
    )
    for user_id, group in rows:
        out.setdefault(user_id, []).append(group)
    return out


async def users_by_ids(session: AsyncSession, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}


def thanks_query(program: Program) -> Select[int, int, Any]:
    """Reporters of the program with their report counts and their resolved ("recognized") ones."""
    resolved = func.sum(case((Report.state == "resolved", 1), else_=0))
    return (
        select(Report.reporter_id, func.count(Report.id), resolved)
        .where(Report.program_id == program.id)
        .group_by(Report.reporter_id)
        .order_by(resolved.desc(), func.count(Report.id).desc(), Report.reporter_id)
    )


def triage_reviews_query(program: Program) -> Select[TriageReview]:
    return (
        select(TriageReview).where(TriageReview.program_id == program.id).order_by(TriageReview.id)
    )


async def report_titles(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Report.id, Report.title).where(Report.id.in_(ids)))
    return dict(rows.all())


async def bounty_table_of(
    session: AsyncSession, program: Program
) -> tuple[BountyTable, list[BountyTableRow]]:
    table = await session.scalar(select(BountyTable).where(BountyTable.program_id == program.id))
    if table is None:
        raise NotFound("This program has no bounty table.")
    rows = await session.scalars(
        select(BountyTableRow)
        .where(BountyTableRow.bounty_table_id == table.id)
        .order_by(BountyTableRow.id)
    )
    return table, list(rows)


def hacker_invitations_query(program: Program) -> Select[HackerInvitation]:
    return (
        select(HackerInvitation)
        .where(HackerInvitation.program_id == program.id)
        .order_by(HackerInvitation.id.desc())
    )


def cve_requests_query(program: Program) -> Select[CveRequest]:
    return select(CveRequest).where(CveRequest.program_id == program.id).order_by(CveRequest.id)


async def weakness_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Weakness.id, Weakness.name).where(Weakness.id.in_(ids)))
    return dict(rows.all())


def campaigns_query(program: Program) -> Select[Campaign]:
    return select(Campaign).where(Campaign.program_id == program.id).order_by(Campaign.id)


async def load_campaign(session: AsyncSession, program: Program, campaign_id: str) -> Campaign:
    cid = parse_id(campaign_id)
    campaign = await session.get(Campaign, cid) if cid is not None else None
    if campaign is None or campaign.program_id != program.id:
        raise NotFound("The requested campaign could not be found.")
    return campaign


async def campaign_details(
    session: AsyncSession, campaigns: Sequence[Campaign]
) -> tuple[
    dict[int, CampaignDetail],
    dict[int, CampaignObjective],
    dict[int, StructuredScope],
    dict[int, BountyTableRow],
]:
    ids = [c.id for c in campaigns]
    if not ids:
        return {}, {}, {}, {}
    details = {
        d.campaign_id: d
        for d in await session.scalars(
            select(CampaignDetail).where(CampaignDetail.campaign_id.in_(ids))
        )
    }
    objective_ids = {d.campaign_objective_id for d in details.values()}
    scope_ids = {s for d in details.values() for s in d.structured_scope_ids}
    row_ids = {d.bounty_table_row_id for d in details.values() if d.bounty_table_row_id}
    objectives = {
        o.id: o
        for o in await session.scalars(
            select(CampaignObjective).where(CampaignObjective.id.in_(objective_ids or {0}))
        )
    }
    scopes = {
        s.id: s
        for s in await session.scalars(
            select(StructuredScope).where(StructuredScope.id.in_(scope_ids or {0}))
        )
    }
    rows = {
        r.id: r
        for r in await session.scalars(
            select(BountyTableRow).where(BountyTableRow.id.in_(row_ids or {0}))
        )
    }
    return details, objectives, scopes, rows


async def campaign_report_stats(session: AsyncSession, campaign: Campaign) -> dict[str, object]:
    """Figures over the reports submitted during the campaign window."""
    stmt = (
        select(
            func.count(Report.id),
            func.sum(case((Report.state.in_(["triaged", "resolved", "retesting"]), 1), else_=0)),
            func.sum(case((Severity.rating == "critical", 1), else_=0)),
            func.sum(case((Severity.rating == "high", 1), else_=0)),
        )
        .select_from(Report)
        .outerjoin(Severity, Severity.id == Report.severity_id)
        .where(
            Report.program_id == campaign.program_id,
            Report.created_at >= campaign.start_date,
            Report.created_at <= campaign.end_date,
        )
    )
    total, valid, critical, high = (await session.execute(stmt)).one()
    spent = await session.scalar(
        select(func.coalesce(func.sum(LedgerTransaction.amount_cents), 0))
        .join(Report, Report.id == LedgerTransaction.report_id)
        .where(
            LedgerTransaction.program_id == campaign.program_id,
            LedgerTransaction.kind.in_(["bounty", "bonus"]),
            Report.created_at >= campaign.start_date,
            Report.created_at <= campaign.end_date,
        )
    )
    return {
        "total_reports": int(total or 0),
        "valid_reports": int(valid or 0),
        "total_critical_reports": int(critical or 0),
        "total_high_reports": int(high or 0),
        "bounty_spent": -int(spent or 0) / 100,
    }


async def find_objective(session: AsyncSession, objective_id: int) -> CampaignObjective | None:
    return await session.get(CampaignObjective, objective_id)


async def program_scopes(
    session: AsyncSession, program: Program, ids: set[int]
) -> list[StructuredScope]:
    if not ids:
        return []
    return list(
        await session.scalars(
            select(StructuredScope).where(
                StructuredScope.id.in_(ids), StructuredScope.program_id == program.id
            )
        )
    )


async def program_bounty_table_row(
    session: AsyncSession, program: Program, row_id: int
) -> BountyTableRow | None:
    return await session.scalar(
        select(BountyTableRow)
        .join(BountyTable, BountyTable.id == BountyTableRow.bounty_table_id)
        .where(BountyTableRow.id == row_id, BountyTable.program_id == program.id)
    )


async def ledger_rows_until(
    session: AsyncSession, program: Program, until: dt.datetime
) -> list[LedgerTransaction]:
    return list(
        await session.scalars(
            select(LedgerTransaction)
            .where(LedgerTransaction.program_id == program.id, LedgerTransaction.created_at < until)
            .order_by(LedgerTransaction.created_at, LedgerTransaction.id)
        )
    )


async def hackers_by_usernames(session: AsyncSession, usernames: list[str]) -> dict[str, User]:
    if not usernames:
        return {}
    rows = await session.scalars(
        select(User).where(User.username.in_(usernames), User.user_type == "hacker")
    )
    return {u.username: u for u in rows}


async def participating_hackers(session: AsyncSession, program: Program) -> list[User]:
    ids = select(Report.reporter_id).where(Report.program_id == program.id).distinct()
    return list(
        await session.scalars(select(User).where(User.id.in_(ids), User.user_type == "hacker"))
    )


async def bounty_hackers(session: AsyncSession, program: Program) -> list[User]:
    ids = (
        select(LedgerTransaction.user_id)
        .where(LedgerTransaction.program_id == program.id, LedgerTransaction.kind == "bounty")
        .distinct()
    )
    return list(await session.scalars(select(User).where(User.id.in_(ids))))


async def invited_hackers(session: AsyncSession, program: Program) -> list[User]:
    ids = select(HackerInvitation.recipient_id).where(HackerInvitation.program_id == program.id)
    return list(await session.scalars(select(User).where(User.id.in_(ids))))


async def top_hackers(session: AsyncSession, program: Program, limit: int = 20) -> list[User]:
    rows = await session.execute(thanks_query(program).limit(limit))
    ids: list[int] = [int(r[0]) for r in rows]
    users = await users_by_ids(session, set(ids))
    return [users[i] for i in ids if i in users]


async def find_program_weakness(
    session: AsyncSession, program: Program, weakness_id: int
) -> Weakness | None:
    return await session.scalar(
        select(Weakness)
        .join(program_weaknesses, program_weaknesses.c.weakness_id == Weakness.id)
        .where(Weakness.id == weakness_id, program_weaknesses.c.program_id == program.id)
    )


async def preload_swags(session: AsyncSession, swags: list[Swag]) -> Preloader:
    pre = Preloader(session)
    await finish_swag_refs(pre, swags)
    return pre


# ---- allowed reporters (hackers allowed on the program) ----


def allowed_reporters_query(program: Program) -> Select[ProgramHacker]:
    return (
        select(ProgramHacker)
        .where(ProgramHacker.program_id == program.id)
        .order_by(ProgramHacker.created_at, ProgramHacker.user_id)
    )


async def load_allowed_reporter(
    session: AsyncSession, program: Program, user_id: str
) -> tuple[ProgramHacker, User]:
    uid = parse_id(user_id)
    row = (
        await session.execute(
            select(ProgramHacker, User)
            .join(User, User.id == ProgramHacker.user_id)
            .where(ProgramHacker.program_id == program.id, ProgramHacker.user_id == (uid or 0))
        )
    ).first()
    if row is None:
        raise NotFound("The requested allowed reporter could not be found.")
    return row[0], row[1]


def hacker_program_activities_query(program: Program, user: User) -> Select[Activity]:
    return (
        select(Activity)
        .where(
            Activity.program_id == program.id,
            Activity.report_id.is_(None),
            Activity.actor_user_id == user.id,
        )
        .order_by(Activity.created_at.desc(), Activity.id.desc())
    )


async def allowed_reporter_history(session: AsyncSession, program: Program) -> list[HistoryEntry]:
    """Invitations sent and hackers currently allowed, as one history."""
    entries: list[HistoryEntry] = []
    joined = {
        hacker.user_id: hacker
        for hacker in await session.scalars(
            select(ProgramHacker).where(ProgramHacker.program_id == program.id)
        )
    }
    for invitation in await session.scalars(
        select(HackerInvitation).where(
            HackerInvitation.program_id == program.id, HackerInvitation.recipient_id.is_not(None)
        )
    ):
        assert invitation.recipient_id is not None
        member = joined.pop(invitation.recipient_id, None)
        entries.append(
            HistoryEntry(
                id=invitation.id,
                user_id=invitation.recipient_id,
                created_at=invitation.created_at,
                invited_at=invitation.created_at,
                accepted_at=member.created_at if member else invitation.accepted_at,
            )
        )
    for user_id, member in joined.items():
        entries.append(
            HistoryEntry(
                id=-user_id,
                user_id=user_id,
                created_at=member.created_at,
                invited_at=None,
                accepted_at=member.created_at,
            )
        )
    return entries
