"""Program endpoints of the foundation: the caller's programs and one program's public lists."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import func, select
from starlette.responses import Response

from bountybox.core.auth import ProgramPermission
from bountybox.core.errors import Forbidden, InvalidParameter
from bountybox.core.http import Context, Router
from bountybox.core.jsonapi.query import parse_bool, parse_int
from bountybox.core.jsonapi.render import Json, document, ts
from bountybox.core.pagination import fetch_page
from bountybox.db.models import Campaign, CveRequest, Program
from bountybox.domains.billing.repository import balance
from bountybox.domains.billing.resource import render_transactions
from bountybox.domains.organizations.deps import rendered_audit_log
from bountybox.domains.organizations.repository import audit_log_query
from bountybox.domains.programs import repository, service
from bountybox.domains.programs.resource import (
    render_allowed_reporter,
    render_balance,
    render_bounty_table,
    render_campaign_detail,
    render_common_response,
    render_cve_request,
    render_hacker_invitation,
    render_history_entry,
    render_integration,
    render_member,
    render_policy_program,
    render_program,
    render_program_member,
    render_program_small,
    render_scope_exclusion,
    render_structured_scope,
    render_team_message,
    render_thanks,
    render_triage_review,
    render_weakness,
)
from bountybox.domains.programs.schemas import (
    CampaignAttributes,
    CveRequestAttributes,
    Document,
    HackerInvitationAttributes,
    HistoryEntry,
    NotifyAttributes,
    OptionalSwagBody,
    PolicyAttributes,
    ProgramBountyAttributes,
    ScopeExclusionAttributes,
    TeamMessageAttributes,
)
from bountybox.domains.reports.attachments import read_upload
from bountybox.domains.reports.deps import attachment_urls, full_report, rendered_activities
from bountybox.domains.reports.repository import integration_gid
from bountybox.domains.reports.resource import render_attachment, render_bounty, render_swag
from bountybox.domains.users.resource import render_user

router = Router()


@router.endpoint("GET", "/v1/me/programs")
async def list_my_programs(ctx: Context) -> Json:
    """Programs the API token can access."""
    page = ctx.page()
    programs, total = await fetch_page(ctx.session, repository.visible_programs(ctx.actor), page)
    return ctx.list_document([render_program_small(p) for p in programs], page, total)


@router.endpoint("GET", "/v1/programs/{id}")
async def get_program(ctx: Context, id: str) -> Json:
    """A program with its policy, groups, members, organization and custom fields."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    groups = await repository.groups_of(ctx.session, program)
    members = await repository.members_of(ctx.session, program, groups)
    return document(
        render_program(
            program,
            organization=await repository.organization_of(ctx.session, program),
            groups=groups,
            members=[render_member(m.id, u, perms, ts(m.created_at)) for m, u, perms in members],
            custom_field_attributes=await repository.custom_field_attributes_of(
                ctx.session, program
            ),
            policy_attachments=[],
        )
    )


@router.endpoint("GET", "/v1/programs/{id}/reporters")
async def list_reporters(ctx: Context, id: str) -> Json:
    """Hackers who reported to the program."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    page = ctx.page()
    users, total = await fetch_page(ctx.session, repository.reporters_query(program), page)
    return ctx.list_document([render_user(u) for u in users], page, total)


@router.endpoint("GET", "/v1/programs/{id}/weaknesses")
async def list_weaknesses(ctx: Context, id: str) -> Json:
    """Weaknesses enabled for the program."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    page = ctx.page()
    weaknesses, total = await fetch_page(ctx.session, repository.weaknesses_query(program), page)
    return ctx.list_document([render_weakness(w) for w in weaknesses], page, total)


