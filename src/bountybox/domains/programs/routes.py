"""Program endpoints of the foundation: the caller's programs and one program's public lists."""

from __future__ import annotations

from bountybox.core.auth import ProgramPermission
from bountybox.core.errors import Forbidden
from bountybox.core.http import Context, Router
from bountybox.core.jsonapi.render import Json, document, ts
from bountybox.core.pagination import fetch_page
from bountybox.domains.organizations.deps import rendered_audit_log
from bountybox.domains.organizations.repository import audit_log_query
from bountybox.domains.programs import repository
from bountybox.domains.programs.resource import (
    render_member,
    render_program,
    render_program_small,
    render_structured_scope,
    render_weakness,
)
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
