"""Report endpoints: search, read, create, and the whole triage workflow (catalogue §12)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from bountybox.core.errors import InvalidParameter
from bountybox.core.http import Context, Router
from bountybox.core.jsonapi.query import as_str
from bountybox.core.jsonapi.render import Json, document
from bountybox.core.pagination import fetch_page
from bountybox.core.ratelimit import Budget
from bountybox.db.models import Address, CustomFieldAttribute, User
from bountybox.domains.reports import attachments, repository, service
from bountybox.domains.reports.deps import (
    activity_document,
    attachment_urls,
    full_report,
    rendered_activities,
    report_document,
)
from bountybox.domains.reports.pdf import PdfType, report_pdf
from bountybox.domains.reports.resource import (
    render_attachment,
    render_bounty,
    render_custom_field_value,
    render_participant,
    render_report,
    render_severity,
    render_summary,
    render_swag,
)
from bountybox.domains.reports.schemas import (
    AssigneeUpdate,
    CommentCreate,
    CustomFieldValueAttributes,
    CveAttributes,
    DisclosureAttributes,
    Document,
    EscalateAttributes,
    FlatDocument,
    InboxesUpdate,
    OptionalBody,
    ParticipantAttributes,
    RedactAttributes,
    ReferenceAttributes,
    ReportCreate,
    RequiredMessageAttributes,
    RetestApproveAttributes,
    RetestAttributes,
    RewardAttributes,
    ScopeAttributes,
    SeverityAttributes,
    StateChangeCreate,
    SummaryAttributes,
    SwagAttributes,
    TagAttributes,
    TitleAttributes,
    TransferAttributes,
    VulnerabilityInformationAttributes,
    WeaknessAttributes,
    parse_report_query,
)

router = Router()


# ---- search, read, create ----


@router.endpoint("GET", "/v1/reports", budget=Budget.REPORT_READS)
async def list_reports(ctx: Context) -> Json:
    """Search the reports of the given programs or inboxes."""
    query = parse_report_query(ctx.params)
    page = ctx.page()
    program_ids = (
        await repository.visible_program_ids(ctx.session, ctx.actor, query.programs)
        if query.programs
        else None
    )
    stmt = repository.list_query(ctx.actor, query, program_ids)
    reports, total = await fetch_page(ctx.session, stmt, page, keys_first=True)
    bundle = await repository.load_bundle(
        ctx.session, list(reports), full=False, attachment_url=attachment_urls(ctx)
    )
    return ctx.list_document([render_report(r, bundle, full=False) for r in reports], page, total)


@router.endpoint("POST", "/v1/reports", body=ReportCreate, status=201)
async def create_report(ctx: Context, body: ReportCreate) -> Json:
    """Create a report on behalf of a program (imported from another source)."""
    report = await service.create_report(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report_in=body.data.attributes
    )
    return await report_document(ctx, report)


@router.endpoint("GET", "/v1/reports/{id}", budget=Budget.REPORT_READS, cached=True)
async def get_report(ctx: Context, id: str) -> Json:
    """A report with every relationship inline."""
    report = await repository.load_report_for(ctx.session, ctx.actor, id)
    return await report_document(ctx, report)


@router.endpoint("GET", "/v1/reports/{id}/pdf", budget=Budget.REPORT_READS)
async def get_report_pdf(ctx: Context, id: str) -> Response:
    """The report as a PDF; internal activities only in the full and triage exports."""
    report = await repository.load_report_for(ctx.session, ctx.actor, id)
    raw = ctx.params.get("pdf_type") or PdfType.REPORTER.value
    try:
        pdf_type = PdfType(as_str(raw, "pdf_type"))
    except ValueError:
        raise InvalidParameter("pdf_type") from None
    data = await full_report(ctx, report)
    pdf = await asyncio.to_thread(report_pdf, data, pdf_type.value)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="report-{report.id}-{pdf_type}.pdf"'
        },
    )


# ---- state, comments, assignment, severity ----


@router.endpoint("POST", "/v1/reports/{id}/state_changes", body=StateChangeCreate, status=201)
async def create_state_change(ctx: Context, id: str, body: StateChangeCreate) -> Json:
    """Change the state of a report."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.change_state(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        change_in=body.data.attributes,
    )
    return await report_document(ctx, report)


