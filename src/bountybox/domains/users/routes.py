"""User lookups by username and by id."""

from __future__ import annotations

from bountybox.core.http import Context, Router
from bountybox.core.jsonapi.render import Json, document
from bountybox.db.models import User
from bountybox.domains.programs.resource import render_program_small
from bountybox.domains.users import repository
from bountybox.domains.users.resource import render_user_profile

router = Router()


async def profile_document(ctx: Context, user: User) -> Json:
    programs = await repository.participating_programs(ctx.session, ctx.actor, user)
    return document(render_user_profile(user, [render_program_small(p) for p in programs]))


@router.endpoint("GET", "/v1/users/{username}")
async def get_user(ctx: Context, username: str) -> Json:
    """Look up a user by username."""
    return await profile_document(
        ctx, await repository.load_user_by_username(ctx.session, username)
    )


@router.endpoint("GET", "/v1/user_by_id/{id}")
async def get_user_by_id(ctx: Context, id: str) -> Json:
    """Look up a user by id."""
    return await profile_document(ctx, await repository.load_user_by_id(ctx.session, id))
