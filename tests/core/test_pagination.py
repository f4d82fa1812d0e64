"""Page-number pagination: reading a page's keys first gives exactly the pages of reading whole
rows, and the filtered report list's keys come from its index alone."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.core.jsonapi.query import Page
from bountybox.core.pagination import fetch_page
from bountybox.db.models import Report
from tests.builders import T0, make_org, make_program, make_report, make_user


async def test_keys_first_gives_the_same_pages_and_totals(session: AsyncSession) -> None:
    org = await make_org(session)
    program = await make_program(session, org)
    other = await make_program(session, org)
    reporter = await make_user(session)
    for n in range(11):
        # Ties on the sort key (three reports per day), a report without the sorted timestamp,
        # and reports of another program that must stay out.
        await make_report(
            session,
            program,
            reporter=reporter,
            state="triaged" if n % 2 else "new",
            created_at=T0 + dt.timedelta(days=n // 3),
            last_activity_at=None if n == 5 else T0 + dt.timedelta(hours=n % 4),
        )
        await make_report(session, other, reporter=reporter)
    orderings = [
        [Report.created_at.desc(), Report.id.desc()],
        [Report.last_activity_at.is_(None), Report.last_activity_at.desc(), Report.id.asc()],
    ]
    for ordering in orderings:
        stmt = select(Report).where(Report.program_id == program.id).order_by(*ordering)
        everything = [r.id for r in (await session.scalars(stmt)).all()]
        assert len(everything) == 11
        for size in (1, 4, 25):
            pages = []
            for number in range(1, 13 // size + 2):
                whole, whole_total = await fetch_page(session, stmt, Page(number, size))
                keyed, keyed_total = await fetch_page(
                    session, stmt, Page(number, size), keys_first=True
                )
                assert [r.id for r in keyed] == [r.id for r in whole]
                assert keyed_total == whole_total == 11
                pages += [r.id for r in keyed]
            assert pages == everything


async def test_the_filtered_report_list_finds_its_keys_in_the_index(engine: AsyncEngine) -> None:
    """`filter[program]`, `filter[severity]`, `filter[state]` and `filter[created_at__gt]`
    sorted by the last activity: the keys of the page need no table row (migration 0010)."""
    keys = (
        select(Report.id)
        .where(
            Report.program_id.in_([1]),
            Report.state.in_(["triaged", "resolved"]),
            Report.severity_rating.in_(["high", "critical"]),
            Report.created_at > T0,
        )
        .order_by(Report.last_activity_at.is_(None), Report.last_activity_at.desc(), Report.id)
        .limit(100)
    )
    async with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            pytest.skip("the query plan is read on SQLite; PostgreSQL's is in docs/benchmarks.md")
        sql = keys.compile(conn.sync_connection, compile_kwargs={"literal_binds": True})
        plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
        details = [row[3] for row in plan]
    assert any(
        "USING COVERING INDEX ix_reports_program_id_severity_rating_state" in d for d in details
    ), details