@router.endpoint("POST", "/v1/reports/{id}/activities", body=CommentCreate, status=201)
async def create_comment(ctx: Context, id: str, body: CommentCreate) -> Json:
    """Add a public or internal comment to a report."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    activity = await service.add_comment(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        comment_in=body.data.attributes,
    )
    return await activity_document(ctx, activity)


@router.endpoint("PUT", "/v1/reports/{id}/assignee", body=AssigneeUpdate)
async def update_assignee(ctx: Context, id: str, body: AssigneeUpdate) -> Json:
    """Assign the report to a user, a group, or nobody."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.assign(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report=report, assignee_in=body.data
    )
    return await report_document(ctx, report)


@router.endpoint("POST", "/v1/reports/{id}/severities", body=Document[SeverityAttributes])
async def create_severity(ctx: Context, id: str, body: Document[SeverityAttributes]) -> Json:
    """Set the severity from a rating or CVSS 3.x / 4.0 metrics (a new record each time)."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    severity = await service.set_severity(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        severity_in=body.data.attributes,
    )
    return document(render_severity(severity))


# ---- classification ----


@router.endpoint("PUT", "/v1/reports/{id}/weakness", body=Document[WeaknessAttributes])
async def update_weakness(ctx: Context, id: str, body: Document[WeaknessAttributes]) -> Json:
    """Change the weakness."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.set_weakness(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        weakness_id=body.data.attributes.weakness_id,
    )
    return await report_document(ctx, report)


@router.endpoint("PUT", "/v1/reports/{id}/structured_scope", body=Document[ScopeAttributes])
async def update_structured_scope(ctx: Context, id: str, body: Document[ScopeAttributes]) -> Json:
    """Change the asset."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.set_structured_scope(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        scope_id=body.data.attributes.structured_scope_id,
    )
    return await report_document(ctx, report)


@router.endpoint("PUT", "/v1/reports/{id}/title", body=Document[TitleAttributes])
async def update_title(ctx: Context, id: str, body: Document[TitleAttributes]) -> Json:
    """Change the title."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.set_title(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        title=body.data.attributes.title,
    )
    return await report_document(ctx, report)


@router.endpoint(
    "PUT",
    "/v1/reports/{id}/vulnerability_information",
    body=Document[VulnerabilityInformationAttributes],
)
async def update_vulnerability_information(
    ctx: Context, id: str, body: Document[VulnerabilityInformationAttributes]
) -> Json:
    """Change the vulnerability information (a bountybox extension)."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.set_vulnerability_information(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        text=body.data.attributes.vulnerability_information,
    )
    return await report_document(ctx, report)


@router.endpoint("PUT", "/v1/reports/{id}/cves", body=Document[CveAttributes])
async def update_cves(ctx: Context, id: str, body: Document[CveAttributes]) -> Json:
    """Set the CVE ids."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.set_cve_ids(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        cve_ids=body.data.attributes.cve_ids,
    )
    return await report_document(ctx, report)


@router.endpoint("PUT", "/v1/reports/{id}/report_tags", body=Document[TagAttributes])
async def update_report_tags(ctx: Context, id: str, body: Document[TagAttributes]) -> Json:
    """Replace all tags."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    service.set_report_tags(
        clock=ctx.clock, actor=ctx.actor, report=report, tags=body.data.attributes.report_tags
    )
    return await report_document(ctx, report)


@router.endpoint(
    "POST", "/v1/reports/{id}/custom_field_values", body=Document[CustomFieldValueAttributes]
)
async def create_custom_field_value(
    ctx: Context, id: str, body: Document[CustomFieldValueAttributes]
) -> Json:
    """Set a custom field value; an empty value removes it."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    value = await service.set_custom_field_value(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        value_in=body.data.attributes,
    )
    pre = await repository.preload(
        ctx.session, (CustomFieldAttribute, value.custom_field_attribute_id)
    )
    return document(render_custom_field_value(value, pre))


