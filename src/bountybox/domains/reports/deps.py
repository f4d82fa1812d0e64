"""Shared pieces of the report routes: the signed attachment links of this request and the
documents most report endpoints answer with."""

from __future__ import annotations

from bountybox.core.http import Context
from bountybox.core.jsonapi.render import Json, document
from bountybox.core.signing import download_url
from bountybox.db.models import Activity, Attachment, Report
from bountybox.domains.activities.repository import load_activity_bundle
from bountybox.domains.reports import repository
from bountybox.domains.reports.resource import AttachmentUrl, render_activity, render_report


def attachment_urls(ctx: Context) -> AttachmentUrl:
    """Absolute, signed, expiring download links on the host the client called."""
    now = ctx.clock.now().timestamp()

    def url(attachment: Attachment) -> str:
        return download_url(ctx.root_url, ctx.secret, attachment.id, attachment.file_name, now)

    return url


async def full_report(ctx: Context, report: Report) -> Json:
    bundle = await repository.load_bundle(
        ctx.session, [report], full=True, attachment_url=attachment_urls(ctx)
    )
    return render_report(report, bundle, full=True)


async def report_document(ctx: Context, report: Report) -> Json:
    return document(await full_report(ctx, report))


async def rendered_activities(
    ctx: Context,
    activities: list[Activity],
    *,
    with_report_id: bool = False,
) -> list[Json]:
    bundle = await load_activity_bundle(ctx.session, activities, attachment_urls(ctx))
    return [
        render_activity(
            a,
            bundle.pre,
            bundle.attachments[a.id],
            bundle.attachment_url,
            with_report_id=with_report_id,
        )
        for a in activities
    ]


async def activity_document(ctx: Context, activity: Activity) -> Json:
    rendered = await rendered_activities(ctx, [activity])
    return document(rendered[0])
