"""Every report query. Access scoping lives here: a report is visible when its program is one the
actor may see, and nothing outside that set is ever selected."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bountybox.core.audit import note
from bountybox.core.auth import Actor
from bountybox.core.errors import Forbidden, InvalidParameter
from bountybox.core.jsonapi.query import parse_id
from bountybox.db.idset import ids_param, in_ids
from bountybox.db.models import (
    Activity,
    Address,
    Attachment,
    Bounty,
    Campaign,
    CustomFieldAttribute,
    CustomFieldValue,
    Group,
    Inbox,
    OrganizationMember,
    Program,
    ProgramIntegration,
    RemediationGuidance,
    Report,
    ReportCollaborator,
    ReportParticipant,
    ReportSummary,
    Severity,
    StructuredScope,
    Swag,
    Trigger,
    User,
    Weakness,
    group_members,
    group_programs,
    program_weaknesses,
    report_inboxes,
)
from bountybox.db.preload import Preloader
from bountybox.db.version import open_writes, remember, remembered
from bountybox.domains.activities.repository import (
    finish_swag_refs,
    want_activity_refs,
)
from bountybox.domains.reports.resource import AttachmentUrl, ReportBundle
from bountybox.domains.reports.schemas import BoolFilter, ReportQuery, ReportSortField
from bountybox.domains.reports.states import CLOSED_STATES
from bountybox.domains.webhooks.repository import (
    active_webhooks_of,
    keep_active_webhooks,
    webhook_rows,
)


def visible(actor: Actor) -> ColumnElement[bool]:
    return Report.program_id.in_(actor.program_ids)


# Children most reports do not have, by the column that ties each to its report.
RARE_CHILDREN: dict[str, Any] = {
    "bounties": Bounty.report_id,
    "collaborators": ReportCollaborator.report_id,
    "custom_field_values": CustomFieldValue.report_id,
    "attachments": Attachment.report_id,
    "swags": Swag.report_id,
    "summaries": ReportSummary.report_id,
    "guidances": RemediationGuidance.report_id,
}

ASSIGNEE_USER = aliased(User)
REPORT_WITH_TO_ONES = (
    select(Report, Program, Severity, Weakness, StructuredScope, User, ASSIGNEE_USER, Group)
    .join(Program, Program.id == Report.program_id)
    .outerjoin(Severity, Severity.id == Report.severity_id)
    .outerjoin(Weakness, Weakness.id == Report.weakness_id)
    .outerjoin(StructuredScope, StructuredScope.id == Report.structured_scope_id)
    .outerjoin(User, User.id == Report.reporter_id)
    .outerjoin(ASSIGNEE_USER, ASSIGNEE_USER.id == Report.assignee_user_id)
    .outerjoin(Group, Group.id == Report.assignee_group_id)
    .where(Report.id == bindparam("report_id"))
)
TO_ONES = 8
# Writes lock the report row only (the joined rows are read, not locked), and bring the acting
# user too: the answer to a comment or a state change renders its actor.
ACTING_USER = aliased(User)
# Both also ask which of the rare children the report has, so its documents (a write's answer
# and webhook payload too) read only those, and bring its inboxes (one row each).
CHILDREN_PRESENT = [
    exists().where(column == Report.id).label(kind) for kind, column in RARE_CHILDREN.items()
]
RARE_CHILD_TABLES = frozenset(column.table.name for column in RARE_CHILDREN.values())
REPORT_FOR_READ = (
    REPORT_WITH_TO_ONES.add_columns(*CHILDREN_PRESENT, Inbox)
    .outerjoin(report_inboxes, report_inboxes.c.report_id == Report.id)
    .outerjoin(Inbox, Inbox.id == report_inboxes.c.inbox_id)
)
# A write also brings its program's active webhooks, which decide whether the events it records
# are delivered.
REPORT_WITH_TO_ONES_FOR_UPDATE = (
    REPORT_FOR_READ.add_columns(
        ACTING_USER, active_webhooks_of(Report.program_id).label("active_webhooks")
    )
    .outerjoin(ACTING_USER, ACTING_USER.id == bindparam("actor_user_id"))
    .with_for_update(of=Report)
)
# What a request already read of one report serves the documents it renders of it again (a
# write's answer, then its webhook payload) until the transaction writes one of these tables.
INBOX_TABLES = frozenset({"report_inboxes", "inboxes"})
CUSTOM_FIELD_TABLES = frozenset({"custom_field_values", "custom_field_attributes"})


async def _visible_report(
    session: AsyncSession, actor: Actor, report_id: str, *, for_update: bool
) -> Report | None:
    """The report with its program, severity, weakness, asset, reporter, assignee and inboxes in
    one statement (documents render them; the session's preloader keeps them), or None when
    missing or invisible. It also learns which rare children the report has; a write also learns
    its actor and the program's active webhooks."""
    rid = parse_id(report_id)
    if rid is None:
        return None
    if for_update:
        binds = {"report_id": rid, "actor_user_id": actor.user_id}
        rows = (await session.execute(REPORT_WITH_TO_ONES_FOR_UPDATE, binds)).all()
    else:
        rows = (await session.execute(REPORT_FOR_READ, {"report_id": rid})).all()
    if not rows or not actor.can_see(rows[0][0].program_id):
        return None
    row = rows[0]
    report: Report = row[0]
    pre = Preloader.of(session)
    # The preloader also keeps the report itself: the session holds clean objects weakly, and a
    # write's webhook payload renders this report again at commit (`in_session`).
    pre.add(list(row[:TO_ONES]))
    flags = row[TO_ONES : TO_ONES + len(RARE_CHILDREN)]
    present = [kind for kind, flag in zip(RARE_CHILDREN, flags, strict=True) if flag]
    info = await open_writes(session)
    remember(session, info, ("present", report.id), present)
    inboxes = {r.Inbox.id: r.Inbox for r in rows if r.Inbox is not None}
    remember(
        session, info, ("inboxes", report.id), [(report.id, i) for _, i in sorted(inboxes.items())]
    )
    if for_update:
        pre.add([row._mapping[ACTING_USER]])
        webhooks = webhook_rows(row.active_webhooks)
        keep_active_webhooks(session, info, report.program_id, webhooks)
    return report


async def _rows(
    session: AsyncSession,
    kind: str,
    ids: list[int],
    tables: frozenset[str],
    statement: Any,
) -> list[Any]:
    """The rows of a bundle statement; for one report, read once per request while nothing
    they come from is written."""
    if len(ids) != 1:
        return list(await session.execute(statement, {"ids": ids}))
    key = (kind, ids[0])
    info = await open_writes(session)
    rows: list[Any] | None = remembered(session, info, key, tables)
    if rows is None:
        rows = list(await session.execute(statement, {"ids": ids}))
        remember(session, info, key, rows)
    return rows


async def load_report_for(session: AsyncSession, actor: Actor, report_id: str) -> Report:
    """For reads: a missing and an invisible report both answer a bare 403, as HackerOne does."""
    report = await _visible_report(session, actor, report_id, for_update=False)
    if report is None:
        raise Forbidden()
    return report


async def load_report_for_write(session: AsyncSession, actor: Actor, report_id: str) -> Report:
    """For writes: HackerOne answers an unknown report id with 400 on `report_id`."""
    report = await _visible_report(session, actor, report_id, for_update=True)
    if report is None:
        raise InvalidParameter("report_id")
    note(program_id=report.program_id, subject=f"Report#{report.id}")
    return report


async def find_visible_report(session: AsyncSession, actor: Actor, report_id: int) -> Report | None:
    return await session.scalar(select(Report).where(Report.id == report_id, visible(actor)))


def _date_column(name: str) -> Any:
    return getattr(Report, name)


async def visible_program_ids(session: AsyncSession, actor: Actor, handles: list[str]) -> list[int]:
    """The named programs the actor may see, as ids: the list query then filters on plain ids,
    which lets PostgreSQL walk the (program_id, created_at) index instead of sorting a program."""
    rows = await session.scalars(
        select(Program.id).where(Program.handle.in_(handles), Program.id.in_(actor.program_ids))
    )
    return sorted(rows)


def list_query(actor: Actor, query: ReportQuery, program_ids: list[int] | None) -> Select[Report]:
    """`program_ids` are the visible programs of `filter[program]`, None when it was not given."""
    conditions: list[ColumnElement[bool]] = []
    if program_ids is not None:
        conditions.append(Report.program_id.in_(program_ids or [-1]))
    else:
        conditions.append(visible(actor))
    if query.inbox_ids:
        conditions.append(
            Report.id.in_(
                select(report_inboxes.c.report_id)
                .join(Inbox, Inbox.id == report_inboxes.c.inbox_id)
                .where(
                    report_inboxes.c.inbox_id.in_(query.inbox_ids),
                    Inbox.organization_id == (actor.organization_id or -1),
                )
            )
        )
    if query.reporters:
        conditions.append(
            Report.reporter_id.in_(select(User.id).where(User.username.in_(query.reporters)))
        )
    if query.assignees:
        conditions.append(
            or_(
                Report.assignee_user_id.in_(
                    select(User.id).where(
                        or_(User.username.in_(query.assignees), User.email.in_(query.assignees))
                    )
                ),
                Report.assignee_group_id.in_(
                    select(Group.id).where(
                        Group.name.in_(query.assignees),
                        Group.organization_id == (actor.organization_id or -1),
                    )
                ),
            )
        )
    if query.states:
        conditions.append(Report.state.in_([s.value for s in query.states]))
    if query.ids:
        conditions.append(Report.id.in_(query.ids))
    if query.weakness_ids:
        conditions.append(Report.weakness_id.in_(query.weakness_ids))
    if query.severities:
        conditions.append(Report.severity_rating.in_([s.value for s in query.severities]))
    if query.asset_ids:
        conditions.append(Report.structured_scope_id.in_(query.asset_ids))
    for name, wanted in query.booleans.items():
        if name is BoolFilter.REPORTER_AGREED_ON_GOING_PUBLIC:
            column = Report.reporter_agreed_on_going_public_at
            conditions.append(column.is_not(None) if wanted else column.is_(None))
        elif name is BoolFilter.HACKER_PUBLISHED:
            conditions.append(Report.hacker_published.is_(wanted))
        elif name is BoolFilter.HAI_IS_PRIORITY:
            conditions.append(Report.hai_is_priority.is_(wanted))
    if query.keyword:
        needle = query.keyword.lower()
        conditions.append(
            or_(
                func.lower(Report.title).contains(needle, autoescape=True),
                func.lower(Report.vulnerability_information).contains(needle, autoescape=True),
            )
        )
    if query.issue_tracker_reference_id is not None:
        conditions.append(Report.issue_tracker_reference_id == query.issue_tracker_reference_id)
    if query.issue_tracker_reference_id_null is not None:
        reference = Report.issue_tracker_reference_id
        conditions.append(
            reference.is_(None) if query.issue_tracker_reference_id_null else reference.is_not(None)
        )
    for field_id, pattern in query.custom_fields:
        conditions.append(
            exists().where(
                CustomFieldValue.report_id == Report.id,
                CustomFieldValue.custom_field_attribute_id == field_id,
                CustomFieldValue.value.like(pattern),
            )
        )
    for condition in query.dates:
        column = _date_column(condition.field.value)
        if condition.op == "null":
            conditions.append(column.is_(None) if condition.value else column.is_not(None))
        elif condition.op == "gt":
            conditions.append(column > condition.value)
        else:
            conditions.append(column < condition.value)
    if query.id_gt is not None:
        conditions.append(Report.id > query.id_gt)
    return (
        select(Report)
        .where(and_(*conditions) if conditions else false())
        .order_by(*order_by(query))
    )


def order_by(query: ReportQuery) -> list[Any]:
    if not query.sort:
        if query.id_gt is not None:
            return [Report.id.asc()]
        return [Report.created_at.desc(), Report.id.desc()]
    columns: list[Any] = []
    for key in query.sort:
        column = getattr(Report, key.field.value)
        # Reports without the timestamp sort last either way, on both databases.
        columns.append(column.is_(None))
        columns.append(column.desc() if key.descending else column.asc())
    tiebreak_desc = query.sort[0].descending and query.sort[0].field is ReportSortField.CREATED_AT
    columns.append(Report.id.desc() if tiebreak_desc else Report.id.asc())
    return columns


IDS = ids_param()
# The statements are built once: building them per request cost more than running them.
OF_REPORTS: dict[str, ColumnElement[bool]] = {
    kind: in_ids(column, IDS) for kind, column in RARE_CHILDREN.items()
}
# Which rare children the reports of a page have, in one statement.
KINDS_PRESENT = union_all(
    *(
        select(literal(kind)).where(exists().where(condition))
        for kind, condition in OF_REPORTS.items()
    )
)
BUNDLE_STATEMENTS: dict[str, Any] = {
    "bounties": select(Bounty).where(OF_REPORTS["bounties"]).order_by(Bounty.id),
    "inboxes": select(report_inboxes.c.report_id, Inbox)
    .join(Inbox, Inbox.id == report_inboxes.c.inbox_id)
    .where(in_ids(report_inboxes.c.report_id, IDS))
    .order_by(Inbox.id),
    "collaborators": select(ReportCollaborator).where(OF_REPORTS["collaborators"]),
    # With each value's field: a program has a handful, so the join is cheap, and it spares the
    # preloader a round trip on every page and document that has values.
    "custom_field_values": select(CustomFieldValue, CustomFieldAttribute)
    .join(
        CustomFieldAttribute, CustomFieldAttribute.id == CustomFieldValue.custom_field_attribute_id
    )
    .where(OF_REPORTS["custom_field_values"])
    .order_by(CustomFieldValue.id),
    # Not joined with their actors: with a generic estimate of the rows per report, PostgreSQL
    # merge-joins the whole users table (1 ms at 5,000 users, against 0.05 ms for the activities
    # alone); the preloader fetches the actors by id instead.
    "activities": select(Activity)
    .where(in_ids(Activity.report_id, IDS))
    .order_by(Activity.created_at.desc(), Activity.id.desc()),
    "attachments": select(Attachment).where(OF_REPORTS["attachments"]).order_by(Attachment.id),
    "swags": select(Swag).where(OF_REPORTS["swags"]).order_by(Swag.id),
    "summaries": select(ReportSummary).where(OF_REPORTS["summaries"]).order_by(ReportSummary.id),
    "guidances": select(RemediationGuidance)
    .where(OF_REPORTS["guidances"])
    .order_by(RemediationGuidance.id),
}


async def load_bundle(
    session: AsyncSession, reports: list[Report], *, full: bool, attachment_url: AttachmentUrl
) -> ReportBundle:
    """Everything the reports embed, in a fixed number of queries whatever the page size. A
    single report first asks which of its rarely present children exist (one statement instead
    of one per kind): round trips are most of the cost of a report document."""
    bundle = ReportBundle(pre=Preloader.of(session), attachment_url=attachment_url)
    pre = bundle.pre
    ids = [r.id for r in reports]
    if not ids:
        return bundle
    for report in reports:
        pre.want(Program, report.program_id)
        pre.want(User, report.reporter_id)
        pre.want(User, report.assignee_user_id)
        pre.want(Group, report.assignee_group_id)
        pre.want(Severity, report.severity_id)
        pre.want(Weakness, report.weakness_id)
        pre.want(StructuredScope, report.structured_scope_id)
        if full:
            pre.want(Campaign, report.campaign_id)
            pre.want(Trigger, report.triggered_pre_submission_trigger_id)
    single = len(ids) == 1
    known = (
        remembered(session, await open_writes(session), ("present", ids[0]), RARE_CHILD_TABLES)
        if single
        else None
    )
    if known is not None:
        present = set(known)
    elif single:
        present = set(await session.scalars(KINDS_PRESENT, {"ids": ids}))
    else:
        present = {"bounties", "collaborators", "custom_field_values"}
        if full:
            present |= set(RARE_CHILDREN)
    binds = {"ids": ids}

    if "bounties" in present:
        for bounty in await session.scalars(BUNDLE_STATEMENTS["bounties"], binds):
            bundle.bounties[bounty.report_id].append(bounty)
    for report_id, inbox in await _rows(
        session, "inboxes", ids, INBOX_TABLES, BUNDLE_STATEMENTS["inboxes"]
    ):
        bundle.inboxes[report_id].append(inbox)
    if "collaborators" in present:
        for collaborator in await session.scalars(BUNDLE_STATEMENTS["collaborators"], binds):
            bundle.collaborators[collaborator.report_id].append(collaborator)
            pre.want(User, collaborator.user_id)
    if "custom_field_values" in present:
        statement = BUNDLE_STATEMENTS["custom_field_values"]
        for value, field_attribute in await _rows(
            session, "custom_field_values", ids, CUSTOM_FIELD_TABLES, statement
        ):
            bundle.custom_field_values[value.report_id].append(value)
            pre.add([field_attribute])

    if full:
        await _load_full(session, bundle, binds, present)
    await pre.fetch()
    if full:
        swags = [s for report_swags in bundle.swags.values() for s in report_swags]
        swags += [
            s
            for report_activities in bundle.activities.values()
            for a in report_activities
            if (s := pre.get(Swag, (a.refs or {}).get("swag")))
        ]
        await finish_swag_refs(pre, swags)
    return bundle


async def _load_full(
    session: AsyncSession,
    bundle: ReportBundle,
    binds: dict[str, Any],
    present: set[str],
) -> None:
    pre = bundle.pre
    activities = list(await session.scalars(BUNDLE_STATEMENTS["activities"], binds))
    for activity in activities:
        assert activity.report_id is not None
        bundle.activities[activity.report_id].append(activity)
    want_activity_refs(pre, activities)
    if "attachments" in present:
        # The report's own attachments and its activities' (claimed ones carry the report id).
        for attachment in await session.scalars(BUNDLE_STATEMENTS["attachments"], binds):
            assert attachment.report_id is not None
            if attachment.activity_id is None:
                bundle.attachments[attachment.report_id].append(attachment)
            else:
                bundle.activity_attachments[attachment.activity_id].append(attachment)
    if "swags" in present:
        for swag in await session.scalars(BUNDLE_STATEMENTS["swags"], binds):
            bundle.swags[swag.report_id].append(swag)
            pre.add([swag])
    if "summaries" in present:
        for summary in await session.scalars(BUNDLE_STATEMENTS["summaries"], binds):
            bundle.summaries[summary.report_id].append(summary)
            pre.want(User, summary.user_id)
    if "guidances" in present:
        for guidance in await session.scalars(BUNDLE_STATEMENTS["guidances"], binds):
            bundle.guidances[guidance.report_id].append(guidance)
            pre.want(User, guidance.author_id)


# ---- lookups for the workflow ----


async def find_program_group(
    session: AsyncSession, program: Program, group_id: int
) -> Group | None:
    """A group of the program's organization that covers the program."""
    return await session.scalar(
        select(Group)
        .join(group_programs, group_programs.c.group_id == Group.id)
        .where(
            Group.id == group_id,
            Group.organization_id == program.organization_id,
            group_programs.c.program_id == program.id,
        )
    )


async def find_assignable_user(
    session: AsyncSession, program: Program, user_id: int
) -> User | None:
    """A person (never an API user) in the organization who can see the program."""
    row = (
        await session.execute(
            select(User, OrganizationMember.organization_admin)
            .join(OrganizationMember, OrganizationMember.user_id == User.id)
            .where(
                User.id == user_id,
                User.user_type != "api",
                OrganizationMember.organization_id == program.organization_id,
            )
        )
    ).first()
    if row is None:
        return None
    user, admin = row
    if admin:
        return user
    in_group = await session.scalar(
        select(group_members.c.user_id)
        .join(group_programs, group_programs.c.group_id == group_members.c.group_id)
        .where(group_members.c.user_id == user.id, group_programs.c.program_id == program.id)
        .limit(1)
    )
    return user if in_group is not None else None


async def find_program_weakness(
    session: AsyncSession, program_id: int, weakness_id: int
) -> Weakness | None:
    return await session.scalar(
        select(Weakness)
        .join(program_weaknesses, program_weaknesses.c.weakness_id == Weakness.id)
        .where(Weakness.id == weakness_id, program_weaknesses.c.program_id == program_id)
    )


async def find_custom_field_value(
    session: AsyncSession, report_id: int, field_id: int
) -> CustomFieldValue | None:
    return await session.scalar(
        select(CustomFieldValue).where(
            CustomFieldValue.report_id == report_id,
            CustomFieldValue.custom_field_attribute_id == field_id,
        )
    )


async def find_custom_inboxes(
    session: AsyncSession, organization_id: int, inbox_ids: set[int]
) -> list[Inbox]:
    if not inbox_ids:
        return []
    rows = await session.scalars(
        select(Inbox).where(
            Inbox.id.in_(inbox_ids),
            Inbox.organization_id == organization_id,
            Inbox.type == "custom",
        )
    )
    return list(rows)


async def replace_custom_inboxes(
    session: AsyncSession, report_id: int, inbox_ids: list[int]
) -> None:
    custom = select(Inbox.id).where(Inbox.type == "custom")
    await session.execute(
        delete(report_inboxes).where(
            report_inboxes.c.report_id == report_id, report_inboxes.c.inbox_id.in_(custom)
        )
    )
    if inbox_ids:
        await session.execute(
            insert(report_inboxes), [{"report_id": report_id, "inbox_id": i} for i in inbox_ids]
        )


async def find_issue_tracker(session: AsyncSession, program_id: int) -> ProgramIntegration | None:
    return await session.scalar(
        select(ProgramIntegration)
        .where(
            ProgramIntegration.program_id == program_id,
            ProgramIntegration.group_type == "issue_tracking",
        )
        .order_by(ProgramIntegration.id)
        .limit(1)
    )


async def find_integration(
    session: AsyncSession, program_id: int, integration_id: str
) -> ProgramIntegration | None:
    """Integrations are named on the wire by an opaque id (HackerOne uses base64 global ids)."""
    iid = integration_gid_to_id(integration_id)
    if iid is None:
        return None
    return await session.scalar(
        select(ProgramIntegration).where(
            ProgramIntegration.id == iid, ProgramIntegration.program_id == program_id
        )
    )


def integration_gid(integration_id: int) -> str:
    return base64.b64encode(f"gid://bountybox/SolutionInstance/{integration_id}".encode()).decode()


def integration_gid_to_id(value: str) -> int | None:
    if value.isdigit():
        return parse_id(value)
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    prefix = "gid://bountybox/SolutionInstance/"
    return parse_id(decoded.removeprefix(prefix)) if decoded.startswith(prefix) else None


async def detach_program_specifics(session: AsyncSession, report: Report) -> None:
    """What belongs to the old program does not travel with a transferred report."""
    report.weakness_id = None
    report.structured_scope_id = None
    report.assignee_group_id = None
    report.assignee_user_id = None
    report.escalated_integration_id = None
    report.campaign_id = None
    await session.execute(delete(report_inboxes).where(report_inboxes.c.report_id == report.id))
    await session.execute(delete(CustomFieldValue).where(CustomFieldValue.report_id == report.id))


async def move_activities(
    session: AsyncSession, report_id: int, program_id: int, at: dt.datetime
) -> None:
    """The report's history goes with it; touching `updated_at` makes the new program's
    incremental feed deliver that history to its syncing clients."""
    await session.execute(
        update(Activity)
        .where(Activity.report_id == report_id)
        .values(program_id=program_id, updated_at=at)
    )


async def link_default_inbox(session: AsyncSession, report: Report) -> None:
    inbox_id = await session.scalar(
        select(Inbox.id)
        .where(Inbox.program_id == report.program_id, Inbox.type == "default")
        .order_by(Inbox.id)
        .limit(1)
    )
    if inbox_id is not None:
        await session.execute(
            insert(report_inboxes), [{"report_id": report.id, "inbox_id": inbox_id}]
        )


async def latest_address(session: AsyncSession, user_id: int) -> Address | None:
    return await session.scalar(
        select(Address).where(Address.user_id == user_id).order_by(Address.id.desc()).limit(1)
    )


async def reports_due_for_disclosure(session: AsyncSession, now: dt.datetime) -> list[Report]:
    rows = await session.scalars(
        select(Report)
        .where(
            Report.allow_singular_disclosure_at.is_not(None),
            Report.allow_singular_disclosure_at <= now,
            Report.disclosed_at.is_(None),
            Report.state.in_([s.value for s in CLOSED_STATES]),
        )
        .with_for_update(skip_locked=True)
    )
    return list(rows)


async def redact_texts(
    session: AsyncSession,
    report_id: int,
    needle: str,
    replacement: str,
    *,
    include_internal: bool,
    at: dt.datetime,
) -> None:
    """Replaces the string in activity messages and text attributes (old/new titles, ...);
    touching `updated_at` sends the redacted activities to incremental syncs again."""
    activities = select(Activity).where(Activity.report_id == report_id)
    if not include_internal:
        activities = activities.where(Activity.internal.is_(False))
    for activity in await session.scalars(activities):
        message = (activity.message or "").replace(needle, replacement)
        extra = {
            k: v.replace(needle, replacement) if isinstance(v, str) else v
            for k, v in (activity.extra or {}).items()
        }
        if message != (activity.message or "") or extra != (activity.extra or {}):
            activity.message = message if activity.message is not None else None
            activity.extra = extra
            activity.updated_at = at
    for summary in await session.scalars(
        select(ReportSummary).where(ReportSummary.report_id == report_id)
    ):
        summary.content = summary.content.replace(needle, replacement)


async def find_team_summary(session: AsyncSession, report_id: int) -> ReportSummary | None:
    return await session.scalar(
        select(ReportSummary).where(
            ReportSummary.report_id == report_id, ReportSummary.category == "team"
        )
    )


async def find_hacker(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(
        select(User).where(User.username == username, User.user_type == "hacker")
    )


async def participant_exists(
    session: AsyncSession, report_id: int, *, email: str | None, user_id: int | None
) -> bool:
    conditions = []
    if email is not None:
        conditions.append(ReportParticipant.email == email)
    if user_id is not None:
        conditions.append(ReportParticipant.user_id == user_id)
    if not conditions:
        return False
    found = await session.scalar(
        select(ReportParticipant.id).where(
            ReportParticipant.report_id == report_id, or_(*conditions)
        )
    )
    return found is not None


async def preload(session: AsyncSession, *wants: tuple[type[Any], int | None]) -> Preloader:
    """The rows one rendered object embeds, fetched in one query per kind."""
    pre = Preloader(session)
    for model, id_ in wants:
        pre.want(model, id_)
    await pre.fetch()
    return pre


async def bounty_suggestions(session: AsyncSession, report_id: int) -> list[Activity]:
    rows = await session.scalars(
        select(Activity)
        .where(Activity.report_id == report_id, Activity.type == "activity-bounty-suggested")
        .order_by(Activity.created_at.desc(), Activity.id.desc())
    )
    return list(rows)


async def report_attachments(session: AsyncSession, report_id: int) -> list[Attachment]:
    rows = await session.scalars(select(Attachment).where(Attachment.report_id == report_id))
    return list(rows)