@router.endpoint("GET", "/v1/programs/{id}/structured_scopes")
async def list_structured_scopes(ctx: Context, id: str) -> Json:
    """The program's in-scope assets (archived ones left out)."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    page = ctx.page()
    scopes, total = await fetch_page(ctx.session, repository.structured_scopes_query(program), page)
    return ctx.list_document([render_structured_scope(s) for s in scopes], page, total)


@router.endpoint("GET", "/v1/programs/{id}/audit_log")
async def list_program_audit_log(ctx: Context, id: str) -> Json:
    """Every write touching the program, newest first (`parameters` as a JSON string)."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    if not ctx.actor.can(program.id, ProgramPermission.PROGRAM_MANAGEMENT):
        raise Forbidden()
    page = ctx.page()
    items, total = await fetch_page(ctx.session, audit_log_query(program_id=program.id), page)
    return ctx.list_document(
        await rendered_audit_log(ctx, list(items), as_string=True), page, total
    )


# ---- program administration (catalogue §8) ----


@router.endpoint("PUT", "/v1/programs/{id}/policy", body=Document[PolicyAttributes])
async def update_policy(ctx: Context, id: str, body: Document[PolicyAttributes]) -> Json:
    """Replace the policy text."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    service.set_policy(
        clock=ctx.clock, actor=ctx.actor, program=program, policy=body.data.attributes.policy
    )
    return document(render_policy_program(program))


@router.endpoint("POST", "/v1/programs/{id}/policy_attachments", status=201)
async def create_policy_attachment(ctx: Context, id: str) -> Json:
    """Upload a file to reference in the policy as {F<id>} (multipart, field `file`)."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    upload = await read_upload(ctx.request, ctx.settings.max_attachment_bytes)
    attachment = await service.add_policy_attachment(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        program=program,
        storage=ctx.storage,
        upload=upload,
    )
    return document(render_attachment(attachment, attachment_urls(ctx)))


@router.endpoint("GET", "/v1/programs/{id}/billing/balance")
async def get_balance(ctx: Context, id: str) -> Json:
    """The prepaid balance: the sum of the program's ledger."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    service.require(ctx.actor, program, service.PM)
    return document(render_balance(program, await balance(ctx.session, program.id)))


@router.endpoint("GET", "/v1/programs/{id}/billing/transactions")
async def list_transactions(ctx: Context, id: str) -> Json:
    """The payment transactions of one month (default: the current one), with running balances."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    service.require(ctx.actor, program, service.PM)
    now = ctx.clock.now()
    year = parse_int(ctx.params.get("year") or now.year, "year", minimum=1970)
    month = parse_int(ctx.params.get("month") or now.month, "month", minimum=1)
    if month > 12 or year > 9998:
        raise InvalidParameter("month" if month > 12 else "year")
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    rows = await repository.ledger_rows_until(ctx.session, program, end)
    users = await repository.users_by_ids(ctx.session, {r.user_id for r in rows if r.user_id})
    items = render_transactions(rows, program, users, since=start)
    page = ctx.page()
    return ctx.list_document(items[page.offset : page.offset + page.size], page, len(items))


@router.endpoint(
    "POST", "/v1/programs/{id}/bounties", body=Document[ProgramBountyAttributes], status=201
)
async def create_program_bounty(
    ctx: Context, id: str, body: Document[ProgramBountyAttributes]
) -> Json:
    """Award a bounty outside a report, to a hacker by id or by email."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    bounty, report, invitations = await service.award_program_bounty(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        program=program,
        bounty_in=body.data.attributes,
    )
    rendered = render_bounty(bounty)
    rendered["relationships"] = {
        "report": {"data": await full_report(ctx, report)},
        "invitations": invitations,
    }
    return document(rendered)


@router.endpoint("GET", "/v1/programs/{id}/bounty_table")
async def get_bounty_table(ctx: Context, id: str) -> Json:
    """The program's bounty table with its rows (404 when it has none)."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    service.require(ctx.actor, program, service.PM)
    table, rows = await repository.bounty_table_of(ctx.session, program)
    return document(render_bounty_table(table, rows))


async def rendered_campaigns(ctx: Context, campaigns: list[Campaign]) -> list[Json]:
    details, objectives, scopes, rows = await repository.campaign_details(ctx.session, campaigns)
    now = ctx.clock.now()
    out = []
    for campaign in campaigns:
        detail = details.get(campaign.id)
        out.append(
            render_campaign_detail(
                campaign,
                detail,
                objectives.get(detail.campaign_objective_id) if detail else None,
                [scopes[s] for s in (detail.structured_scope_ids if detail else []) if s in scopes],
                rows.get(detail.bounty_table_row_id or 0) if detail else None,
                status=service.campaign_status(campaign, now),
                stats=await repository.campaign_report_stats(ctx.session, campaign),
            )
        )
    return out


