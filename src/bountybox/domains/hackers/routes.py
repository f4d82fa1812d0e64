"""The hacker API: the 21 operations under /v1/hackers (hacker-endpoints.md), for hacker tokens
only. The live API's quirks are kept: program detail unwrapped, flat payout items, hacktivity
pages of at most 50 with empty links, filters ignored on /hackers/me/reports."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from bountybox.core.auth import TokenKind
from bountybox.core.http import Context, Router
from bountybox.core.jsonapi.query import Page, as_str
from bountybox.core.jsonapi.render import Json, document
from bountybox.core.pagination import fetch_page
from bountybox.core.ratelimit import Budget
from bountybox.core.signing import download_query, scoped_secret
from bountybox.db.models import Report, ReportIntent, ReportIntentAttachment
from bountybox.domains.hackers import repository, service
from bountybox.domains.hackers.resource import (
    render_balance,
    render_earning,
    render_hacker_program,
    render_hacker_report,
    render_hacktivity_item,
    render_intent_attachment,
    render_payout,
    render_report_intent,
)
from bountybox.domains.hackers.schemas import (
    HackerReportCreate,
    ReportIntentCreate,
    ReportIntentUpdate,
    parse_hacktivity_sort,
    parse_scope_query,
)
from bountybox.domains.programs import repository as programs
from bountybox.domains.programs.resource import (
    render_scope_exclusion,
    render_structured_scope,
    render_weakness,
)
from bountybox.domains.reports import attachments
from bountybox.domains.reports import repository as reports
from bountybox.domains.reports.deps import attachment_urls

router = Router()
HACKER = TokenKind.HACKER
HACKTIVITY_PAGE_SIZE = 50
INTENT_FILES_PER_UPLOAD = 10
# Intent files are signed with a key of their own: a link never opens a report attachment.
INTENT_FILE_SCOPE = "report-intent-attachment"


# ---- reports ----


async def hacker_reports(ctx: Context, reports_: list[Report], *, full: bool) -> list[Json]:
    bundle = await reports.load_bundle(
        ctx.session, reports_, full=full, attachment_url=attachment_urls(ctx)
    )
    return [
        render_hacker_report(r, bundle, viewer_id=ctx.actor.user_id, full=full) for r in reports_
    ]


@router.endpoint("GET", "/v1/hackers/me/reports", auth=HACKER, budget=Budget.REPORT_READS)
async def list_my_reports(ctx: Context) -> Json:
    """The caller's own reports, newest first (filters and sort are ignored, as on HackerOne)."""
    page = ctx.page()
    rows, total = await fetch_page(
        ctx.session, repository.own_reports_query(ctx.actor), page, keys_first=True
    )
    return ctx.list_document(await hacker_reports(ctx, list(rows), full=False), page, total)


@router.endpoint(
    "GET", "/v1/hackers/reports/{id}", auth=HACKER, budget=Budget.REPORT_READS, cached=True
)
async def get_report(ctx: Context, id: str) -> Json:
    """A report the caller filed, collaborates on, or that was disclosed."""
    report = await repository.load_report(ctx.session, ctx.actor, id)
    return document((await hacker_reports(ctx, [report], full=True))[0])


@router.endpoint("POST", "/v1/hackers/reports", auth=HACKER, body=HackerReportCreate, status=201)
async def create_report(ctx: Context, body: HackerReportCreate) -> Json:
    """Submit a report to a program."""
    report = await service.submit_report(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, report_in=body.data.attributes
    )
    return document((await hacker_reports(ctx, [report], full=True))[0])


# ---- hacktivity ----


@router.endpoint("GET", "/v1/hackers/hacktivity", auth=HACKER)
async def list_hacktivity(ctx: Context) -> Json:
    """Search disclosed reports with a Lucene query string (`queryString`) and `sort`; pages
    hold at most 50 items and `links` stays empty, as on HackerOne."""
    query_string = as_str(ctx.params.get("queryString", ""), "queryString")
    sort = parse_hacktivity_sort(ctx.params.get("sort"))
    requested = ctx.page()
    page = Page(requested.number, min(requested.size, HACKTIVITY_PAGE_SIZE))
    reports_ = await repository.search_hacktivity(
        ctx.session, ctx.actor, query_string, sort, page, now=ctx.clock.now()
    )
    bundle = await repository.load_hacktivity_bundle(ctx.session, reports_)
    items = [render_hacktivity_item(r, bundle, root_url=ctx.root_url) for r in reports_]
    return document(items, links={})


# ---- programs ----


@router.endpoint("GET", "/v1/hackers/programs", auth=HACKER)
async def list_programs(ctx: Context) -> Json:
    """Public programs and the private programs the caller is allowed on."""
    page = ctx.page()
    programs, total = await fetch_page(ctx.session, repository.programs_query(ctx.actor), page)
    stats = await repository.program_stats(ctx.session, ctx.actor, [p.id for p in programs])
    return ctx.list_document([render_hacker_program(p, stats[p.id]) for p in programs], page, total)


