"""The parent of every webhook endpoint: a program the token may see and manage."""

from __future__ import annotations

from bountybox.core.auth import ProgramPermission
from bountybox.core.errors import Forbidden
from bountybox.core.http import Context
from bountybox.db.models import Program, Webhook
from bountybox.domains.programs.repository import load_program_for
from bountybox.domains.webhooks import repository


async def managed_program(ctx: Context, program_id: str) -> Program:
    """403 for a program the token cannot see (as everywhere) and for one it cannot manage."""
    program = await load_program_for(ctx.session, ctx.actor, program_id)
    if not ctx.actor.can(program.id, ProgramPermission.PROGRAM_MANAGEMENT):
        raise Forbidden("Managing webhooks needs the program_management permission.")
    return program


async def managed_webhook(ctx: Context, program_id: str, webhook_id: str) -> Webhook:
    program = await managed_program(ctx, program_id)
    return await repository.load_webhook(ctx.session, program, webhook_id)
