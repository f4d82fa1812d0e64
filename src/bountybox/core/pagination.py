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