@router.endpoint("GET", "/v1/hackers/programs/{handle}", auth=HACKER)
async def get_program(ctx: Context, handle: str) -> Json:
    """A program with its policy and structured scopes, unwrapped (no `data`), as the live API
    answers."""
    program = await repository.load_program(ctx.session, ctx.actor, handle)
    stats = await repository.program_stats(ctx.session, ctx.actor, [program.id])
    scopes = await repository.structured_scopes_of(ctx.session, program)
    return render_hacker_program(program, stats[program.id], scopes=scopes)


@router.endpoint(
    "GET",
    "/v1/hackers/programs/{handle}/structured_scopes",
    auth=HACKER,
    budget=Budget.SCOPE_READS,
)
async def list_structured_scopes(ctx: Context, handle: str) -> Json:
    """The program's assets, filtered by `filter[id__gt]`, `filter[created_at__gt]` and
    `filter[updated_at__gt]`."""
    program = await repository.load_program(ctx.session, ctx.actor, handle)
    query = parse_scope_query(ctx.params)
    page = ctx.page()
    stmt = repository.structured_scopes_query(program, query)
    scopes, total = await fetch_page(ctx.session, stmt, page)
    return ctx.list_document([render_structured_scope(s) for s in scopes], page, total)


@router.endpoint("GET", "/v1/hackers/programs/{handle}/weaknesses", auth=HACKER)
async def list_weaknesses(ctx: Context, handle: str) -> Json:
    """The weaknesses the program accepts."""
    program = await repository.load_program(ctx.session, ctx.actor, handle)
    page = ctx.page()
    weaknesses, total = await fetch_page(ctx.session, repository.weaknesses_query(program), page)
    return ctx.list_document([render_weakness(w) for w in weaknesses], page, total)


@router.endpoint("GET", "/v1/hackers/programs/{handle}/scope_exclusions", auth=HACKER)
async def list_scope_exclusions(ctx: Context, handle: str) -> Json:
    """Categories of findings the program does not reward; `links` only when there are pages."""
    program = await repository.load_program(ctx.session, ctx.actor, handle)
    page = ctx.page()
    stmt = programs.scope_exclusions_query(program)
    exclusions, total = await fetch_page(ctx.session, stmt, page)
    listed = ctx.list_document([render_scope_exclusion(e) for e in exclusions], page, total)
    return listed if listed["links"] else document(listed["data"])


# ---- payments ----


@router.endpoint("GET", "/v1/hackers/payments/balance", auth=HACKER)
async def get_balance(ctx: Context) -> Json:
    """Earned and not yet paid out, in USD."""
    earned = await repository.earned_cents(ctx.session, ctx.actor.user_id)
    paid = await repository.paid_out_cents(ctx.session, ctx.actor.user_id)
    return render_balance(earned - paid)


@router.endpoint("GET", "/v1/hackers/payments/earnings", auth=HACKER)
async def list_earnings(ctx: Context) -> Json:
    """Bounties (with their bonus) and retest awards, newest first."""
    page = ctx.page()
    rows, total = await repository.fetch_rows(
        ctx.session, repository.earnings_query(ctx.actor), page
    )
    pre = await repository.load_earning_rows(ctx.session, rows)
    return ctx.list_document([render_earning(r, pre) for r in rows], page, total)


@router.endpoint("GET", "/v1/hackers/payments/payouts", auth=HACKER)
async def list_payouts(ctx: Context) -> Json:
    """Money sent to the caller, newest first, as flat items."""
    page = ctx.page()
    payouts, total = await fetch_page(ctx.session, repository.payouts_query(ctx.actor), page)
    return ctx.list_document([render_payout(p) for p in payouts], page, total)


# ---- report intents ----


def intent_file_url(ctx: Context, attachment: ReportIntentAttachment) -> str:
    secret = scoped_secret(ctx.secret, INTENT_FILE_SCOPE)
    query = download_query(secret, attachment.id, ctx.clock.now().timestamp())
    name = quote(attachment.file_name, safe="")
    return f"{ctx.root_url}/report_intent_attachments/{attachment.id}/{name}?{query}"


async def intent_documents(
    ctx: Context, intents: list[ReportIntent], *, before_assistant: bool = False
) -> list[Json]:
    programs, files = await repository.load_intent_bundle(ctx.session, intents)
    return [
        render_report_intent(
            intent,
            programs[intent.program_id],
            [render_intent_attachment(a, intent_file_url(ctx, a)) for a in files[intent.id]],
            before_assistant=before_assistant,
        )
        for intent in intents
    ]


@router.endpoint("GET", "/v1/hackers/report_intents", auth=HACKER)
async def list_report_intents(ctx: Context) -> Json:
    """The caller's unsubmitted drafts, newest first (no pagination links, as on HackerOne)."""
    page = ctx.page()
    intents, _total = await fetch_page(ctx.session, repository.intents_query(ctx.actor), page)
    return document(await intent_documents(ctx, list(intents)))


