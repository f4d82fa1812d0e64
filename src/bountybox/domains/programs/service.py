"""Program rules used by operators: creating a program with its default inbox."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.clock import Clock
from bountybox.core.errors import ValidationFailed
from bountybox.db.models import Inbox, Organization, Program
from bountybox.domains.organizations.service import check_handle


async def create_program(
    *,
    session: AsyncSession,
    clock: Clock,
    organization: Organization,
    handle: str,
    name: str,
    offers_bounties: bool,
    private: bool,
) -> Program:
    check_handle(handle)
    if await session.scalar(select(Program.id).where(Program.handle == handle)):
        raise ValidationFailed("Handle has already been taken", parameter="handle")
    now = clock.now()
    program = Program(
        organization_id=organization.id,
        handle=handle,
        name=name,
        policy="",
        state="private" if private else "public",
        offers_bounties=offers_bounties,
        minimum_bounty_cents=0,
        severity_calculation_methods=["cvss_3_1", "cvss_4_0", "manual"],
        created_at=now,
        updated_at=now,
    )
    session.add(program)
    await session.flush()
    session.add(
        Inbox(
            organization_id=organization.id,
            program_id=program.id,
            name=f"{name} inbox",
            type="default",
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    return program
