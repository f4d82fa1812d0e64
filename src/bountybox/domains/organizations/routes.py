"""Organization endpoints of the foundation."""

from __future__ import annotations

from sqlalchemy import select

from bountybox.core.http import Context, Router
from bountybox.core.jsonapi.render import Json
from bountybox.core.pagination import fetch_page
from bountybox.db.models import Organization
from bountybox.domains.programs.resource import render_organization

router = Router()


@router.endpoint("GET", "/v1/me/organizations")
async def list_my_organizations(ctx: Context) -> Json:
    """Organizations the API token belongs to."""
    page = ctx.page()
    stmt = select(Organization).where(Organization.id == ctx.actor.organization_id)
    organizations, total = await fetch_page(ctx.session, stmt.order_by(Organization.id), page)
    return ctx.list_document([render_organization(o) for o in organizations], page, total)
