"""Organization endpoints (catalogue §7)."""

from __future__ import annotations

from sqlalchemy import select

from bountybox.core.auth import OrganizationPermission
from bountybox.core.errors import Unauthenticated
from bountybox.core.http import AppState, Context, Router
from bountybox.core.jsonapi.render import Json, document
from bountybox.core.pagination import fetch_page
from bountybox.db.models import Group, Organization
from bountybox.domains.organizations import repository, service
from bountybox.domains.organizations.deps import rendered_audit_log, rendered_members
from bountybox.domains.organizations.resource import (
    render_eligibility_setting,
    render_group_detail,
    render_invitation,
    render_member_group,
)
from bountybox.domains.organizations.schemas import (
    GroupCreate,
    GroupUpdate,
    InvitationCreate,
    MemberUpdate,
)
from bountybox.domains.programs.resource import render_organization, render_program_small
from bountybox.domains.reports.resource import render_inbox
from bountybox.mail import deliver

router = Router()
GROUP_READERS = (OrganizationPermission.GROUP_MANAGER, OrganizationPermission.USER_MANAGER)


@router.endpoint("GET", "/v1/me/organizations")
async def list_my_organizations(ctx: Context) -> Json:
    """Organizations the API token belongs to."""
    page = ctx.page()
    stmt = select(Organization).where(Organization.id == ctx.actor.organization_id)
    organizations, total = await fetch_page(ctx.session, stmt.order_by(Organization.id), page)
    return ctx.list_document([render_organization(o) for o in organizations], page, total)


@router.endpoint("GET", "/v1/organizations/{id}/audit_log")
async def list_organization_audit_log(ctx: Context, id: str) -> Json:
    """Every write in the organization, newest first (an empty list without admin rights)."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, id)
    page = ctx.page()
    if not ctx.actor.organization_admin:
        return ctx.list_document([], page, 0)
    items, total = await fetch_page(
        ctx.session, repository.audit_log_query(organization_id=organization.id), page
    )
    return ctx.list_document(
        await rendered_audit_log(ctx, list(items), as_string=False), page, total
    )


@router.endpoint("GET", "/v1/organizations/{organization_id}/eligibility_settings")
async def list_eligibility_settings(ctx: Context, organization_id: str) -> Json:
    """Eligibility settings of the organization."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    service.require_organization(ctx.actor, *GROUP_READERS)
    page = ctx.page()
    rows, total = await fetch_page(
        ctx.session, repository.eligibility_settings_query(organization), page
    )
    return ctx.list_document([render_eligibility_setting(s) for s in rows], page, total)


@router.endpoint("GET", "/v1/organizations/{organization_id}/eligibility_settings/{id}")
async def get_eligibility_setting(ctx: Context, organization_id: str, id: str) -> Json:
    """One eligibility setting."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    service.require_organization(ctx.actor, *GROUP_READERS)
    setting = await repository.load_eligibility_setting(ctx.session, organization, id)
    return document(render_eligibility_setting(setting))


@router.endpoint("GET", "/v1/organizations/{organization_id}/inboxes")
async def list_inboxes(ctx: Context, organization_id: str) -> Json:
    """The organization's inboxes."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    page = ctx.page()
    rows, total = await fetch_page(ctx.session, repository.inboxes_query(organization), page)
    return ctx.list_document([render_inbox(i) for i in rows], page, total)


@router.endpoint("GET", "/v1/organizations/{organization_id}/pending_invitations")
async def list_pending_invitations(ctx: Context, organization_id: str) -> Json:
    """Member invitations not yet accepted, cancelled or expired."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    service.require_organization(ctx.actor, OrganizationPermission.USER_MANAGER)
    page = ctx.page()
    rows, total = await fetch_page(
        ctx.session, repository.pending_invitations_query(organization, ctx.clock.now()), page
    )
    return ctx.list_document([render_invitation(i) for i in rows], page, total)


@router.endpoint(
    "POST", "/v1/organizations/{organization_id}/invitations", body=InvitationCreate, status=201
)
async def create_invitation(ctx: Context, organization_id: str, body: InvitationCreate) -> Json:
    """Invite a member by email (the invitation mail goes through the outbox)."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    invitation = await service.invite_member(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        organization=organization,
        invitation_in=body.data.attributes,
    )
    state: AppState = ctx.request.app.state.bountybox

    async def send_now() -> None:
        await deliver(state.sessionmaker, state.settings, state.clock)

    ctx.after_commit(send_now)
    return document(render_invitation(invitation))


