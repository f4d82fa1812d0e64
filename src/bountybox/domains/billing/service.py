"""Money movements. Every payment is a set of ledger rows written in the caller's transaction,
so a failed request moves nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.clock import Clock
from bountybox.db.models import Bounty, LedgerTransaction, Program, Report
from bountybox.domains.billing.repository import balance

__all__ = ["balance", "locked_balance", "pay_bounty", "pay_retest", "top_up"]


async def locked_balance(session: AsyncSession, program_id: int) -> int:
    """The balance, with the program row locked until the transaction ends: concurrent payments
    from one program queue here, so none of them spends money another already spent. FOR NO KEY
    UPDATE: other writes' foreign-key checks on the program do not queue behind a payment."""
    await session.execute(
        select(Program.id).where(Program.id == program_id).with_for_update(key_share=True)
    )
    return await balance(session, program_id)


def _row(
    program: Program, clock: Clock, kind: str, cents: int, description: str, **links: int | None
) -> LedgerTransaction:
    return LedgerTransaction(
        program_id=program.id,
        kind=kind,
        amount_cents=cents,
        currency=program.currency,
        description=description,
        created_at=clock.now(),
        **links,
    )


async def top_up(
    session: AsyncSession, clock: Clock, *, program: Program, amount_cents: int
) -> None:
    session.add(_row(program, clock, "top_up", amount_cents, "Prepaid balance top-up"))
    await session.flush()


async def pay_bounty(
    session: AsyncSession,
    clock: Clock,
    *,
    program: Program,
    report: Report,
    bounty: Bounty,
    fee_cents: int,
) -> None:
    links = {"report_id": report.id, "bounty_id": bounty.id}
    rows = []
    if bounty.amount_cents:
        rows.append(
            _row(
                program,
                clock,
                "bounty",
                -bounty.amount_cents,
                f"Bounty for report #{report.id}",
                user_id=report.reporter_id,
                **links,
            )
        )
    if bounty.bonus_amount_cents:
        rows.append(
            _row(
                program,
                clock,
                "bonus",
                -bounty.bonus_amount_cents,
                f"Bonus for report #{report.id}",
                user_id=report.reporter_id,
                **links,
            )
        )
    if fee_cents:
        rows.append(
            _row(
                program, clock, "fee", -fee_cents, f"Platform fee for report #{report.id}", **links
            )
        )
    session.add_all(rows)
    await session.flush()


async def pay_retest(
    session: AsyncSession, clock: Clock, *, program: Program, report: Report, amount_cents: int
) -> None:
    session.add(
        _row(
            program,
            clock,
            "retest",
            -amount_cents,
            f"Retest of report #{report.id}",
            user_id=report.reporter_id,
            report_id=report.id,
        )
    )
    await session.flush()
