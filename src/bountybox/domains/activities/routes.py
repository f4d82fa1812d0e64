"""Activity endpoints: one activity, and the incremental feed of a program."""

from __future__ import annotations

from enum import StrEnum

from bountybox.core.errors import Forbidden, InvalidParameter
from bountybox.core.http import Context, Router
from bountybox.core.jsonapi.query import as_list, as_str, parse_datetime, parse_int
from bountybox.core.jsonapi.render import Json, ts
from bountybox.core.pagination import fetch_feed_page
from bountybox.db.models import Activity
from bountybox.domains.activities import repository
from bountybox.domains.programs.repository import find_visible_by_handle
from bountybox.domains.reports.deps import activity_document, rendered_activities

router = Router()


class FeedSort(StrEnum):
    REPORT_ID = "report_id"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@router.endpoint("GET", "/v1/activities/{id}")
async def get_activity(ctx: Context, id: str) -> Json:
    """One activity by id."""
    activity = await repository.load_activity_for(ctx.session, ctx.actor, id)
    return await activity_document(ctx, activity)


@router.endpoint("GET", "/v1/incremental/activities")
async def list_incremental_activities(ctx: Context) -> Json:
    """Every activity of a program in update order, for syncing."""
    params = ctx.params
    handle = params.get("handle")
    if not handle:
        raise InvalidParameter("handle")
    program = await find_visible_by_handle(ctx.session, ctx.actor, as_str(handle, "handle"))
    if program is None:
        raise Forbidden()
    report_id = None
    if params.get("report_id", "") != "":
        report_id = parse_int(params["report_id"], "report_id", minimum=0)
    updated_after = None
    if params.get("updated_at_after", "") != "":
        updated_after = parse_datetime(params["updated_at_after"], "updated_at_after")
    order = params.get("order", "asc") or "asc"
    if order not in ("asc", "desc"):
        raise InvalidParameter("order")
    sort_keys = []
    for name in as_list(params.get("sort", []), "sort"):
        try:
            sort_keys.append(FeedSort(name))
        except ValueError:
            raise InvalidParameter("sort") from None
    if not sort_keys:
        sort_keys = [FeedSort.UPDATED_AT]
    columns = [getattr(Activity, key.value) for key in sort_keys] + [Activity.id]
    order_by = [c.desc() if order == "desc" else c.asc() for c in columns]
    page = ctx.page(size_alias="first")
    stmt = repository.incremental_query(
        program.id, report_id=report_id, updated_after=updated_after, order_by=order_by
    )
    activities, following, total = await fetch_feed_page(ctx.session, stmt, page)
    if sort_keys == [FeedSort.UPDATED_AT] and order == "asc":
        activities += await repository.rest_of_millisecond(ctx.session, stmt, activities, following)
    data = await rendered_activities(ctx, activities, with_report_id=True)
    max_updated = max((a.updated_at for a in activities), default=None)
    return ctx.list_document(data, page, total, meta={"max_updated_at": ts(max_updated)})