@router.endpoint("GET", "/v1/programs/{id}/campaigns")
async def list_campaigns(ctx: Context, id: str) -> Json:
    """The program's campaigns."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    service.require(ctx.actor, program, service.PM)
    page = ctx.page()
    campaigns, total = await fetch_page(ctx.session, repository.campaigns_query(program), page)
    return ctx.list_document(await rendered_campaigns(ctx, list(campaigns)), page, total)


@router.endpoint(
    "POST", "/v1/programs/{id}/campaigns", body=Document[CampaignAttributes], status=201
)
async def create_campaign(ctx: Context, id: str, body: Document[CampaignAttributes]) -> Json:
    """Schedule a bounty-multiplier campaign."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    campaign = await service.create_campaign(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        program=program,
        campaign_in=body.data.attributes,
    )
    return document((await rendered_campaigns(ctx, [campaign]))[0])


@router.endpoint("GET", "/v1/programs/{program_id}/campaigns/{id}")
async def get_campaign(ctx: Context, program_id: str, id: str) -> Json:
    """One campaign with its figures."""
    program = await repository.load_program_for(ctx.session, ctx.actor, program_id)
    service.require(ctx.actor, program, service.PM)
    campaign = await repository.load_campaign(ctx.session, program, id)
    return document((await rendered_campaigns(ctx, [campaign]))[0])


@router.endpoint(
    "PATCH", "/v1/programs/{program_id}/campaigns/{id}", body=Document[CampaignAttributes]
)
async def update_campaign(
    ctx: Context, program_id: str, id: str, body: Document[CampaignAttributes]
) -> Json:
    """Change a scheduled campaign, or an active one's end date and information."""
    program = await repository.load_program_for(ctx.session, ctx.actor, program_id)
    campaign = await repository.load_campaign(ctx.session, program, id)
    await service.update_campaign(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        program=program,
        campaign=campaign,
        campaign_in=body.data.attributes,
    )
    return document((await rendered_campaigns(ctx, [campaign]))[0])


@router.endpoint("POST", "/v1/programs/{program_id}/campaigns/{id}/launch")
async def launch_campaign(ctx: Context, program_id: str, id: str) -> Json:
    """Start a scheduled campaign now."""
    program = await repository.load_program_for(ctx.session, ctx.actor, program_id)
    campaign = await repository.load_campaign(ctx.session, program, id)
    service.launch_campaign(clock=ctx.clock, actor=ctx.actor, program=program, campaign=campaign)
    return document((await rendered_campaigns(ctx, [campaign]))[0])


@router.endpoint("POST", "/v1/programs/{program_id}/campaigns/{id}/end_prematurely")
async def end_campaign_prematurely(ctx: Context, program_id: str, id: str) -> Json:
    """End an active campaign tomorrow."""
    program = await repository.load_program_for(ctx.session, ctx.actor, program_id)
    campaign = await repository.load_campaign(ctx.session, program, id)
    service.end_campaign_prematurely(
        clock=ctx.clock, actor=ctx.actor, program=program, campaign=campaign
    )
    return document((await rendered_campaigns(ctx, [campaign]))[0])


@router.endpoint("GET", "/v1/programs/{id}/common_responses")
async def list_common_responses(ctx: Context, id: str) -> Json:
    """Canned responses of the program."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    page = ctx.page()
    rows, total = await fetch_page(ctx.session, repository.common_responses_query(program), page)
    return ctx.list_document([render_common_response(r) for r in rows], page, total)


async def rendered_cve_requests(
    ctx: Context, program: Program, requests: list[CveRequest]
) -> list[Json]:
    names = await repository.weakness_names(
        ctx.session, {r.weakness_id for r in requests if r.weakness_id}
    )
    return [render_cve_request(r, program.handle, names.get(r.weakness_id or 0)) for r in requests]


@router.endpoint("GET", "/v1/programs/{id}/cve_requests")
async def list_cve_requests(ctx: Context, id: str) -> Json:
    """CVE requests of the program."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    page = ctx.page()
    rows, total = await fetch_page(ctx.session, repository.cve_requests_query(program), page)
    return ctx.list_document(await rendered_cve_requests(ctx, program, list(rows)), page, total)