@router.endpoint("POST", "/v1/reports/{id}/inboxes", body=InboxesUpdate)
async def update_inboxes(ctx: Context, id: str, body: InboxesUpdate) -> Json:
    """Replace the report's custom inboxes."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.set_inboxes(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        inbox_ids=body.data.organization_inbox_ids,
    )
    return await report_document(ctx, report)


@router.endpoint(
    "POST", "/v1/reports/{id}/issue_tracker_reference_id", body=Document[ReferenceAttributes]
)
async def create_issue_tracker_reference(
    ctx: Context, id: str, body: Document[ReferenceAttributes]
) -> Json:
    """Set the issue tracker reference. HackerOne answers with the report under
    relationships.report, not under data."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.set_reference(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        reference_in=body.data.attributes,
    )
    return {"relationships": {"report": {"data": await full_report(ctx, report)}}}


@router.endpoint("POST", "/v1/reports/{id}/escalate", body=Document[EscalateAttributes])
async def create_escalation(ctx: Context, id: str, body: Document[EscalateAttributes]) -> Json:
    """Escalate the report to an issue-tracker integration."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.escalate(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        integration_id=body.data.attributes.integration_id,
    )
    return await report_document(ctx, report)


@router.endpoint("DELETE", "/v1/reports/{id}/escalate")
async def delete_escalation(ctx: Context, id: str) -> Json:
    """Remove the escalation."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    service.deescalate(clock=ctx.clock, actor=ctx.actor, report=report)
    return await report_document(ctx, report)


@router.endpoint("PUT", "/v1/reports/{id}/transfer", body=Document[TransferAttributes])
async def transfer_report(ctx: Context, id: str, body: Document[TransferAttributes]) -> Json:
    """Move the report to a related program."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.transfer(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        transfer_in=body.data.attributes,
    )
    return {"was_successful": True}


# ---- rewards ----


@router.endpoint(
    "POST", "/v1/reports/{id}/bounties", body=FlatDocument[RewardAttributes], status=201
)
async def create_bounty(ctx: Context, id: str, body: FlatDocument[RewardAttributes]) -> Json:
    """Award a bounty (and bonus); the program's balance pays it and its fee."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    bounty = await service.award_bounty(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report=report, bounty_in=body.data
    )
    return document(render_bounty(bounty))


@router.endpoint("GET", "/v1/reports/{id}/bounty_suggestions")
async def list_bounty_suggestions(ctx: Context, id: str) -> Json:
    """The internal bounty suggestions on a report, newest first."""
    report = await repository.load_report_for(ctx.session, ctx.actor, id)
    suggestions = await repository.bounty_suggestions(ctx.session, report.id)
    return {"data": await rendered_activities(ctx, suggestions)}


@router.endpoint(
    "POST", "/v1/reports/{id}/bounty_suggestions", body=FlatDocument[RewardAttributes], status=201
)
async def create_bounty_suggestion(
    ctx: Context, id: str, body: FlatDocument[RewardAttributes]
) -> Json:
    """Suggest a bounty (internal)."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    activity = await service.suggest_bounty(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report=report, bounty_in=body.data
    )
    return await activity_document(ctx, activity)


@router.endpoint("POST", "/v1/reports/{id}/swags", body=FlatDocument[SwagAttributes], status=201)
async def create_swag(ctx: Context, id: str, body: FlatDocument[SwagAttributes]) -> Json:
    """Award swag to the reporter."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    swag = await service.award_swag(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report=report, swag_in=body.data
    )
    pre = await repository.preload(ctx.session, (User, swag.user_id), (Address, swag.address_id))
    return document(render_swag(swag, pre))


@router.endpoint(
    "PUT", "/v1/reports/{id}/ineligible_for_bounty", body=OptionalBody, body_optional=True
)
async def mark_ineligible_for_bounty(ctx: Context, id: str, body: OptionalBody) -> Json:
    """Mark the report ineligible for a bounty."""
    body.require_type("report-ineligible-for-bounty")
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.mark_ineligible(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report=report
    )
    return await report_document(ctx, report)


# ---- lifecycle ----


@router.endpoint("PUT", "/v1/reports/{id}/close_comments", body=OptionalBody, body_optional=True)
async def close_comments(ctx: Context, id: str, body: OptionalBody) -> Json:
    """Lock the comments of a closed report."""
    body.require_type("activity-comments-closed")
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    activity = await service.close_comments(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report=report
    )
    return await activity_document(ctx, activity)


