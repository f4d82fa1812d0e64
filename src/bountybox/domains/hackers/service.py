"""Hacker rules: submitting reports, report intents with their assistant and files, and what an
operator does for hackers (tokens, access to private programs, payouts). Services raise AppError
subclasses, record activities through events.emit, and never commit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox import events
from bountybox.core.auth import Actor, TokenKind, hash_secret, new_secret
from bountybox.core.clock import Clock
from bountybox.core.errors import InvalidParameter, NotFound, ValidationFailed
from bountybox.core.storage import Storage, new_storage_key
from bountybox.db.models import (
    ApiToken,
    Attachment,
    HackerPayout,
    Program,
    ProgramHacker,
    Report,
    ReportIntent,
    ReportIntentAttachment,
    StructuredScope,
    User,
)
from bountybox.domains.hackers import repository
from bountybox.domains.hackers.resource import ASSISTANT_JOBS
from bountybox.domains.hackers.schemas import HackerReportAttributes, IntentState
from bountybox.domains.organizations.service import IssuedToken
from bountybox.domains.reports import service as reports
from bountybox.domains.reports.attachments import Upload
from bountybox.domains.reports.schemas import SeverityRating
from bountybox.domains.reports.scoring import Scored, score_vector

SEVERITY_ORDER = [r.value for r in SeverityRating]
MAX_INTENT_ATTACHMENTS = 20
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def hacker_actor(user: User) -> Actor:
    """The hacker as the actor of activities written on their behalf (CLI, demo)."""
    return Actor(token_id=0, user_id=user.id, kind=TokenKind.HACKER)


# ---- reports ----


async def submit_report(
    *, session: AsyncSession, clock: Clock, actor: Actor, report_in: HackerReportAttributes
) -> Report:
    """A new report on a program the hacker can see, in the team's inbox at once."""
    program = await repository.find_program(session, actor, report_in.team_handle)
    if program is None:
        raise InvalidParameter("team_handle")
    scope = await reports.check_classification(
        session,
        program,
        weakness_id=report_in.weakness_id,
        structured_scope_id=report_in.structured_scope_id,
    )
    if scope is not None and not scope.eligible_for_submission:
        raise InvalidParameter("structured_scope_id", "This asset does not accept submissions.")
    scored = scored_vector(report_in.cvss_vector_string)
    rating = report_in.severity_rating.value if report_in.severity_rating else None
    if scored is not None:
        if rating is not None and rating != scored.rating:
            raise InvalidParameter(
                "severity_rating",
                f"The rating '{rating}' contradicts the CVSS vector's '{scored.rating}'.",
            )
        rating = scored.rating
    if scope is not None and rating is not None and above(rating, scope.max_severity):
        raise InvalidParameter(
            "severity_rating", f"The asset's maximum severity is '{scope.max_severity}'."
        )
    report = await reports.file_report(
        session=session,
        clock=clock,
        program=program,
        reporter_id=actor.user_id,
        title=report_in.title,
        vulnerability_information=report_in.vulnerability_information,
        impact=report_in.impact,
        source=None,
        weakness_id=report_in.weakness_id,
        structured_scope_id=report_in.structured_scope_id,
        rating=report_in.severity_rating,
        scored=scored,
        filed_by_program=False,
    )
    await record_filing(session, clock, actor, report)
    return report


def scored_vector(vector: str | None) -> Scored | None:
    if vector is None:
        return None
    try:
        return score_vector(vector.strip())
    except InvalidParameter:
        raise InvalidParameter("cvss_vector_string") from None


def above(rating: str, maximum: str) -> bool:
    if maximum not in SEVERITY_ORDER:
        return False
    return SEVERITY_ORDER.index(rating) > SEVERITY_ORDER.index(maximum)


async def record_filing(session: AsyncSession, clock: Clock, actor: Actor, report: Report) -> None:
    """A hacker's submission is recorded as `activity-bug-filed` (the type HackerOne's feeds
    carry for new reports), which is what `report_created` webhooks fire on."""
    await events.emit(
        session,
        clock,
        type="activity-bug-filed",
        program_id=report.program_id,
        report_id=report.id,
        actor=actor,
        message="",
        internal=False,
        at=report.created_at,
    )


# ---- report intents and their assistant ----


