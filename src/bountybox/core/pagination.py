"""Page-number pagination over any select(): one count query, one page query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.jsonapi.query import Page


async def fetch_page(
    session: AsyncSession, stmt: Select[Any], page: Page
) -> tuple[Sequence[Any], int]:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = (await session.execute(stmt.limit(page.size).offset(page.offset))).scalars().all()
    return rows, int(total or 0)


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
