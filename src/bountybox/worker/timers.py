"""Report changes that time, not a request, triggers: a report whose singular disclosure date has
passed turns public. Every server process runs the loop; PostgreSQL rows are claimed with
SKIP LOCKED and SQLite writers queue, so a report is disclosed once."""

from __future__ import annotations

import asyncio
import logging

from bountybox.core.http import AppState
from bountybox.domains.reports.service import disclose_due_reports

log = logging.getLogger("bountybox.timers")


async def run_due_timers(state: AppState) -> int:
    async with state.sessionmaker() as session, session.begin():
        await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        return await disclose_due_reports(session, state.clock)


async def timer_loop(state: AppState, interval: float) -> None:
    while True:
        try:
            disclosed = await run_due_timers(state)
            if disclosed:
                log.info("disclosed %d report(s) whose disclosure date passed", disclosed)
        except Exception:
            log.exception("timer run failed")
        await asyncio.sleep(interval)