@dataclass(frozen=True)
class Analysis:
    """What the assistant reads out of a description."""

    title: str | None
    extracted: dict[str, Any] = field(default_factory=dict)


# bug class -> (words that name it, the CWE a report of that class is filed under)
BUG_CLASSES: dict[str, tuple[tuple[str, ...], str]] = {
    "xss": (("cross-site scripting", "cross site scripting", "xss"), "cwe-79"),
    "sqli": (("sql injection", "sqli"), "cwe-89"),
    "ssrf": (("server-side request forgery", "server side request forgery", "ssrf"), "cwe-918"),
    "csrf": (("cross-site request forgery", "cross site request forgery", "csrf"), "cwe-352"),
    "idor": (("insecure direct object reference", "idor"), "cwe-639"),
    "open_redirect": (("open redirect",), "cwe-601"),
    "path_traversal": (("path traversal", "directory traversal"), "cwe-22"),
    "xxe": (("xml external entit", "xxe"), "cwe-611"),
    "rce": (("remote code execution", "command injection", "rce"), "cwe-78"),
    "deserialization": (("deserialization", "deserialisation"), "cwe-502"),
    "authentication": (("authentication bypass", "improper authentication"), "cwe-287"),
    "information_disclosure": (("information disclosure", "leaks", "exposes"), "cwe-200"),
}
_URL = re.compile(r"https?://[^\s<>\"'`)\]]+", re.IGNORECASE)
_METHOD = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b")
_PARAMETER = re.compile(r"\bparam(?:eter)?\s+[`'\"]?([A-Za-z0-9_\[\].-]{1,100})", re.IGNORECASE)
_MARKUP = re.compile(r"^[#>*\-\s`_]+|[*`_]+$")
MAX_TITLE = 150


def analyze(description: str) -> Analysis:
    """A deterministic stand-in for HackerOne's report assistant: the title is the description's
    first heading or line, and the metadata is what the text names (a URL, an HTTP method, a
    parameter, a bug class)."""
    title = None
    for line in description.splitlines():
        cleaned = _MARKUP.sub("", line.strip()).strip()
        if cleaned and cleaned.lower() not in ("summary", "description", "steps to reproduce"):
            title = cleaned if len(cleaned) <= MAX_TITLE else cleaned[: MAX_TITLE - 1] + "…"
            break
    lowered = description.lower()
    found = [
        (lowered.find(word), name)
        for name, (words, _cwe) in BUG_CLASSES.items()
        for word in words
        if re.search(rf"\b{re.escape(word)}", lowered)
    ]
    url = _URL.search(description)
    method = _METHOD.search(description)
    parameter = _PARAMETER.search(description)
    return Analysis(
        title=title,
        extracted={
            "bug_class": min(found)[1] if found else None,
            "http_method": method.group(1) if method else None,
            "vulnerable_url": url.group(0).rstrip(".,;:") if url else None,
            "vulnerable_parameter": parameter.group(1) if parameter else None,
        },
    )


def apply_analysis(intent: ReportIntent) -> None:
    analysis = analyze(intent.description)
    intent.title = analysis.title or f"Report Intent #{intent.id}"
    intent.extracted = analysis.extracted
    intent.job_status = dict.fromkeys(ASSISTANT_JOBS, "completed")
    intent.state = IntentState.READY_TO_SUBMIT.value


def require_unsubmitted(intent: ReportIntent) -> None:
    if intent.state == IntentState.SUBMITTED:
        raise InvalidParameter("state", "The report intent has already been submitted.")


async def create_intent(
    *, session: AsyncSession, clock: Clock, actor: Actor, team_handle: str, description: str
) -> ReportIntent:
    program = await repository.find_program(session, actor, team_handle)
    if program is None:
        raise InvalidParameter("team_handle")
    now = clock.now()
    intent = ReportIntent(
        user_id=actor.user_id,
        program_id=program.id,
        description=description,
        state=IntentState.PENDING.value,
        extracted={},
        job_status={},
        created_at=now,
        updated_at=now,
    )
    session.add(intent)
    await session.flush()
    apply_analysis(intent)
    return intent


def update_intent(*, clock: Clock, intent: ReportIntent, description: str) -> ReportIntent:
    require_unsubmitted(intent)
    intent.description = description
    intent.updated_at = clock.now()
    apply_analysis(intent)
    return intent


