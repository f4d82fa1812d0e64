"""Ledger queries: a program's balance is the sum of its transactions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.db.models import LedgerTransaction


async def balance(session: AsyncSession, program_id: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerTransaction.amount_cents), 0)).where(
            LedgerTransaction.program_id == program_id
        )
    )
    return int(total or 0)
