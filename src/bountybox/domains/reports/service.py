"""Report rules: creation on behalf of a program, state changes and comments. Services raise
AppError subclasses, record activities through events.emit, and never commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox import events
from bountybox.core.auth import Actor, ProgramPermission
from bountybox.core.clock import Clock
from bountybox.core.errors import Forbidden, InvalidParameter
from bountybox.db.models import (
    Activity,
    Attachment,
    CustomFieldAttribute,
    Program,
    Report,
    Severity,
    StructuredScope,
    program_weaknesses,
)
from bountybox.domains.reports import repository
from bountybox.domains.reports.schemas import (
    CommentAttributes,
    ReportCreateAttributes,
    StateChangeAttributes,
)
from bountybox.domains.reports.states import (
    CLOSED_STATES,
    MESSAGE_REQUIRED,
    TRANSITIONS,
    ReportState,
    activity_type,
)

IMPACT_SEPARATOR = "\n\n## Impact\n\n"


def require(actor: Actor, program_id: int, permission: ProgramPermission) -> None:
    if not actor.can(program_id, permission):
        raise Forbidden()


async def create_report(
    *, session: AsyncSession, clock: Clock, actor: Actor, report_in: ReportCreateAttributes
) -> Report:
    program = await session.scalar(select(Program).where(Program.handle == report_in.team_handle))
    if program is None or not actor.can_see(program.id):
        raise InvalidParameter("team_handle")
    require(actor, program.id, ProgramPermission.REPORT_MANAGEMENT)
    if report_in.weakness_id is not None:
        enabled = await session.scalar(
            select(program_weaknesses.c.weakness_id).where(
                program_weaknesses.c.program_id == program.id,
                program_weaknesses.c.weakness_id == report_in.weakness_id,
            )
        )
        if enabled is None:
            raise InvalidParameter("weakness_id")
    if report_in.structured_scope_id is not None:
        scope = await session.get(StructuredScope, report_in.structured_scope_id)
        if scope is None or scope.program_id != program.id or scope.archived_at is not None:
            raise InvalidParameter("structured_scope_id")
    required_field = await session.scalar(
        select(CustomFieldAttribute.label).where(
            CustomFieldAttribute.program_id == program.id,
            CustomFieldAttribute.required.is_(True),
            CustomFieldAttribute.archived_at.is_(None),
        )
    )
    if required_field is not None:
        raise InvalidParameter(
            "custom_field_values", f"The custom field '{required_field}' is required."
        )

    now = clock.now()
    report = Report(
        program_id=program.id,
        reporter_id=actor.user_id,
        title=report_in.title,
        vulnerability_information=report_in.vulnerability_information
        + IMPACT_SEPARATOR
        + report_in.impact,
        state=ReportState.NEW.value,
        source=report_in.source,
        created_at=now,
        updated_at=now,
        submitted_at=now,
        last_reporter_activity_at=now,
        first_program_activity_at=now,
        last_program_activity_at=now,
        last_public_activity_at=now,
        last_activity_at=now,
        cve_ids=[],
        report_tags=[],
        weakness_id=report_in.weakness_id,
        structured_scope_id=report_in.structured_scope_id,
    )
    session.add(report)
    await session.flush()
    if report_in.severity_rating is not None:
        severity = Severity(
            report_id=report.id,
            rating=report_in.severity_rating.value,
            author_type="User",
            user_id=actor.user_id,
            calculation_method="manual",
            metrics={},
            created_at=now,
        )
        session.add(severity)
        await session.flush()
        report.severity_id = severity.id
    return report


def touch_program_activity(report: Report, clock: Clock, *, public: bool) -> None:
    now = clock.now()
    report.updated_at = now
    report.last_activity_at = now
    report.last_program_activity_at = now
    if report.first_program_activity_at is None:
        report.first_program_activity_at = now
    if public:
        report.last_public_activity_at = now


async def claim_attachments(
    session: AsyncSession,
    actor: Actor,
    report: Report,
    activity: Activity,
    attachment_ids: list[int],
) -> None:
    """Uploaded attachments named in `attachment_ids` move onto the new activity."""
    if not attachment_ids:
        return
    wanted = set(attachment_ids)
    rows = list(
        await session.scalars(
            select(Attachment).where(
                Attachment.id.in_(wanted),
                Attachment.organization_id == actor.organization_id,
                Attachment.activity_id.is_(None),
                (Attachment.report_id.is_(None)) | (Attachment.report_id == report.id),
            )
        )
    )
    if len(rows) != len(wanted):
        raise InvalidParameter("attachment_ids")
    for attachment in rows:
        attachment.report_id = report.id
        attachment.activity_id = activity.id


async def change_state(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    change_in: StateChangeAttributes,
) -> Report:
    require(actor, report.program_id, ProgramPermission.REPORT_MANAGEMENT)
    old = ReportState(report.state)
    new = change_in.state
    if new not in TRANSITIONS.get(old, frozenset()):
        raise InvalidParameter("state", f"A report cannot move from '{old}' to '{new}'.")
    message = change_in.message or ""
    if new in MESSAGE_REQUIRED and not message.strip():
        raise InvalidParameter("message", f"A message is required to change the state to '{new}'.")
    extra: dict[str, object] = {}
    if new is ReportState.DUPLICATE:
        if change_in.original_report_id is not None:
            original = await repository.find_visible_report(
                session, actor, change_in.original_report_id
            )
            if original is None or original.id == report.id:
                raise InvalidParameter("original_report_id")
            report.original_report_id = original.id
            extra["original_report_id"] = original.id
    elif change_in.original_report_id is not None:
        raise InvalidParameter(
            "original_report_id", "original_report_id is only accepted for duplicates."
        )

    now = clock.now()
    report.state = new.value
    if new is ReportState.TRIAGED:
        report.triaged_at = now
    if new in CLOSED_STATES:
        report.closed_at = now
    elif old in CLOSED_STATES:
        report.closed_at = None
    if new is not ReportState.DUPLICATE and old is ReportState.DUPLICATE:
        report.original_report_id = None
    touch_program_activity(report, clock, public=True)
    activity = await events.emit(
        session,
        clock,
        type=activity_type(old, new),
        program_id=report.program_id,
        report_id=report.id,
        actor=actor,
        message=message,
        internal=False,
        extra=extra,
    )
    await claim_attachments(session, actor, report, activity, change_in.attachment_ids)
    return report


async def add_comment(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    comment_in: CommentAttributes,
) -> Activity:
    if not comment_in.internal:
        require(actor, report.program_id, ProgramPermission.REPORT_MANAGEMENT)
    touch_program_activity(report, clock, public=not comment_in.internal)
    activity = await events.emit(
        session,
        clock,
        type="activity-comment",
        program_id=report.program_id,
        report_id=report.id,
        actor=actor,
        message=comment_in.message,
        internal=comment_in.internal,
    )
    await claim_attachments(session, actor, report, activity, comment_in.attachment_ids)
    return activity