@router.endpoint(
    "POST", "/v1/hackers/report_intents", auth=HACKER, body=ReportIntentCreate, status=201
)
async def create_report_intent(ctx: Context, body: ReportIntentCreate) -> Json:
    """Start a draft from free text; the response shows it before the assistant ran."""
    attributes = body.data.attributes
    intent = await service.create_intent(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        team_handle=attributes.team_handle,
        description=attributes.description,
    )
    return document((await intent_documents(ctx, [intent], before_assistant=True))[0])


@router.endpoint("GET", "/v1/hackers/report_intents/{id}", auth=HACKER)
async def get_report_intent(ctx: Context, id: str) -> Json:
    """One of the caller's drafts (submitted ones too, with their report)."""
    intent = await repository.load_intent(ctx.session, ctx.actor, id)
    return document((await intent_documents(ctx, [intent]))[0])


@router.endpoint("PATCH", "/v1/hackers/report_intents/{id}", auth=HACKER, body=ReportIntentUpdate)
async def update_report_intent(ctx: Context, id: str, body: ReportIntentUpdate) -> Json:
    """Replace the description (the only writable attribute); the assistant runs again."""
    intent = await repository.load_intent(ctx.session, ctx.actor, id, for_update=True)
    service.update_intent(
        clock=ctx.clock, intent=intent, description=body.data.attributes.description
    )
    return document((await intent_documents(ctx, [intent], before_assistant=True))[0])


@router.endpoint("DELETE", "/v1/hackers/report_intents/{id}", auth=HACKER, status=204)
async def delete_report_intent(ctx: Context, id: str) -> Response:
    """Delete an unsubmitted draft and its files."""
    intent = await repository.load_intent(ctx.session, ctx.actor, id, for_update=True)
    keys = await service.delete_intent(session=ctx.session, intent=intent)
    ctx.after_commit(attachments.delete_files(ctx.storage, keys))
    return Response(status_code=204)


@router.endpoint("POST", "/v1/hackers/report_intents/{id}/submit", auth=HACKER)
async def submit_report_intent(ctx: Context, id: str) -> Json:
    """Turn the draft into a report; the answer is the intent, with the report under
    `relationships.report`."""
    intent = await repository.load_intent(ctx.session, ctx.actor, id, for_update=True)
    await service.submit_intent(
        session=ctx.session, clock=ctx.clock, actor=ctx.actor, intent=intent
    )
    return document((await intent_documents(ctx, [intent]))[0])


@router.endpoint("GET", "/v1/hackers/report_intents/{report_intent_id}/attachments", auth=HACKER)
async def list_report_intent_attachments(ctx: Context, report_intent_id: str) -> Json:
    """The draft's files, with expiring download links."""
    intent = await repository.load_intent(ctx.session, ctx.actor, report_intent_id)
    files = (await repository.intent_attachments(ctx.session, [intent.id]))[intent.id]
    return document([render_intent_attachment(a, intent_file_url(ctx, a)) for a in files])


@router.endpoint(
    "POST", "/v1/hackers/report_intents/{report_intent_id}/attachments", auth=HACKER, status=201
)
async def create_report_intent_attachments(ctx: Context, report_intent_id: str) -> Json:
    """Upload files (multipart, one or more `files[]` parts)."""
    intent = await repository.load_intent(ctx.session, ctx.actor, report_intent_id, for_update=True)
    uploads = await attachments.read_uploads(
        ctx.request,
        ctx.settings.max_attachment_bytes,
        max_files=INTENT_FILES_PER_UPLOAD,
        field="files[]",
    )
    rows = await service.add_intent_attachments(
        session=ctx.session, clock=ctx.clock, storage=ctx.storage, intent=intent, uploads=uploads
    )
    return document([render_intent_attachment(a, intent_file_url(ctx, a)) for a in rows])


@router.endpoint(
    "DELETE",
    "/v1/hackers/report_intents/{report_intent_id}/attachments/{id}",
    auth=HACKER,
    status=204,
)
async def delete_report_intent_attachment(ctx: Context, report_intent_id: str, id: str) -> Response:
    """Remove one file from the draft."""
    intent = await repository.load_intent(ctx.session, ctx.actor, report_intent_id, for_update=True)
    attachment = await repository.load_intent_attachment(ctx.session, intent, id)
    key = await service.delete_intent_attachment(
        session=ctx.session, clock=ctx.clock, intent=intent, attachment=attachment
    )
    ctx.after_commit(attachments.delete_files(ctx.storage, [key]))
    return Response(status_code=204)


@router.raw("GET", "/report_intent_attachments/{id}/{name}")
async def download_report_intent_attachment(request: Request) -> Response:
    """A signed, expiring download link of a report intent's file."""
    return await attachments.download(
        request, model=ReportIntentAttachment, scope=INTENT_FILE_SCOPE
    )