@router.endpoint(
    "POST", "/v1/programs/{id}/cve_requests", body=Document[CveRequestAttributes], status=201
)
async def create_cve_request(ctx: Context, id: str, body: Document[CveRequestAttributes]) -> Json:
    """Draft a CVE request."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    request = await service.create_cve_request(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        program=program,
        request_in=body.data.attributes,
    )
    return document((await rendered_cve_requests(ctx, program, [request]))[0])


@router.endpoint("GET", "/v1/programs/{id}/hacker_invitations")
async def list_hacker_invitations(ctx: Context, id: str) -> Json:
    """Invitations sent to hackers, newest first."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    page = ctx.page()
    rows, total = await fetch_page(ctx.session, repository.hacker_invitations_query(program), page)
    users = await repository.users_by_ids(
        ctx.session, {u for r in rows for u in (r.recipient_id, r.invited_by_id) if u}
    )
    data = [
        render_hacker_invitation(r, users.get(r.recipient_id or 0), users.get(r.invited_by_id))
        for r in rows
    ]
    return ctx.list_document(data, page, total)


@router.endpoint(
    "POST", "/v1/programs/{id}/hacker_invitations", body=Document[HackerInvitationAttributes]
)
async def create_hacker_invitations(
    ctx: Context, id: str, body: Document[HackerInvitationAttributes]
) -> Json:
    """Invite hackers by username or email (the invitations go out by mail)."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    results = await service.invite_hackers(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        program=program,
        invitation_in=body.data.attributes,
    )
    return {
        "data": {
            "type": "hacker-invitation-result",
            "attributes": {"users_validation_result": results},
        }
    }


@router.endpoint("GET", "/v1/programs/{id}/integrations")
async def list_integrations(ctx: Context, id: str) -> Json:
    """Issue-tracker and notification integrations (not JSON:API, as documented)."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    service.require(ctx.actor, program, ProgramPermission.REPORT_MANAGEMENT)
    integrations = await repository.integrations_of(ctx.session, program)
    return {"data": [render_integration(i, integration_gid(i.id)) for i in integrations]}


@router.endpoint("GET", "/v1/programs/{id}/members")
async def list_program_members(ctx: Context, id: str) -> Json:
    """People (and API users) with access to the program."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    filters = ctx.params.get("filter", {})
    exclude = False
    if isinstance(filters, dict) and "exclude_system_users" in filters:
        exclude = parse_bool(filters["exclude_system_users"], "filter[exclude_system_users]")
    page = ctx.page()
    members, total = await fetch_page(
        ctx.session, repository.program_members_query(program, exclude_system=exclude), page
    )
    user_ids = [m.user_id for m in members]
    users = await repository.users_by_ids(ctx.session, set(user_ids))
    groups = await repository.program_groups_by_user(ctx.session, program, user_ids)
    data = [render_program_member(m, users[m.user_id], groups.get(m.user_id, [])) for m in members]
    return ctx.list_document(data, page, total)


@router.endpoint("GET", "/v1/programs/{id}/scope_exclusions")
async def list_scope_exclusions(ctx: Context, id: str) -> Json:
    """Kinds of findings the program does not reward."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    page = ctx.page()
    rows, total = await fetch_page(ctx.session, repository.scope_exclusions_query(program), page)
    return ctx.list_document([render_scope_exclusion(r) for r in rows], page, total)


