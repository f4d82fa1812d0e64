"""Work that time, not a request, triggers: a report whose singular disclosure date has passed
turns public, and mails that could not be sent yet are retried. Every server process runs the
loop; PostgreSQL rows are claimed with SKIP LOCKED and SQLite writers queue, so a report is
disclosed once."""

from __future__ import annotations

import asyncio
import logging

from bountybox.core.http import AppState
from bountybox.domains.reports.service import disclose_due_reports
from bountybox.mail import deliver

log = logging.getLogger("bountybox.timers")


async def run_due_timers(state: AppState) -> int:
    async with state.sessionmaker() as session, session.begin():
        await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        return await disclose_due_reports(session, state.clock)


async def run_timers_once(state: AppState) -> int:
    """One pass of the loop (sandbox mode runs one whenever it moves the clock); returns the
    number of reports disclosed."""
    disclosed = await run_due_timers(state)
    if disclosed:
        log.info("disclosed %d report(s) whose disclosure date passed", disclosed)
    await deliver(state.sessionmaker, state.settings, state.clock)
    return disclosed


async def timer_loop(state: AppState, interval: float) -> None:
    while True:
        try:
            await run_timers_once(state)
        except Exception:
            log.exception("timer run failed")
        await asyncio.sleep(interval)
