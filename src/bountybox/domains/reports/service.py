"""Report rules: creation, state changes, comments and the whole triage workflow (assignment,
severity, classification, rewards, retests, disclosure, redaction). Services raise AppError
subclasses, record activities through events.emit, and never commit."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox import events
from bountybox.core.audit import note
from bountybox.core.auth import Actor, ProgramPermission
from bountybox.core.clock import Clock
from bountybox.core.errors import AppError, Forbidden, InvalidParameter, NotFound
from bountybox.core.jsonapi.render import money, ts
from bountybox.core.storage import Storage, new_storage_key
from bountybox.db.models import (
    Activity,
    Attachment,
    Bounty,
    CustomFieldAttribute,
    CustomFieldValue,
    Program,
    Report,
    ReportParticipant,
    ReportSummary,
    Severity,
    StructuredScope,
    Swag,
    program_weaknesses,
)
from bountybox.domains.billing import service as ledger
from bountybox.domains.reports import repository
from bountybox.domains.reports.attachments import Upload
from bountybox.domains.reports.resource import bounty_activity_extra
from bountybox.domains.reports.schemas import (
    AssigneeData,
    AssigneeType,
    CalculationMethod,
    CommentAttributes,
    CustomFieldValueAttributes,
    DisclosureAttributes,
    ParticipantAttributes,
    RedactAttributes,
    ReferenceAttributes,
    ReportCreateAttributes,
    RetestApproveAttributes,
    RetestAttributes,
    RewardAttributes,
    SeverityAttributes,
    SeverityRating,
    StateChangeAttributes,
    SwagAttributes,
    TransferAttributes,
)
from bountybox.domains.reports.scoring import Scored, score_metrics
from bountybox.domains.reports.states import (
    ACTIVITY_TYPES,
    CLOSED_STATES,
    MESSAGE_REQUIRED,
    TRANSITIONS,
    ReportState,
    activity_type,
)
from bountybox.domains.webhooks import service as webhooks

IMPACT_SEPARATOR = "\n\n## Impact\n\n"


def require(
    actor: Actor,
    program_id: int,
    *permissions: ProgramPermission,
    error: type[AppError] = Forbidden,
) -> None:
    """The actor needs one of `permissions`; HackerOne answers some operations' refusals with 404
    instead of 403 (catalogue "Perm -> err" column), hence `error`."""
    if not any(actor.can(program_id, p) for p in permissions):
        raise error()


async def create_report(
    *, session: AsyncSession, clock: Clock, actor: Actor, report_in: ReportCreateAttributes
) -> Report:
    program = await session.scalar(select(Program).where(Program.handle == report_in.team_handle))
    if program is None or not actor.can_see(program.id):
        raise InvalidParameter("team_handle")
    require(actor, program.id, ProgramPermission.REPORT_MANAGEMENT)
    await check_classification(
        session,
        program,
        weakness_id=report_in.weakness_id,
        structured_scope_id=report_in.structured_scope_id,
    )
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
    return await file_report(
        session=session,
        clock=clock,
        program=program,
        reporter_id=actor.user_id,
        title=report_in.title,
        vulnerability_information=report_in.vulnerability_information,
        impact=report_in.impact,
        source=report_in.source,
        weakness_id=report_in.weakness_id,
        structured_scope_id=report_in.structured_scope_id,
        rating=report_in.severity_rating,
        filed_by_program=True,
    )


async def check_classification(
    session: AsyncSession,
    program: Program,
    *,
    weakness_id: int | None,
    structured_scope_id: int | None,
) -> StructuredScope | None:
    """A new report's weakness must be enabled on its program and its asset one of the program's
    current scopes (400 naming the attribute otherwise); returns that scope."""
    if weakness_id is not None:
        enabled = await session.scalar(
            select(program_weaknesses.c.weakness_id).where(
                program_weaknesses.c.program_id == program.id,
                program_weaknesses.c.weakness_id == weakness_id,
            )
        )
        if enabled is None:
            raise InvalidParameter("weakness_id")
    if structured_scope_id is None:
        return None
    scope = await session.get(StructuredScope, structured_scope_id)
    if scope is None or scope.program_id != program.id or scope.archived_at is not None:
        raise InvalidParameter("structured_scope_id")
    return scope


async def file_report(
    *,
    session: AsyncSession,
    clock: Clock,
    program: Program,
    reporter_id: int,
    title: str,
    vulnerability_information: str,
    impact: str | None,
    source: str | None,
    weakness_id: int | None,
    structured_scope_id: int | None,
    rating: SeverityRating | None = None,
    scored: Scored | None = None,
    filed_by_program: bool,
) -> Report:
    """Writes a new report, in state new, with the reporter's severity: imported by the program's
    team (POST /reports) or submitted by a hacker (POST /hackers/reports). Callers validate."""
    now = clock.now()
    program_activity = now if filed_by_program else None
    report = Report(
        program_id=program.id,
        reporter_id=reporter_id,
        title=title,
        vulnerability_information=vulnerability_information
        if impact is None
        else vulnerability_information + IMPACT_SEPARATOR + impact,
        state=ReportState.NEW.value,
        source=source,
        created_at=now,
        updated_at=now,
        submitted_at=now,
        last_reporter_activity_at=now,
        first_program_activity_at=program_activity,
        last_program_activity_at=program_activity,
        last_public_activity_at=now,
        last_activity_at=now,
        cve_ids=[],
        report_tags=[],
        weakness_id=weakness_id,
        structured_scope_id=structured_scope_id,
    )
    session.add(report)
    await session.flush()
    await repository.link_default_inbox(session, report)
    note(program_id=program.id, subject=f"Report#{report.id}")
    if filed_by_program:
        # A hacker's submission records its own `activity-bug-filed`, which fires the event.
        await webhooks.report_created(session, report)
    if scored is None and rating is None:
        return report
    severity = Severity(
        report_id=report.id, author_type="User", user_id=reporter_id, metrics={}, created_at=now
    )
    if scored is not None:
        severity.rating = scored.rating
        severity.score = scored.score
        severity.calculation_method = scored.method
        severity.cvss_vector_string = scored.vector
        severity.metrics = scored.metrics
    elif rating is not None:
        severity.rating = rating.value
        severity.calculation_method = "manual"
    session.add(severity)
    await session.flush()
    report.set_severity(severity)
    return report


def touch_program_activity(report: Report, now: dt.datetime, *, public: bool) -> None:
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
            select(Attachment)
            .where(
                Attachment.id.in_(wanted),
                Attachment.organization_id == actor.organization_id,
                Attachment.activity_id.is_(None),
                (Attachment.report_id.is_(None)) | (Attachment.report_id == report.id),
            )
            .with_for_update()
        )
    )
    if len(rows) != len(wanted):
        raise InvalidParameter("attachment_ids")
    for attachment in rows:
        attachment.report_id = report.id
        attachment.activity_id = activity.id
    # The response renders the activity with its attachments from the database.
    await session.flush()


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
        withdraw_pending_disclosure(report)
    if new is not ReportState.DUPLICATE and old is ReportState.DUPLICATE:
        report.original_report_id = None
    activity = await record(
        session, clock, actor, report, activity_type(old, new), message=message, extra=extra, at=now
    )
    await claim_attachments(session, actor, report, activity, change_in.attachment_ids)
    return report


def withdraw_pending_disclosure(report: Report) -> None:
    """A report that opens again is no longer on its way to disclosure."""
    if report.disclosed_at is None:
        report.team_agreed_on_going_public_at = None
        report.allow_singular_disclosure_at = None
        report.disclosure_substate = None


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
    activity = await record(
        session,
        clock,
        actor,
        report,
        "activity-comment",
        message=comment_in.message,
        internal=comment_in.internal,
    )
    await claim_attachments(session, actor, report, activity, comment_in.attachment_ids)
    return activity


# ---- the triage workflow ----

RM = ProgramPermission.REPORT_MANAGEMENT
RW = ProgramPermission.REWARD_MANAGEMENT
PM = ProgramPermission.PROGRAM_MANAGEMENT
DISCLOSURE_DELAY = dt.timedelta(days=30)
REDACTED = "[REDACTED]"
MAX_TITLE = 500


async def record(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    type: str,
    *,
    message: str | None = "",
    internal: bool = False,
    extra: dict[str, Any] | None = None,
    refs: dict[str, int] | None = None,
    at: dt.datetime | None = None,
) -> Activity:
    """One activity on the report, and the report's program-activity timestamps moved with it
    (before the activity is written, so the report's changes are written in the same flush)."""
    now = at or clock.now()
    touch_program_activity(report, now, public=not internal)
    return await events.emit(
        session,
        clock,
        type=type,
        program_id=report.program_id,
        report_id=report.id,
        actor=actor,
        message=message,
        internal=internal,
        extra=extra,
        refs=refs,
        at=now,
    )


async def program_of(session: AsyncSession, report: Report) -> Program:
    program = await session.get(Program, report.program_id)
    assert program is not None
    return program


# ---- assignment ----


async def assign(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, assignee_in: AssigneeData
) -> Report:
    require(actor, report.program_id, RM)
    message = assignee_in.attributes.message
    if assignee_in.type is AssigneeType.NOBODY:
        report.assignee_user_id = None
        report.assignee_group_id = None
        await record(
            session,
            clock,
            actor,
            report,
            "activity-nobody-assigned-to-bug",
            message=message,
            internal=True,
        )
        return report
    if assignee_in.id is None:
        raise InvalidParameter("id")
    program = await program_of(session, report)
    if assignee_in.type is AssigneeType.GROUP:
        group = await repository.find_program_group(session, program, assignee_in.id)
        if group is None:
            raise InvalidParameter("id")
        report.assignee_group_id = group.id
        report.assignee_user_id = None
        await record(
            session,
            clock,
            actor,
            report,
            "activity-group-assigned-to-bug",
            message=message,
            internal=True,
            refs={"group": group.id},
        )
        return report
    user = await repository.find_assignable_user(session, program, assignee_in.id)
    if user is None:
        raise InvalidParameter("id")
    report.assignee_user_id = user.id
    report.assignee_group_id = None
    await record(
        session,
        clock,
        actor,
        report,
        "activity-user-assigned-to-bug",
        message=message,
        internal=True,
        refs={"assigned_user": user.id},
    )
    return report


# ---- severity ----


async def set_severity(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    severity_in: SeverityAttributes,
) -> Severity:
    require(actor, report.program_id, RM)
    given = severity_in.model_dump(
        exclude={"rating", "calculation_method", "message"}, exclude_none=True
    )
    method = severity_in.calculation_method
    if method is None:
        method = (
            CalculationMethod.MANUAL
            if not given
            else CalculationMethod.CVSS_4_0
            if any(
                k.startswith(("vulnerable_", "subsequent_")) or k == "attack_requirements"
                for k in given
            )
            else CalculationMethod.CVSS_3_1
        )
    severity = Severity(
        report_id=report.id,
        author_type="Team",
        user_id=actor.user_id,
        message=severity_in.message,
        created_at=clock.now(),
    )
    if method is CalculationMethod.MANUAL:
        if severity_in.rating is None:
            raise InvalidParameter("rating")
        severity.rating = severity_in.rating.value
        severity.calculation_method = method.value
        severity.metrics = {}
    else:
        scored = score_metrics(method.value, given)
        severity.rating = scored.rating
        severity.score = scored.score
        severity.cvss_vector_string = scored.vector
        severity.metrics = scored.metrics
        severity.calculation_method = method.value
    session.add(severity)
    await session.flush()
    old_id = report.severity_id
    report.set_severity(severity)
    refs = {"new_severity": severity.id}
    if old_id is not None:
        refs["old_severity"] = old_id
    await record(
        session,
        clock,
        actor,
        report,
        "activity-report-severity-updated",
        message=severity_in.message or "",
        internal=False,
        refs=refs,
    )
    return severity


# ---- classification ----


async def set_weakness(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, weakness_id: int
) -> Report:
    require(actor, report.program_id, RM, error=NotFound)
    weakness = await repository.find_program_weakness(session, report.program_id, weakness_id)
    if weakness is None:
        raise InvalidParameter("weakness_id")
    refs = {"new_weakness": weakness.id}
    if report.weakness_id is not None:
        refs["old_weakness"] = report.weakness_id
    report.weakness_id = weakness.id
    await record(
        session,
        clock,
        actor,
        report,
        "activity-report-vulnerability-types-updated",
        internal=False,
        refs=refs,
    )
    return report


async def set_structured_scope(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, scope_id: int
) -> Report:
    require(actor, report.program_id, RM, error=NotFound)
    scope = await session.get(StructuredScope, scope_id)
    if scope is None or scope.program_id != report.program_id or scope.archived_at is not None:
        raise InvalidParameter("structured_scope_id")
    refs = {"new_scope": scope.id}
    if report.structured_scope_id is not None:
        refs["old_scope"] = report.structured_scope_id
    report.structured_scope_id = scope.id
    await record(session, clock, actor, report, "activity-changed-scope", internal=False, refs=refs)
    return report


async def set_title(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, title: str
) -> Report:
    require(actor, report.program_id, RM, PM)
    old = report.title
    report.title = title
    await record(
        session,
        clock,
        actor,
        report,
        "activity-report-title-updated",
        internal=False,
        extra={"old_title": old, "new_title": title},
    )
    return report


async def set_vulnerability_information(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, text: str
) -> Report:
    require(actor, report.program_id, RM, PM)
    report.vulnerability_information = text
    await record(
        session,
        clock,
        actor,
        report,
        "activity-report-vulnerability-information-updated",
        internal=False,
    )
    return report


async def set_cve_ids(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, cve_ids: list[str]
) -> Report:
    require(actor, report.program_id, RM, error=NotFound)
    unique = list(dict.fromkeys(cve_ids))
    added = [c for c in unique if c not in (report.cve_ids or [])]
    report.cve_ids = unique
    report.updated_at = clock.now()
    if not added:
        return report
    await record(
        session,
        clock,
        actor,
        report,
        "activity-cve-id-added",
        internal=False,
        extra={"cve_ids": added},
    )
    return report


def set_report_tags(*, clock: Clock, actor: Actor, report: Report, tags: list[str]) -> Report:
    require(actor, report.program_id, RM)
    report.report_tags = list(dict.fromkeys(tags))
    report.updated_at = clock.now()
    return report


async def set_custom_field_value(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    value_in: CustomFieldValueAttributes,
) -> CustomFieldValue:
    require(actor, report.program_id, RM)
    field = await session.get(CustomFieldAttribute, value_in.custom_field_attribute_id)
    if field is None or field.program_id != report.program_id or field.archived_at is not None:
        raise InvalidParameter("custom_field_attribute_id")
    value = value_in.value if value_in.value not in (None, "") else None
    if value is not None:
        validate_custom_value(field, value)
    existing = await repository.find_custom_field_value(session, report.id, field.id)
    now = clock.now()
    old_value = existing.value if existing else None
    if existing is None:
        existing = CustomFieldValue(
            report_id=report.id,
            custom_field_attribute_id=field.id,
            value=value,
            created_at=now,
            updated_at=now,
        )
        session.add(existing)
    else:
        existing.value = value
        existing.updated_at = now
    await session.flush()
    if old_value != value:
        await record(
            session,
            clock,
            actor,
            report,
            "activity-report-custom-field-value-updated",
            internal=field.internal,
            extra={"old_value": old_value, "new_value": value},
            refs={"custom_field_attribute": field.id},
        )
    if value is None:
        # An empty value removes the field from the report; the activity keeps the history.
        await session.delete(existing)
        existing.value = None
    return existing


def validate_custom_value(field: CustomFieldAttribute, value: str) -> None:
    if field.field_type == "List" and field.configuration:
        options = [o.strip() for o in field.configuration.split(",")]
        if value not in options:
            raise InvalidParameter("value", f"The value must be one of: {', '.join(options)}.")
    if field.field_type == "Checkbox" and value not in ("true", "false"):
        raise InvalidParameter("value")
    if field.regex:
        try:
            matched = re.fullmatch(field.regex, value) is not None
        except re.error:
            matched = True
        if not matched:
            raise InvalidParameter(
                "value", field.error_message or "The value has the wrong format."
            )


async def set_inboxes(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, inbox_ids: list[int]
) -> Report:
    """Replaces the report's custom inboxes; default and summary inboxes stay."""
    require(actor, report.program_id, RM, error=NotFound)
    program = await program_of(session, report)
    wanted = set(inbox_ids)
    found = await repository.find_custom_inboxes(session, program.organization_id, wanted)
    if len(found) != len(wanted):
        raise InvalidParameter("organization_inbox_ids")
    await repository.replace_custom_inboxes(session, report.id, [i.id for i in found])
    report.updated_at = clock.now()
    return report


async def set_reference(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    reference_in: ReferenceAttributes,
) -> Report:
    require(actor, report.program_id, RM)
    integration = await repository.find_issue_tracker(session, report.program_id)
    url = None
    if integration is not None and integration.reference_url_prefix:
        url = integration.reference_url_prefix + quote(reference_in.reference, safe="")
    report.issue_tracker_reference_id = reference_in.reference
    report.issue_tracker_reference_url = url
    await record(
        session,
        clock,
        actor,
        report,
        "activity-reference-id-added",
        message=reference_in.message or "",
        internal=True,
        extra={"reference": reference_in.reference, "reference_url": url},
    )
    return report


async def escalate(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, integration_id: str
) -> Report:
    require(actor, report.program_id, RM)
    integration = await repository.find_integration(session, report.program_id, integration_id)
    if integration is None or integration.group_type != "issue_tracking":
        raise InvalidParameter("integration_id")
    report.escalated_integration_id = integration.id
    report.updated_at = clock.now()
    return report


def deescalate(*, clock: Clock, actor: Actor, report: Report) -> Report:
    require(actor, report.program_id, RM)
    if report.escalated_integration_id is None:
        raise InvalidParameter("integration_id", "The report is not escalated.")
    report.escalated_integration_id = None
    report.updated_at = clock.now()
    return report


async def transfer(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    transfer_in: TransferAttributes,
) -> Report:
    """Moves the report to the program's parent, a child or a sibling program."""
    require(actor, report.program_id, RM)
    source = await program_of(session, report)
    target = await session.get(Program, transfer_in.target_team_id)
    if target is None or target.id == source.id or not actor.can_see(target.id):
        raise InvalidParameter("target_team_id")
    related = (
        target.parent_program_id == source.id
        or source.parent_program_id == target.id
        or (
            source.parent_program_id is not None
            and source.parent_program_id == target.parent_program_id
        )
    )
    if not related:
        raise InvalidParameter("target_team_id", "Reports move only between related programs.")
    require(actor, target.id, RM)
    await repository.detach_program_specifics(session, report)
    await record(
        session,
        clock,
        actor,
        report,
        "activity-reassigned-to-team",
        internal=True,
        extra={"old_team_handle": source.handle, "new_team_handle": target.handle},
    )
    report.program_id = target.id
    await repository.move_activities(session, report.id, target.id, clock.now())
    await repository.link_default_inbox(session, report)
    return report


# ---- rewards ----


def cents(amount: Decimal | None) -> int:
    return int((amount or Decimal(0)) * 100)


async def award_bounty(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    bounty_in: RewardAttributes,
) -> Bounty:
    require(actor, report.program_id, RW, error=NotFound)
    program = await program_of(session, report)
    if not program.offers_bounties:
        raise Forbidden("This program does not award bounties.")
    if report.ineligible_for_bounty:
        raise Forbidden("This report is not eligible for a bounty.")
    amount, bonus = cents(bounty_in.amount), cents(bounty_in.bonus_amount)
    if amount == 0 and bonus == 0:
        raise InvalidParameter("amount", "A bounty needs an amount or a bonus amount.")
    if 0 < amount < program.minimum_bounty_cents:
        raise InvalidParameter(
            "amount",
            f"The amount is below the program minimum of {money(program.minimum_bounty_cents)}.",
        )
    fee = (amount + bonus) * program.bounty_fee_basis_points // 10_000
    balance = await ledger.locked_balance(session, program.id)
    if amount + bonus + fee > balance:
        raise InvalidParameter(
            "amount", f"The bounty and its fee exceed the program balance of {money(balance)}."
        )
    now = clock.now()
    bounty = Bounty(
        report_id=report.id,
        amount_cents=amount,
        bonus_amount_cents=bonus,
        currency=program.currency,
        created_at=now,
    )
    session.add(bounty)
    await session.flush()
    await ledger.pay_bounty(
        session, clock, program=program, report=report, bounty=bounty, fee_cents=fee
    )
    report.bounty_awarded_at = now
    await record(
        session,
        clock,
        actor,
        report,
        "activity-bounty-awarded",
        message=bounty_in.message,
        internal=False,
        extra=bounty_activity_extra(amount, bonus),
        at=now,
    )
    return bounty


async def suggest_bounty(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    bounty_in: RewardAttributes,
) -> Activity:
    require(actor, report.program_id, RW, RM, error=NotFound)
    amount, bonus = cents(bounty_in.amount), cents(bounty_in.bonus_amount)
    return await record(
        session,
        clock,
        actor,
        report,
        "activity-bounty-suggested",
        message=bounty_in.message,
        internal=True,
        extra=bounty_activity_extra(amount, bonus),
    )


async def award_swag(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, swag_in: SwagAttributes
) -> Swag:
    require(actor, report.program_id, RW, error=NotFound)
    address = await repository.latest_address(session, report.reporter_id)
    now = clock.now()
    swag = Swag(
        report_id=report.id,
        user_id=report.reporter_id,
        address_id=address.id if address else None,
        sent=False,
        created_at=now,
    )
    session.add(swag)
    await session.flush()
    report.swag_awarded_at = now
    await record(
        session,
        clock,
        actor,
        report,
        "activity-swag-awarded",
        message=swag_in.message,
        internal=False,
        refs={"swag": swag.id},
        at=now,
    )
    return swag


async def mark_ineligible(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report
) -> Report:
    require(actor, report.program_id, RW)
    if not report.ineligible_for_bounty:
        report.ineligible_for_bounty = True
        await record(
            session, clock, actor, report, "activity-not-eligible-for-bounty", internal=False
        )
    return report


# ---- lifecycle ----


async def close_comments(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report
) -> Activity:
    require(actor, report.program_id, RM)
    if report.state not in CLOSED_STATES:
        raise InvalidParameter("state", "Comments can only be closed on closed reports.")
    if report.comments_closed:
        raise InvalidParameter("state", "Comments are already closed.")
    report.comments_closed = True
    return await record(session, clock, actor, report, "activity-comments-closed", internal=False)


async def request_disclosure(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    disclosure_in: DisclosureAttributes,
) -> Activity:
    """The team agrees to disclose. If the hacker already asked, the report turns public now;
    otherwise it does by itself 30 days later unless someone cancels."""
    require(actor, report.program_id, RM)
    if report.state not in CLOSED_STATES:
        raise InvalidParameter("state", "Only closed reports can be disclosed.")
    if report.disclosed_at is not None:
        raise InvalidParameter("state", "The report is already disclosed.")
    now = clock.now()
    report.disclosure_substate = disclosure_in.substate.value
    report.team_agreed_on_going_public_at = now
    if report.reporter_agreed_on_going_public_at is not None:
        report.allow_singular_disclosure_at = None
        activity = await record(
            session,
            clock,
            actor,
            report,
            "activity-agreed-on-going-public",
            message=disclosure_in.message or "",
            internal=False,
            extra={"disclosed_at": ts(now), "allow_singular_disclosure_at": None},
            at=now,
        )
        await disclose(session, clock, report)
        return activity
    report.allow_singular_disclosure_at = now + DISCLOSURE_DELAY
    return await record(
        session,
        clock,
        actor,
        report,
        "activity-agreed-on-going-public",
        message=disclosure_in.message or "",
        internal=False,
        extra={
            "disclosed_at": None,
            "allow_singular_disclosure_at": ts(report.allow_singular_disclosure_at),
        },
    )


async def disclose(session: AsyncSession, clock: Clock, report: Report) -> None:
    activity = await events.emit(
        session,
        clock,
        type="activity-report-became-public",
        program_id=report.program_id,
        report_id=report.id,
        actor=None,
        actor_is_program=True,
        message="",
        internal=False,
    )
    report.disclosed_at = activity.created_at
    report.allow_singular_disclosure_at = None
    touch_program_activity(report, activity.created_at, public=True)


async def disclose_due_reports(session: AsyncSession, clock: Clock) -> int:
    """Turns public every report whose singular disclosure date has passed."""
    due = await repository.reports_due_for_disclosure(session, clock.now())
    for report in due:
        await disclose(session, clock, report)
    return len(due)


async def cancel_disclosure(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, message: str | None
) -> Activity:
    require(actor, report.program_id, RM)
    if report.team_agreed_on_going_public_at is None or report.disclosed_at is not None:
        raise InvalidParameter("state", "There is no pending disclosure request.")
    report.team_agreed_on_going_public_at = None
    report.allow_singular_disclosure_at = None
    report.disclosure_substate = None
    return await record(
        session,
        clock,
        actor,
        report,
        "activity-cancelled-disclosure-request",
        message=message or "",
        internal=False,
    )


async def redact(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    redact_in: RedactAttributes,
) -> Report:
    require(actor, report.program_id, RM)
    needle = redact_in.string_to_redact
    now = clock.now()
    report.title = report.title.replace(needle, REDACTED)[:MAX_TITLE]
    report.vulnerability_information = report.vulnerability_information.replace(needle, REDACTED)
    await repository.redact_texts(
        session, report.id, needle, REDACTED, include_internal=redact_in.include_internal, at=now
    )
    report.updated_at = now
    return report


async def request_retest(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    retest_in: RetestAttributes,
) -> Report:
    require(actor, report.program_id, RM)
    if report.state != ReportState.RESOLVED:
        raise InvalidParameter("state", "Only resolved reports can be retested.")
    award = (
        cents(retest_in.retest_award_amount) if retest_in.retest_award_amount is not None else None
    )
    if award:
        program = await program_of(session, report)
        if not program.offers_bounties:
            raise InvalidParameter("retest_award_amount", "This program does not award money.")
    report.pre_retest_state = report.state
    report.state = ReportState.RETESTING.value
    report.closed_at = None
    withdraw_pending_disclosure(report)
    report.retest_award_cents = award
    await record(
        session,
        clock,
        actor,
        report,
        "activity-bug-retesting",
        message=retest_in.message or "",
        internal=False,
    )
    return report


def require_retesting(report: Report) -> None:
    if report.state != ReportState.RETESTING:
        raise InvalidParameter("state", "The report has no retest in progress.")


async def approve_retest(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    approve_in: RetestApproveAttributes,
) -> Report:
    """The fix holds: the report is resolved and closed again, and the retest award paid."""
    require(actor, report.program_id, RM)
    require_retesting(report)
    award = (
        cents(approve_in.award_amount)
        if approve_in.award_amount is not None
        else report.retest_award_cents
    ) or 0
    if award:
        program = await program_of(session, report)
        if not program.offers_bounties:
            raise InvalidParameter("award_amount", "This program does not award money.")
        balance = await ledger.locked_balance(session, program.id)
        if award > balance:
            raise InvalidParameter(
                "award_amount", f"The award exceeds the program balance of {money(balance)}."
            )
        await ledger.pay_retest(session, clock, program=program, report=report, amount_cents=award)
    report.state = ReportState.RESOLVED.value
    report.closed_at = clock.now()
    report.pre_retest_state = None
    report.retest_award_cents = None
    await record(
        session,
        clock,
        actor,
        report,
        "activity-report-retest-approved",
        message=approve_in.message or "",
        internal=False,
    )
    return report


async def reject_retest(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, message: str
) -> Report:
    require(actor, report.program_id, RM)
    require_retesting(report)
    restore_pre_retest_state(report, clock)
    await record(
        session,
        clock,
        actor,
        report,
        "activity-report-retest-rejected",
        message=message,
        internal=False,
    )
    return report


async def cancel_retest(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, message: str | None
) -> Report:
    """Cancelling goes back to the state before the retest, recorded as that state's activity."""
    require(actor, report.program_id, RM)
    require_retesting(report)
    previous = ReportState(report.pre_retest_state or ReportState.RESOLVED.value)
    restore_pre_retest_state(report, clock)
    await record(
        session,
        clock,
        actor,
        report,
        ACTIVITY_TYPES[previous],
        message=message or "",
        internal=False,
    )
    return report


def restore_pre_retest_state(report: Report, clock: Clock) -> None:
    report.state = report.pre_retest_state or ReportState.RESOLVED.value
    if report.state in CLOSED_STATES:
        report.closed_at = clock.now()
    report.pre_retest_state = None
    report.retest_award_cents = None


async def add_summary(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report, content: str
) -> ReportSummary:
    """One team summary per report: a second call replaces its content."""
    require(actor, report.program_id, RM)
    now = clock.now()
    summary = await repository.find_team_summary(session, report.id)
    if summary is None:
        summary = ReportSummary(
            report_id=report.id,
            user_id=actor.user_id,
            content=content,
            category="team",
            created_at=now,
            updated_at=now,
        )
        session.add(summary)
    else:
        summary.content = content
        summary.user_id = actor.user_id
        summary.updated_at = now
    report.updated_at = now
    await session.flush()
    return summary


async def invite_participant(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report: Report,
    participant_in: ParticipantAttributes,
) -> ReportParticipant:
    require(actor, report.program_id, RM)
    user = None
    email = participant_in.email
    if participant_in.username is not None:
        user = await repository.find_hacker(session, participant_in.username)
        if user is None:
            raise InvalidParameter("username")
        email = user.email
    if await repository.participant_exists(
        session, report.id, email=email, user_id=user.id if user else None
    ):
        raise InvalidParameter("email" if user is None else "username", "Already invited.")
    now = clock.now()
    participant = ReportParticipant(
        report_id=report.id,
        email=email,
        user_id=user.id if user else None,
        invited_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(participant)
    await session.flush()
    await record(
        session,
        clock,
        actor,
        report,
        "activity-external-user-invited",
        internal=True,
        extra={"email": mask_email(email) if email else None},
    )
    return participant


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    if len(local) <= 2:
        return f"{local[:1]}…@{domain}"
    return f"{local[0]}…{local[-1]}@{domain}"


# ---- attachments ----


async def upload_attachment(
    *, session: AsyncSession, clock: Clock, actor: Actor, storage: Storage, upload: Upload
) -> Attachment:
    """Stores an uploaded file for the organization; comments and state changes claim it later."""
    if actor.organization_id is None or not any(actor.can(p, RM) for p in actor.program_ids):
        raise NotFound()
    key = new_storage_key(upload.file_name)
    await storage.save(key, upload.data)
    attachment = Attachment(
        organization_id=actor.organization_id,
        file_name=upload.file_name,
        content_type=upload.content_type,
        file_size=len(upload.data),
        storage_key=key,
        uploaded_by_id=actor.user_id,
        created_at=clock.now(),
    )
    session.add(attachment)
    await session.flush()
    return attachment


async def delete_attachments(
    *, session: AsyncSession, clock: Clock, actor: Actor, report: Report
) -> list[str]:
    """Deletes the report's attachment rows; returns the storage keys to remove once committed."""
    require(actor, report.program_id, RM, error=NotFound)
    rows = await repository.report_attachments(session, report.id)
    for attachment in rows:
        await session.delete(attachment)
    report.updated_at = clock.now()
    await session.flush()
    return [a.storage_key for a in rows]
