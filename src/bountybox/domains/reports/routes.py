"""Report endpoints: search, read, create, change state, comment."""

from __future__ import annotations

from bountybox.core.http import Context, Router
from bountybox.core.jsonapi.render import Json, document
from bountybox.core.pagination import fetch_page
from bountybox.core.ratelimit import Budget
from bountybox.db.models import Activity, Report
from bountybox.domains.activities.repository import load_activity_bundle
from bountybox.domains.reports import repository, service
from bountybox.domains.reports.resource import render_activity, render_report
from bountybox.domains.reports.schemas import (
    CommentCreate,
    ReportCreate,
    StateChangeCreate,
    parse_report_query,
)

router = Router()


async def report_document(ctx: Context, report: Report) -> Json:
    bundle = await repository.load_bundle(ctx.session, [report], full=True)
    return document(render_report(report, bundle, full=True))


async def activity_document(ctx: Context, activity: Activity) -> Json:
    bundle = await load_activity_bundle(ctx.session, [activity])
    return document(render_activity(activity, bundle.pre, bundle.attachments[activity.id]))


@router.endpoint("GET", "/v1/reports", budget=Budget.REPORT_READS)
async def list_reports(ctx: Context) -> Json:
    """Search the reports of the given programs or inboxes."""
    query = parse_report_query(ctx.params)
    page = ctx.page()
    reports, total = await fetch_page(ctx.session, repository.list_query(ctx.actor, query), page)
    bundle = await repository.load_bundle(ctx.session, list(reports), full=False)
    return ctx.list_document([render_report(r, bundle, full=False) for r in reports], page, total)


@router.endpoint("POST", "/v1/reports", body=ReportCreate, status=201)
async def create_report(ctx: Context, body: ReportCreate) -> Json:
    """Create a report on behalf of a program (imported from another source)."""
    report = await service.create_report(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report_in=body.data.attributes
    )
    return await report_document(ctx, report)


@router.endpoint("GET", "/v1/reports/{id}", budget=Budget.REPORT_READS)
async def get_report(ctx: Context, id: str) -> Json:
    """A report with every relationship inline."""
    report = await repository.load_report_for(ctx.session, ctx.actor, id)
    return await report_document(ctx, report)


@router.endpoint("POST", "/v1/reports/{id}/state_changes", body=StateChangeCreate, status=201)
async def create_state_change(ctx: Context, id: str, body: StateChangeCreate) -> Json:
    """Change the state of a report."""
    report = await repository.load_report_for_write(ctx.session, ctx.actor, id)
    report = await service.change_state(
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