@router.endpoint(
    "POST",
    "/v1/programs/{id}/scope_exclusions",
    body=Document[ScopeExclusionAttributes],
    status=201,
)
async def create_scope_exclusion(
    ctx: Context, id: str, body: Document[ScopeExclusionAttributes]
) -> Json:
    """Add a scope exclusion."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    exclusion = await service.create_scope_exclusion(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        program=program,
        exclusion_in=body.data.attributes,
    )
    return document(render_scope_exclusion(exclusion))


@router.endpoint(
    "PUT",
    "/v1/programs/{program_id}/scope_exclusions/{id}",
    body=Document[ScopeExclusionAttributes],
)
async def update_scope_exclusion(
    ctx: Context, program_id: str, id: str, body: Document[ScopeExclusionAttributes]
) -> Json:
    """Change a scope exclusion."""
    program = await repository.load_program_for(ctx.session, ctx.actor, program_id)
    exclusion = await repository.load_scope_exclusion(ctx.session, program, id)
    service.update_scope_exclusion(
        clock=ctx.clock,
        actor=ctx.actor,
        program=program,
        exclusion=exclusion,
        exclusion_in=body.data.attributes,
    )
    return document(render_scope_exclusion(exclusion))


@router.endpoint("DELETE", "/v1/programs/{program_id}/scope_exclusions/{id}", status=204)
async def delete_scope_exclusion(ctx: Context, program_id: str, id: str) -> Response:
    """Remove a scope exclusion."""
    program = await repository.load_program_for(ctx.session, ctx.actor, program_id)
    exclusion = await repository.load_scope_exclusion(ctx.session, program, id)
    await service.delete_scope_exclusion(
        session=ctx.session, actor=ctx.actor, program=program, exclusion=exclusion
    )
    return Response(status_code=204)


@router.endpoint("GET", "/v1/programs/{id}/swag")
async def list_swag(ctx: Context, id: str) -> Json:
    """Swag awarded on the program's reports."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    service.require(ctx.actor, program, service.PM)
    page = ctx.page()
    swags, total = await fetch_page(ctx.session, repository.swag_query(program), page)
    pre = await repository.preload_swags(ctx.session, list(swags))
    return ctx.list_document([render_swag(s, pre) for s in swags], page, total)


@router.endpoint(
    "PUT", "/v1/programs/{program_id}/swag/{id}", body=OptionalSwagBody, body_optional=True
)
async def mark_swag_sent(ctx: Context, program_id: str, id: str, body: OptionalSwagBody) -> Json:
    """Mark swag as sent. HackerOne answers with the bare swag object, not wrapped in data."""
    program = await repository.load_program_for(ctx.session, ctx.actor, program_id)
    swag = await repository.load_swag(ctx.session, program, id)
    sent = body.data.attributes.sent if body.data else True
    service.mark_swag_sent(actor=ctx.actor, program=program, swag=swag, sent=sent)
    pre = await repository.preload_swags(ctx.session, [swag])
    return render_swag(swag, pre)


