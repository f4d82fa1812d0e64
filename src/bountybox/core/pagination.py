"""Page-number pagination over any select(): one count query, one page query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.jsonapi.query import MAX_OFFSET, Page


async def fetch_page(
    session: AsyncSession, stmt: Select[Any], page: Page, *, keys_first: bool = False
) -> tuple[Sequence[Any], int | None]:
    """The page and the total, or None for a total past the MAX_OFFSET rows a page number can
    reach: the count stops there (counting a 74,000-report program cost 22 ms of database time
    per page), and a `last` page that cannot be requested is left out (links give `next`).

    With `keys_first` (for a statement selecting one entity of wide rows), the page's primary
    keys are found first and only those rows are read whole: the database then sorts and skips
    narrow rows, which an index can answer alone, instead of whole ones (a filtered, sorted page
    of reports: 30 -> 4 ms of database time; page 100: 14 -> 5 ms)."""
    counted = int(
        await session.scalar(
            select(func.count()).select_from(stmt.order_by(None).limit(MAX_OFFSET + 1).subquery())
        )
        or 0
    )
    if keys_first:
        (key,) = inspect(stmt.column_descriptions[0]["entity"]).primary_key
        keys = stmt.with_only_columns(key).limit(page.size).offset(page.offset)
        paged = stmt.where(key.in_(keys))
    else:
        paged = stmt.limit(page.size).offset(page.offset)
    rows = (await session.execute(paged)).scalars().all()
    return rows, (None if counted > MAX_OFFSET else counted)


# A feed page counts at most this many rows past itself (see fetch_feed_page).
FEED_COUNT_CAP = 10_000


async def fetch_feed_page(
    session: AsyncSession, stmt: Select[Any], page: Page
) -> tuple[list[Any], Any | None, int | None]:
    """For feeds that clients read by following `links.next` (the incremental activities): the
    count stops FEED_COUNT_CAP rows past the page, so a page early in a feed of millions costs the
    same as the last one. The total is None when more rows remain than that (no `last` link).
    Also answers the row after the page (None at the end), which tells where the page cut."""
    limit = page.offset + page.size + FEED_COUNT_CAP
    counted = int(
        await session.scalar(
            select(func.count()).select_from(stmt.order_by(None).limit(limit + 1).subquery())
        )
        or 0
    )
    rows = list(
        (await session.execute(stmt.limit(page.size + 1).offset(page.offset))).scalars().all()
    )
    following = rows.pop() if len(rows) > page.size else None
    return rows, following, (None if counted > limit else counted)