async def delete_intent(*, session: AsyncSession, intent: ReportIntent) -> list[str]:
    """Deletes a draft and its files' rows; returns the storage keys to remove once committed."""
    require_unsubmitted(intent)
    attachments = (await repository.intent_attachments(session, [intent.id]))[intent.id]
    for attachment in attachments:
        await session.delete(attachment)
    await session.delete(intent)
    await session.flush()
    return [a.storage_key for a in attachments]


async def submit_intent(
    *, session: AsyncSession, clock: Clock, actor: Actor, intent: ReportIntent
) -> Report:
    """The draft becomes a real report: its title and description, the asset its URL names and
    the weakness of its bug class when the program has them, and its files as attachments."""
    require_unsubmitted(intent)
    program = await session.scalar(
        select(Program).where(Program.id == intent.program_id, repository.visible_programs(actor))
    )
    if program is None:
        raise InvalidParameter("team_handle", "The program no longer accepts your reports.")
    scopes = await repository.structured_scopes_of(session, program)
    scope = match_scope(intent.extracted.get("vulnerable_url"), scopes)
    bug_class = BUG_CLASSES.get(intent.extracted.get("bug_class") or "")
    weakness = None
    if bug_class is not None:
        found = await repository.weaknesses_by_external_id(session, program.id, [bug_class[1]])
        weakness = found.get(bug_class[1])
    report = await reports.file_report(
        session=session,
        clock=clock,
        program=program,
        reporter_id=actor.user_id,
        title=intent.title or f"Report Intent #{intent.id}",
        vulnerability_information=intent.description,
        impact=None,
        source=None,
        weakness_id=weakness.id if weakness else None,
        structured_scope_id=scope.id if scope else None,
        filed_by_program=False,
    )
    files = (await repository.intent_attachments(session, [intent.id]))[intent.id]
    session.add_all(
        Attachment(
            organization_id=program.organization_id,
            report_id=report.id,
            file_name=f.file_name,
            content_type=f.content_type,
            file_size=f.file_size,
            storage_key=f.storage_key,
            uploaded_by_id=actor.user_id,
            created_at=report.created_at,
        )
        for f in files
    )
    await record_filing(session, clock, actor, report)
    intent.state = IntentState.SUBMITTED.value
    intent.report_id = report.id
    intent.submitted_at = report.created_at
    intent.updated_at = report.created_at
    return report


def match_scope(url: str | None, scopes: list[StructuredScope]) -> StructuredScope | None:
    """The submittable URL or wildcard asset whose host the URL is on; exact hosts win."""
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return None
    wildcard = None
    for scope in scopes:
        if not scope.eligible_for_submission or scope.asset_type not in ("URL", "WILDCARD"):
            continue
        identifier = scope.asset_identifier.lower()
        asset_host = (urlsplit(identifier).hostname or "") if "://" in identifier else identifier
        asset_host = asset_host.split("/")[0]
        if asset_host == host:
            return scope
        if asset_host.startswith("*.") and host.endswith(asset_host[1:]) and wildcard is None:
            wildcard = scope
    return wildcard


async def add_intent_attachments(
    *,
    session: AsyncSession,
    clock: Clock,
    storage: Storage,
    intent: ReportIntent,
    uploads: list[Upload],
) -> list[ReportIntentAttachment]:
    require_unsubmitted(intent)
    existing = await repository.count_intent_attachments(session, intent)
    if existing + len(uploads) > MAX_INTENT_ATTACHMENTS:
        raise InvalidParameter(
            "files[]", f"A report intent holds at most {MAX_INTENT_ATTACHMENTS} files."
        )
    now = clock.now()
    rows = []
    for upload in uploads:
        key = new_storage_key(upload.file_name)
        await storage.save(key, upload.data)
        rows.append(
            ReportIntentAttachment(
                report_intent_id=intent.id,
                file_name=upload.file_name,
                content_type=upload.content_type,
                file_size=len(upload.data),
                storage_key=key,
                created_at=now,
            )
        )
    session.add_all(rows)
    intent.updated_at = now
    await session.flush()
    return rows


async def delete_intent_attachment(
    *, session: AsyncSession, clock: Clock, intent: ReportIntent, attachment: ReportIntentAttachment
) -> str:
    require_unsubmitted(intent)
    await session.delete(attachment)
    intent.updated_at = clock.now()
    await session.flush()
    return attachment.storage_key