@router.endpoint("GET", "/v1/organizations/{organization_id}/groups")
async def list_groups(ctx: Context, organization_id: str) -> Json:
    """The organization's groups (attributes only)."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    service.require_organization(ctx.actor, *GROUP_READERS)
    page = ctx.page()
    rows, total = await fetch_page(ctx.session, repository.groups_query(organization), page)
    return ctx.list_document([render_member_group(g) for g in rows], page, total)


async def group_document(ctx: Context, group: Group) -> Json:
    members, programs, inboxes = await repository.group_relations(ctx.session, group)
    return document(
        render_group_detail(group, await rendered_members(ctx, members), programs, inboxes)
    )


@router.endpoint("POST", "/v1/organizations/{organization_id}/groups", body=GroupCreate, status=201)
async def create_group(ctx: Context, organization_id: str, body: GroupCreate) -> Json:
    """Create a group with its permissions, members, programs and inboxes."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    group = await service.create_group(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        organization=organization,
        group_in=body.data,
    )
    return await group_document(ctx, group)


@router.endpoint("GET", "/v1/organizations/{organization_id}/groups/{id}")
async def get_group(ctx: Context, organization_id: str, id: str) -> Json:
    """A group with its members, programs and inboxes."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    service.require_organization(ctx.actor, *GROUP_READERS)
    return await group_document(ctx, await repository.load_group(ctx.session, organization, id))


@router.endpoint("PUT", "/v1/organizations/{organization_id}/groups/{id}", body=GroupUpdate)
async def update_group(ctx: Context, organization_id: str, id: str, body: GroupUpdate) -> Json:
    """Update a group; relationships given replace the current ones."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    group = await repository.load_group(ctx.session, organization, id)
    await service.update_group(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        organization=organization,
        group=group,
        group_in=body.data,
    )
    return await group_document(ctx, group)


@router.endpoint("GET", "/v1/organizations/{organization_id}/members")
async def list_members(ctx: Context, organization_id: str) -> Json:
    """Members of the organization (401 without user or group management, as documented)."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    service.require_organization(ctx.actor, *GROUP_READERS, error=Unauthenticated)
    page = ctx.page()
    rows, total = await fetch_page(ctx.session, repository.members_query(organization), page)
    return ctx.list_document(await rendered_members(ctx, list(rows)), page, total)


@router.endpoint("GET", "/v1/organizations/{organization_id}/members/{id}")
async def get_member(ctx: Context, organization_id: str, id: str) -> Json:
    """One member."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    service.require_organization(ctx.actor, *GROUP_READERS, error=Unauthenticated)
    member = await repository.load_member(ctx.session, organization, id)
    return document((await rendered_members(ctx, [member]))[0])


@router.endpoint("PUT", "/v1/organizations/{organization_id}/members/{id}", body=MemberUpdate)
async def update_member(ctx: Context, organization_id: str, id: str, body: MemberUpdate) -> Json:
    """Change a member's admin flag or groups."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    member = await repository.load_member(ctx.session, organization, id)
    await service.update_member(
        session=ctx.session,
        clock=ctx.clock,
        actor=ctx.actor,
        organization=organization,
        member=member,
        member_in=body.data,
    )
    return document((await rendered_members(ctx, [member]))[0])


@router.endpoint("DELETE", "/v1/organizations/{organization_id}/members/{id}")
async def delete_member(ctx: Context, organization_id: str, id: str) -> Json:
    """Remove a member from the organization."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    member = await repository.load_member(ctx.session, organization, id)
    await service.remove_member(
        session=ctx.session, actor=ctx.actor, organization=organization, member=member
    )
    return {"data": {"success": True, "message": "Member successfully removed from organization"}}


@router.endpoint("GET", "/v1/organizations/{organization_id}/programs")
async def list_organization_programs(ctx: Context, organization_id: str) -> Json:
    """Programs of the organization."""
    organization = await repository.load_organization_for(ctx.session, ctx.actor, organization_id)
    service.require_organization(ctx.actor, OrganizationPermission.GROUP_MANAGER)
    page = ctx.page()
    rows, total = await fetch_page(ctx.session, repository.programs_query(organization), page)
    return ctx.list_document([render_program_small(p) for p in rows], page, total)