@router.endpoint(
    "POST", "/v1/programs/{id}/team_messages", body=Document[TeamMessageAttributes], status=201
)
async def create_team_message(ctx: Context, id: str, body: Document[TeamMessageAttributes]) -> Json:
    """Message hackers (through the mail outbox)."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    message = await service.send_team_message(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        program=program,
        message_in=body.data.attributes,
    )
    return document(render_team_message(message))


@router.endpoint("GET", "/v1/programs/{id}/thanks")
async def list_thanks(ctx: Context, id: str) -> Json:
    """The program's hall of fame: reporters with their reports and resolved reports."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    page = ctx.page()
    stmt = repository.thanks_query(program)
    total = int(await ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = list(await ctx.session.execute(stmt.limit(page.size).offset(page.offset)))
    users = await repository.users_by_ids(ctx.session, {int(r[0]) for r in rows})
    data = [
        render_thanks(users[int(r[0])], int(r[1]), int(r[2] or 0))
        for r in rows
        if int(r[0]) in users
    ]
    return ctx.list_document(data, page, total)


@router.endpoint("GET", "/v1/programs/{id}/triage_reviews")
async def list_triage_reviews(ctx: Context, id: str) -> Json:
    """Triage quality reviews of the program's reports."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    page = ctx.page()
    reviews, total = await fetch_page(ctx.session, repository.triage_reviews_query(program), page)
    users = await repository.users_by_ids(ctx.session, {r.user_id for r in reviews})
    titles = await repository.report_titles(ctx.session, {r.report_id for r in reviews})
    data = [render_triage_review(r, users.get(r.user_id), titles.get(r.report_id)) for r in reviews]
    return ctx.list_document(data, page, total)


class HistorySort(StrEnum):
    ID = "id"
    CREATED_AT = "created_at"
    INVITED_AT = "invited_at"
    ACCEPTED_AT = "accepted_at"
    LEFT_AT = "left_at"
    REMOVED_AT = "removed_at"


@router.endpoint("GET", "/v1/programs/{id}/allowed_reporters")
async def list_allowed_reporters(ctx: Context, id: str) -> Json:
    """Hackers allowed on the (private) program."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    service.require(ctx.actor, program, service.PM)
    page = ctx.page()
    hackers, total = await fetch_page(
        ctx.session, repository.allowed_reporters_query(program), page
    )
    users = await repository.users_by_ids(ctx.session, {h.user_id for h in hackers})
    data = [render_allowed_reporter(h, users[h.user_id]) for h in hackers if h.user_id in users]
    return ctx.list_document(data, page, total)


@router.endpoint("GET", "/v1/programs/{id}/allowed_reporters/{allowed_reporter_id}/activities")
async def list_allowed_reporter_activities(ctx: Context, id: str, allowed_reporter_id: str) -> Json:
    """The program-level activities of one allowed hacker (joined, left, invited)."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    service.require(ctx.actor, program, service.PM)
    _, user = await repository.load_allowed_reporter(ctx.session, program, allowed_reporter_id)
    page = ctx.page()
    activities, total = await fetch_page(
        ctx.session, repository.hacker_program_activities_query(program, user), page
    )
    return ctx.list_document(await rendered_activities(ctx, list(activities)), page, total)


@router.endpoint(
    "GET", "/v1/programs/{id}/allowed_reporters/{allowed_reporter_id}/username_history"
)
async def get_username_history(ctx: Context, id: str, allowed_reporter_id: str) -> Json:
    """Earlier usernames of an allowed hacker (bountybox usernames do not change, so none)."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    service.require(ctx.actor, program, service.PM)
    _, user = await repository.load_allowed_reporter(ctx.session, program, allowed_reporter_id)
    return {
        "data": {
            "type": "allowed_reporter_username_history",
            "attributes": {"old_usernames": [], "user_id": str(user.id)},
        }
    }


@router.endpoint("GET", "/v1/programs/{id}/allowed_reporters_history")
async def list_allowed_reporters_history(ctx: Context, id: str) -> Json:
    """Invitations and joins of hackers, sortable by `sort` and `order`."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    service.require(ctx.actor, program, service.PM)
    try:
        sort = HistorySort(ctx.params.get("sort") or HistorySort.ID.value)
    except (ValueError, TypeError):
        raise InvalidParameter("sort") from None
    order = ctx.params.get("order") or "asc"
    if order not in ("asc", "desc"):
        raise InvalidParameter("order")
    entries = await repository.allowed_reporter_history(ctx.session, program)
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)

    def key(entry: HistoryEntry) -> tuple[bool, object, int]:
        value = getattr(entry, sort.value)
        missing = value is None
        return (missing, value if value is not None else floor, entry.id)

    entries.sort(key=key, reverse=order == "desc")
    page = ctx.page()
    chosen = entries[page.offset : page.offset + page.size]
    users = await repository.users_by_ids(ctx.session, {e.user_id for e in chosen})
    data = [render_history_entry(e, users[e.user_id]) for e in chosen if e.user_id in users]
    return ctx.list_document(data, page, len(entries))


@router.endpoint(
    "POST", "/v1/programs/{id}/notify_external_platform", body=Document[NotifyAttributes]
)
async def notify_external_platform(ctx: Context, id: str, body: Document[NotifyAttributes]) -> Json:
    """Send a message through a notification integration (its webhook URL)."""
    program = await repository.load_program_for(ctx.session, ctx.actor, id)
    delivered = await service.notify_external_platform(
        session=ctx.session,
        actor=ctx.actor,
        program=program,
        notify_in=body.data.attributes,
        allow_private=ctx.settings.webhooks_allow_private,
    )
    return {"data": {"was_successful": delivered}}
