"""Rendering helpers shared by the organization and program routes."""

from __future__ import annotations

from bountybox.core.http import Context
from bountybox.core.jsonapi.render import Json
from bountybox.db.models import AuditLogItem, OrganizationMember
from bountybox.domains.organizations import repository
from bountybox.domains.organizations.resource import render_audit_item, render_organization_member


async def rendered_members(ctx: Context, members: list[OrganizationMember]) -> list[Json]:
    users, groups = await repository.users_and_groups_of(ctx.session, members)
    return [
        render_organization_member(
            m,
            users[m.user_id],
            groups.get(m.user_id, []),
            system=users[m.user_id].user_type == "api",
        )
        for m in members
    ]


async def rendered_audit_log(
    ctx: Context, items: list[AuditLogItem], *, as_string: bool
) -> list[Json]:
    users = await repository.users_by_ids(
        ctx.session, {i.source_user_id for i in items if i.source_user_id}
    )
    return [
        render_audit_item(i, users.get(i.source_user_id or 0), parameters_as_string=as_string)
        for i in items
    ]