# ---- operator actions (CLI, demo) ----


async def load_hacker(session: AsyncSession, username: str) -> User:
    user = await session.scalar(
        select(User).where(User.username == username, User.user_type != "api")
    )
    if user is None:
        raise NotFound(f"No hacker '{username}'.")
    return user


async def issue_hacker_token(
    *, session: AsyncSession, clock: Clock, username: str, value: str | None = None
) -> IssuedToken:
    """The hacker's API token (identifier = username), creating the hacker when needed. A hacker
    has one token: issuing a new one replaces the old value, as HackerOne's regeneration does."""
    if not USERNAME.fullmatch(username):
        raise ValidationFailed(
            "A username is 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit."
        )
    now = clock.now()
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, name=None, created_at=now, user_type="hacker")
        session.add(user)
        await session.flush()
    elif user.user_type == "api":
        raise ValidationFailed(f"'{username}' is the user of an organization API token.")
    token = await session.scalar(select(ApiToken).where(ApiToken.identifier == username))
    if token is not None and (token.kind != TokenKind.HACKER or token.user_id != user.id):
        raise ValidationFailed(f"The identifier '{username}' is already taken.")
    value = value or new_secret()
    if token is None:
        session.add(
            ApiToken(
                identifier=username,
                secret_hash=hash_secret(value),
                organization_id=None,
                user_id=user.id,
                kind=TokenKind.HACKER.value,
                created_at=now,
            )
        )
    else:
        token.secret_hash = hash_secret(value)
        token.revoked_at = None
        token.created_at = now
    await session.flush()
    return IssuedToken(username, value)


async def load_program_by_handle(session: AsyncSession, handle: str) -> Program:
    program = await session.scalar(select(Program).where(Program.handle == handle))
    if program is None:
        raise NotFound(f"No program with handle '{handle}'.")
    return program


async def allow_hackers(
    *, session: AsyncSession, clock: Clock, program: Program, usernames: list[str]
) -> list[str]:
    """Lets hackers see (and report to) a private program; returns who was newly allowed."""
    added = []
    for username in usernames:
        user = await load_hacker(session, username)
        if await session.get(ProgramHacker, (program.id, user.id)) is not None:
            continue
        now = clock.now()
        session.add(ProgramHacker(program_id=program.id, user_id=user.id, created_at=now))
        await program_hacker_event(session, clock, program, user, "activity-program-hacker-joined")
        added.append(username)
    await session.flush()
    return added


async def remove_hackers(
    *, session: AsyncSession, clock: Clock, program: Program, usernames: list[str]
) -> list[str]:
    removed = []
    for username in usernames:
        user = await load_hacker(session, username)
        row = await session.get(ProgramHacker, (program.id, user.id))
        if row is None:
            continue
        await session.delete(row)
        await program_hacker_event(session, clock, program, user, "activity-program-hacker-left")
        removed.append(username)
    await session.flush()
    return removed


async def program_hacker_event(
    session: AsyncSession, clock: Clock, program: Program, user: User, type: str
) -> None:
    await events.emit(
        session,
        clock,
        type=type,
        program_id=program.id,
        report_id=None,
        actor=hacker_actor(user),
        message="",
        internal=False,
        refs={"program": program.id},
    )


async def record_payout(
    *,
    session: AsyncSession,
    clock: Clock,
    user: User,
    amount_cents: int | None,
    provider: str | None,
    reference: str | None,
) -> HackerPayout:
    """Money sent to the hacker outside bountybox; the whole balance unless an amount is given."""
    balance = await repository.earned_cents(session, user.id) - await repository.paid_out_cents(
        session, user.id
    )
    amount = balance if amount_cents is None else amount_cents
    if amount <= 0 or amount > balance:
        raise ValidationFailed(
            f"A payout must be more than 0 and at most the balance of {balance / 100:.2f}."
        )
    now = clock.now()
    payout = HackerPayout(
        user_id=user.id,
        amount_cents=amount,
        currency="USD",
        payout_provider=provider,
        reference=reference,
        status="sent",
        paid_out_at=now,
        created_at=now,
    )
    session.add(payout)
    await session.flush()
    return payout
