"""Every hacker-side query, scoped to what the hacker may see: public programs and the private
ones they are allowed on; their own reports, the reports they collaborate on and the disclosed
reports of programs they can see; their own intents, earnings and payouts. Internal activities
are left out by the renderer, which gets them from the shared report bundle."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.auth import Actor
from bountybox.core.errors import InvalidParameter, NotFound
from bountybox.core.jsonapi.query import Page, parse_id
from bountybox.core.lucene import LuceneError, parse
from bountybox.core.lucene_sql import Expression, FieldKind, SearchField, compile_query
from bountybox.db.models import (
    Activity,
    Bounty,
    HackerPayout,
    LedgerTransaction,
    Program,
    ProgramHacker,
    Report,
    ReportCollaborator,
    ReportIntent,
    ReportIntentAttachment,
    ReportSummary,
    Severity,
    StructuredScope,
    User,
    Weakness,
    program_weaknesses,
)
from bountybox.db.preload import Preloader
from bountybox.domains.hackers.schemas import (
    HacktivitySort,
    HacktivitySortField,
    IntentState,
    ScopeQuery,
)
from bountybox.domains.programs import repository as programs
from bountybox.domains.reports.states import ReportState

# Ledger rows that pay a hacker: a bounty with its bonus, or a retest award.
BOUNTY_KINDS = ("bounty", "bonus")
RETEST_KIND = "retest"
EARNING_KINDS = (*BOUNTY_KINDS, RETEST_KIND)
VALID_STATES = (ReportState.TRIAGED.value, ReportState.RESOLVED.value, ReportState.RETESTING.value)
FAILED_PAYOUT = "failed"


# ---- programs ----


def visible_programs(actor: Actor) -> ColumnElement[bool]:
    allowed = select(ProgramHacker.program_id).where(ProgramHacker.user_id == actor.user_id)
    return or_(Program.state == "public", Program.id.in_(allowed))


def visible_program_ids(actor: Actor) -> Select[int]:
    return select(Program.id).where(visible_programs(actor))


def programs_query(actor: Actor) -> Select[Program]:
    return select(Program).where(visible_programs(actor)).order_by(Program.id)


async def find_program(session: AsyncSession, actor: Actor, handle: str) -> Program | None:
    return await session.scalar(
        select(Program).where(Program.handle == handle, visible_programs(actor))
    )


async def load_program(session: AsyncSession, actor: Actor, handle: str) -> Program:
    """The program by handle; an unknown or invisible one is the same 404."""
    program = await find_program(session, actor, handle)
    if program is None:
        raise NotFound("The requested program could not be found.")
    return program


@dataclass
class ProgramStats:
    """The caller-specific attributes of a program."""

    reports: int = 0
    valid_reports: int = 0
    earned_cents: int = 0
    allowed_at: dt.datetime | None = None


async def program_stats(
    session: AsyncSession, actor: Actor, program_ids: Sequence[int]
) -> dict[int, ProgramStats]:
    stats: dict[int, ProgramStats] = defaultdict(ProgramStats)
    if not program_ids:
        return stats
    ids = list(program_ids)
    valid = func.sum(case((Report.state.in_(VALID_STATES), 1), else_=0))
    for program_id, count, valid_count in await session.execute(
        select(Report.program_id, func.count(), valid)
        .where(Report.reporter_id == actor.user_id, Report.program_id.in_(ids))
        .group_by(Report.program_id)
    ):
        stats[program_id].reports = int(count)
        stats[program_id].valid_reports = int(valid_count or 0)
    for program_id, cents in await session.execute(
        select(LedgerTransaction.program_id, func.sum(LedgerTransaction.amount_cents))
        .where(
            LedgerTransaction.user_id == actor.user_id,
            LedgerTransaction.kind.in_(EARNING_KINDS),
            LedgerTransaction.program_id.in_(ids),
        )
        .group_by(LedgerTransaction.program_id)
    ):
        stats[program_id].earned_cents = -int(cents or 0)
    for program_id, created_at in await session.execute(
        select(ProgramHacker.program_id, ProgramHacker.created_at).where(
            ProgramHacker.user_id == actor.user_id, ProgramHacker.program_id.in_(ids)
        )
    ):
        stats[program_id].allowed_at = created_at
    return stats


def structured_scopes_query(program: Program, query: ScopeQuery) -> Select[StructuredScope]:
    stmt = programs.structured_scopes_query(program)
    if query.id_gt is not None:
        stmt = stmt.where(StructuredScope.id > query.id_gt)
    if query.created_at_gt is not None:
        stmt = stmt.where(StructuredScope.created_at > query.created_at_gt)
    if query.updated_at_gt is not None:
        stmt = stmt.where(StructuredScope.updated_at > query.updated_at_gt)
    return stmt


async def structured_scopes_of(session: AsyncSession, program: Program) -> list[StructuredScope]:
    return list(await session.scalars(programs.structured_scopes_query(program)))


def weaknesses_query(program: Program) -> Select[Weakness]:
    return programs.weaknesses_query(program)


async def weaknesses_by_external_id(
    session: AsyncSession, program_id: int, external_ids: Sequence[str]
) -> dict[str, Weakness]:
    rows = await session.scalars(
        select(Weakness)
        .join(program_weaknesses, program_weaknesses.c.weakness_id == Weakness.id)
        .where(
            program_weaknesses.c.program_id == program_id, Weakness.external_id.in_(external_ids)
        )
    )
    return {w.external_id: w for w in rows}


# ---- reports ----


def participating(actor: Actor) -> ColumnElement[bool]:
    """Reports the hacker filed or collaborates on."""
    collaborated = select(ReportCollaborator.report_id).where(
        ReportCollaborator.user_id == actor.user_id
    )
    return or_(Report.reporter_id == actor.user_id, Report.id.in_(collaborated))


def publicly_disclosed(actor: Actor) -> ColumnElement[bool]:
    """Disclosed reports of programs the hacker can see (a private program's disclosures stay
    among the hackers allowed on it)."""
    return and_(Report.disclosed_at.is_not(None), Report.program_id.in_(visible_program_ids(actor)))


def visible_reports(actor: Actor) -> ColumnElement[bool]:
    return or_(participating(actor), publicly_disclosed(actor))


def own_reports_query(actor: Actor) -> Select[Report]:
    return (
        select(Report)
        .where(Report.reporter_id == actor.user_id)
        .order_by(Report.created_at.desc(), Report.id.desc())
    )


async def load_report(session: AsyncSession, actor: Actor, report_id: str) -> Report:
    """A report the hacker may read; an unknown or invisible one is the same 404."""
    rid = parse_id(report_id)
    report = (
        await session.scalar(select(Report).where(Report.id == rid, visible_reports(actor)))
        if rid is not None
        else None
    )
    if report is None:
        raise NotFound("The requested report could not be found.")
    return report


# ---- hacktivity ----


def total_awarded_cents() -> ColumnElement[Any]:
    return (
        select(func.coalesce(func.sum(Bounty.amount_cents + Bounty.bonus_amount_cents), 0))
        .where(Bounty.report_id == Report.id)
        .correlate(Report)
        .scalar_subquery()
    )


def latest_disclosable_activity_at() -> ColumnElement[Any]:
    latest = (
        select(func.max(Activity.created_at))
        .where(Activity.report_id == Report.id, Activity.internal.is_(False))
        .correlate(Report)
        .scalar_subquery()
    )
    return func.coalesce(latest, Report.disclosed_at)


def _related(column: Any, key: Any, target: Any) -> ColumnElement[Any]:
    """`column` of the row that `key` points at, as a scalar subquery of the report."""
    return select(column).where(target == key).correlate(Report).scalar_subquery()


def hacktivity_fields() -> dict[str, SearchField]:
    """The fields `queryString` may name (hacker-endpoints.md §3.4); `team` and `team_handle`
    are the same field, as clients use both."""
    program_handle = _related(Program.handle, Report.program_id, Program.id)
    collaboration = exists().where(ReportCollaborator.report_id == Report.id)
    return {
        "severity_rating": SearchField.of(FieldKind.KEYWORD, Report.severity_rating),
        "asset_type": SearchField.of(
            FieldKind.KEYWORD,
            _related(StructuredScope.asset_type, Report.structured_scope_id, StructuredScope.id),
        ),
        "substate": SearchField.of(FieldKind.KEYWORD, Report.state),
        "cwe": SearchField.of(
            FieldKind.TEXT,
            _related(Weakness.name, Report.weakness_id, Weakness.id),
            _related(Weakness.external_id, Report.weakness_id, Weakness.id),
        ),
        "cve_ids": SearchField.of(FieldKind.LIST, Report.cve_ids),
        "reporter": SearchField.of(
            FieldKind.KEYWORD, _related(User.username, Report.reporter_id, User.id)
        ),
        "team": SearchField.of(FieldKind.KEYWORD, program_handle),
        "team_handle": SearchField.of(FieldKind.KEYWORD, program_handle),
        "total_awarded_amount": SearchField.of(FieldKind.NUMBER, total_awarded_cents(), scale=100),
        "disclosed_at": SearchField.of(FieldKind.DATE, Report.disclosed_at),
        "submitted_at": SearchField.of(FieldKind.DATE, Report.submitted_at),
        "latest_disclosable_activity_at": SearchField.of(
            FieldKind.DATE, latest_disclosable_activity_at()
        ),
        "has_collaboration": SearchField.of(FieldKind.BOOLEAN, collaboration),
        "disclosed": SearchField.of(FieldKind.BOOLEAN, Report.disclosed_at.is_not(None)),
        "title": SearchField.of(FieldKind.TEXT, Report.title),
        "votes": SearchField.of(FieldKind.NUMBER, literal(0, BigInteger())),
    }


def hacktivity_text() -> list[Expression]:
    """What bare terms search: the title, and the write-up of fully disclosed reports."""
    write_up = case(
        (Report.disclosure_substate == "no-content", literal("", String())),
        else_=Report.vulnerability_information,
    )
    return [Report.title, write_up]


def hacktivity_query(
    actor: Actor, condition: ColumnElement[bool], sort: list[HacktivitySort]
) -> Select[Report]:
    """Disclosed reports of programs the hacker can see that match the search."""
    columns: dict[HacktivitySortField, Expression | None] = {
        HacktivitySortField.LATEST_DISCLOSABLE_ACTIVITY_AT: latest_disclosable_activity_at(),
        HacktivitySortField.DISCLOSED_AT: Report.disclosed_at,
        HacktivitySortField.TOTAL_AWARDED_AMOUNT: total_awarded_cents(),
        # Nothing votes in bountybox: every report has 0, so the id decides.
        HacktivitySortField.VOTES: None,
    }
    order: list[Any] = []
    for key in sort:
        column = columns[key.field]
        if column is not None:
            order.append(column.desc() if key.descending else column.asc())
    order.append(Report.id.desc() if sort[0].descending else Report.id.asc())
    return select(Report).where(publicly_disclosed(actor), condition).order_by(*order)


async def search_hacktivity(
    session: AsyncSession,
    actor: Actor,
    query_string: str,
    sort: list[HacktivitySort],
    page: Page,
    *,
    now: dt.datetime,
) -> list[Report]:
    """One page of the search; a query that does not parse, or a value its field cannot take,
    is a 400 naming `queryString`."""
    try:
        condition = compile_query(
            parse(query_string), hacktivity_fields(), default=hacktivity_text(), now=now
        )
    except LuceneError as error:
        raise InvalidParameter("queryString", str(error)) from None
    stmt = hacktivity_query(actor, condition, sort).limit(page.size).offset(page.offset)
    return list(await session.scalars(stmt))


@dataclass
class HacktivityBundle:
    pre: Preloader
    totals: dict[int, int] = field(default_factory=dict)
    latest: dict[int, Activity] = field(default_factory=dict)
    summaries: dict[int, ReportSummary] = field(default_factory=dict)


async def load_hacktivity_bundle(session: AsyncSession, reports: list[Report]) -> HacktivityBundle:
    """What a page of hacktivity items embeds, in a fixed number of queries."""
    bundle = HacktivityBundle(pre=Preloader(session))
    ids = [r.id for r in reports]
    if not ids:
        return bundle
    for report in reports:
        bundle.pre.want(Program, report.program_id)
        bundle.pre.want(User, report.reporter_id)
        bundle.pre.want(Weakness, report.weakness_id)
        bundle.pre.want(Severity, report.severity_id)
    await bundle.pre.fetch()
    for report_id, cents in await session.execute(
        select(Bounty.report_id, func.sum(Bounty.amount_cents + Bounty.bonus_amount_cents))
        .where(Bounty.report_id.in_(ids))
        .group_by(Bounty.report_id)
    ):
        bundle.totals[report_id] = int(cents or 0)
    for activity in await session.scalars(
        select(Activity)
        .where(Activity.report_id.in_(ids), Activity.internal.is_(False))
        .order_by(Activity.created_at.desc(), Activity.id.desc())
    ):
        assert activity.report_id is not None
        bundle.latest.setdefault(activity.report_id, activity)
    for summary in await session.scalars(
        select(ReportSummary)
        .where(ReportSummary.report_id.in_(ids), ReportSummary.category == "team")
        .order_by(ReportSummary.id)
    ):
        bundle.summaries.setdefault(summary.report_id, summary)
    return bundle


# ---- payments ----


def earnings_query(actor: Actor) -> Select[Any]:
    """One row per earning, newest first: a bounty and its bonus are one earning."""
    ledger = LedgerTransaction
    bounties = (
        select(
            func.min(ledger.id).label("id"),
            literal("bounty", String()).label("kind"),
            ledger.program_id,
            ledger.report_id,
            ledger.bounty_id,
            (-func.sum(ledger.amount_cents)).label("cents"),
            func.min(ledger.created_at).label("created_at"),
        )
        .where(ledger.user_id == actor.user_id, ledger.kind.in_(BOUNTY_KINDS))
        .group_by(ledger.program_id, ledger.report_id, ledger.bounty_id)
    )
    retests = select(
        ledger.id,
        literal("retest", String()).label("kind"),
        ledger.program_id,
        ledger.report_id,
        ledger.bounty_id,
        (-ledger.amount_cents).label("cents"),
        ledger.created_at,
    ).where(ledger.user_id == actor.user_id, ledger.kind == RETEST_KIND)
    earnings = union_all(bounties, retests).subquery()
    return select(earnings).order_by(earnings.c.created_at.desc(), earnings.c.id.desc())


async def fetch_rows(
    session: AsyncSession, stmt: Select[Any], page: Page
) -> tuple[list[RowMapping], int]:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = (await session.execute(stmt.limit(page.size).offset(page.offset))).mappings().all()
    return list(rows), int(total or 0)


async def load_earning_rows(session: AsyncSession, rows: list[RowMapping]) -> Preloader:
    pre = Preloader(session)
    for row in rows:
        pre.want(Program, row["program_id"])
        pre.want(Report, row["report_id"])
        pre.want(Bounty, row["bounty_id"])
    await pre.fetch()
    return pre


async def earned_cents(session: AsyncSession, user_id: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerTransaction.amount_cents), 0)).where(
            LedgerTransaction.user_id == user_id, LedgerTransaction.kind.in_(EARNING_KINDS)
        )
    )
    return -int(total or 0)


async def paid_out_cents(session: AsyncSession, user_id: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(HackerPayout.amount_cents), 0)).where(
            HackerPayout.user_id == user_id, HackerPayout.status != FAILED_PAYOUT
        )
    )
    return int(total or 0)


def payouts_query(actor: Actor) -> Select[HackerPayout]:
    return (
        select(HackerPayout)
        .where(HackerPayout.user_id == actor.user_id)
        .order_by(HackerPayout.created_at.desc(), HackerPayout.id.desc())
    )


# ---- report intents ----


def intents_query(actor: Actor) -> Select[ReportIntent]:
    """The hacker's drafts that are not submitted yet, newest first."""
    return (
        select(ReportIntent)
        .where(
            ReportIntent.user_id == actor.user_id,
            ReportIntent.state != IntentState.SUBMITTED.value,
        )
        .order_by(ReportIntent.created_at.desc(), ReportIntent.id.desc())
    )