@router.endpoint(
    "POST", "/v1/reports/{id}/disclosure_requests", body=Document[DisclosureAttributes]
)
async def create_disclosure_request(
    ctx: Context, id: str, body: Document[DisclosureAttributes]
) -> Json:
    """Request or agree to disclosure of a closed report."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    activity = await service.request_disclosure(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        disclosure_in=body.data.attributes,
    )
    return await activity_document(ctx, activity)


@router.endpoint(
    "DELETE", "/v1/reports/{id}/disclosure_requests", body=OptionalBody, body_optional=True
)
async def delete_disclosure_request(ctx: Context, id: str, body: OptionalBody) -> Json:
    """Cancel a pending disclosure request."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    activity = await service.cancel_disclosure(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report=report, message=body.message
    )
    return await activity_document(ctx, activity)


@router.endpoint("PUT", "/v1/reports/{id}/redact", body=Document[RedactAttributes])
async def redact_report(ctx: Context, id: str, body: Document[RedactAttributes]) -> Json:
    """Redact a string from the report (and, when asked, its internal activities)."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.redact(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        redact_in=body.data.attributes,
    )
    return await report_document(ctx, report)


@router.endpoint("POST", "/v1/reports/{id}/retests", body=Document[RetestAttributes], status=201)
async def create_retest(ctx: Context, id: str, body: Document[RetestAttributes]) -> Json:
    """Ask the reporter to retest a resolved report."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.request_retest(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        retest_in=body.data.attributes,
    )
    return await report_document(ctx, report)


@router.endpoint("POST", "/v1/reports/{id}/retests/approve", body=Document[RetestApproveAttributes])
async def approve_retest(ctx: Context, id: str, body: Document[RetestApproveAttributes]) -> Json:
    """Approve the retest: the report is resolved and closed again."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.approve_retest(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        approve_in=body.data.attributes,
    )
    return await report_document(ctx, report)


@router.endpoint(
    "POST", "/v1/reports/{id}/retests/reject", body=Document[RequiredMessageAttributes]
)
async def reject_retest(ctx: Context, id: str, body: Document[RequiredMessageAttributes]) -> Json:
    """Reject the retest: the report returns to its previous state."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.reject_retest(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        message=body.data.attributes.message,
    )
    return await report_document(ctx, report)


@router.endpoint("DELETE", "/v1/reports/{id}/retests/cancel", body=OptionalBody, body_optional=True)
async def cancel_retest(ctx: Context, id: str, body: OptionalBody) -> Json:
    """Cancel the retest."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    await service.cancel_retest(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report=report, message=body.message
    )
    return await report_document(ctx, report)


@router.endpoint("POST", "/v1/reports/{id}/summaries", body=Document[SummaryAttributes], status=201)
async def create_summary(ctx: Context, id: str, body: Document[SummaryAttributes]) -> Json:
    """Add (or replace) the team summary."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    summary = await service.add_summary(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        content=body.data.attributes.content,
    )
    pre = await repository.preload(ctx.session, (User, summary.user_id))
    return document(render_summary(summary, pre))


@router.endpoint(
    "POST", "/v1/reports/{id}/participants", body=Document[ParticipantAttributes], status=201
)
async def create_participant(ctx: Context, id: str, body: Document[ParticipantAttributes]) -> Json:
    """Invite an external participant by email or username."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    participant = await service.invite_participant(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        report=report,
        participant_in=body.data.attributes,
    )
    return document(render_participant(participant))


# ---- attachments ----


@router.endpoint("POST", "/v1/reports/attachments", status=201)
async def create_attachment(ctx: Context) -> Json:
    """Upload a file (multipart, field `file`) to reference from comments and state changes."""
    upload = await attachments.read_upload(ctx.request, ctx.settings.max_attachment_bytes)
    attachment = await service.upload_attachment(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, storage=ctx.storage, upload=upload
    )
    return document(render_attachment(attachment, attachment_urls(ctx)))


@router.endpoint("DELETE", "/v1/reports/{id}/attachments", status=204)
async def delete_attachments(ctx: Context, id: str) -> Response:
    """Delete every attachment of the report, files included (irreversible)."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    keys = await service.delete_attachments(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report=report
    )
    ctx.after_commit(attachments.delete_files(ctx.storage, keys))
    return Response(status_code=204)


@router.raw("GET", "/attachments/{id}/{name}")
async def download_attachment(request: Request) -> Response:
    """A signed, expiring download link (the `expiring_url` of an attachment)."""
    return await attachments.download(request)