async def load_intent(
    session: AsyncSession, actor: Actor, intent_id: str, *, for_update: bool = False
) -> ReportIntent:
    """One of the hacker's intents; another hacker's or an unknown one is the same 404."""
    iid = parse_id(intent_id)
    stmt = select(ReportIntent).where(ReportIntent.id == iid, ReportIntent.user_id == actor.user_id)
    if for_update:
        stmt = stmt.with_for_update()
    intent = await session.scalar(stmt) if iid is not None else None
    if intent is None:
        raise NotFound("The requested report intent could not be found.")
    return intent


async def intent_attachments(
    session: AsyncSession, intent_ids: Sequence[int]
) -> dict[int, list[ReportIntentAttachment]]:
    found: dict[int, list[ReportIntentAttachment]] = defaultdict(list)
    if not intent_ids:
        return found
    for attachment in await session.scalars(
        select(ReportIntentAttachment)
        .where(ReportIntentAttachment.report_intent_id.in_(list(intent_ids)))
        .order_by(ReportIntentAttachment.id)
    ):
        found[attachment.report_intent_id].append(attachment)
    return found


async def load_intent_bundle(
    session: AsyncSession, intents: Sequence[ReportIntent]
) -> tuple[dict[int, Program], dict[int, list[ReportIntentAttachment]]]:
    """The programs and files a list of intents embeds."""
    program_ids = {i.program_id for i in intents}
    programs = (
        {p.id: p for p in await session.scalars(select(Program).where(Program.id.in_(program_ids)))}
        if program_ids
        else {}
    )
    return programs, await intent_attachments(session, [i.id for i in intents])


async def load_intent_attachment(
    session: AsyncSession, intent: ReportIntent, attachment_id: str
) -> ReportIntentAttachment:
    aid = parse_id(attachment_id)
    attachment = (
        await session.scalar(
            select(ReportIntentAttachment).where(
                ReportIntentAttachment.id == aid,
                ReportIntentAttachment.report_intent_id == intent.id,
            )
        )
        if aid is not None
        else None
    )
    if attachment is None:
        raise NotFound("The requested attachment could not be found.")
    return attachment


async def count_intent_attachments(session: AsyncSession, intent: ReportIntent) -> int:
    count = await session.scalar(
        select(func.count()).where(ReportIntentAttachment.report_intent_id == intent.id)
    )
    return int(count or 0)
