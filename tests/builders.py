"""Small typed builders for test data. Each commits, so the app under test sees the rows."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.clock import Clock
from bountybox.db.models import (
    Activity,
    Group,
    Organization,
    OrganizationMember,
    Program,
    Report,
    Severity,
    StructuredScope,
    User,
    Weakness,
    Webhook,
    group_members,
    group_programs,
    program_weaknesses,
)
from bountybox.domains.organizations.service import create_api_token

_seq = itertools.count(1)
T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Token:
    identifier: str
    value: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.identifier, self.value)

    @property
    def header(self) -> dict[str, str]:
        raw = base64.b64encode(f"{self.identifier}:{self.value}".encode()).decode()
        return {"Authorization": f"Basic {raw}"}


async def make_org(
    session: AsyncSession, *, handle: str | None = None, allowlist: list[str] | None = None
) -> Organization:
    n = next(_seq)
    org = Organization(
        handle=handle or f"org{n}",
        name=f"Org {n}",
        ip_allowlist=allowlist or [],
        created_at=T0,
        updated_at=T0,
    )
    session.add(org)
    await session.commit()
    return org


async def make_program(
    session: AsyncSession, org: Organization, *, handle: str | None = None
) -> Program:
    n = next(_seq)
    program = Program(
        organization_id=org.id,
        handle=handle or f"prog{n}",
        name=f"Program {n}",
        policy="Be nice.",
        severity_calculation_methods=["cvss_3_1"],
        created_at=T0,
        updated_at=T0,
    )
    session.add(program)
    await session.commit()
    return program


async def make_user(
    session: AsyncSession,
    *,
    username: str | None = None,
    user_type: str = "hacker",
    email: str | None = None,
) -> User:
    n = next(_seq)
    user = User(
        username=username or f"user{n}",
        name=f"User {n}",
        email=email,
        created_at=T0,
        user_type=user_type,
        reputation=10,
        signal=1.5,
        impact=2.0,
    )
    session.add(user)
    await session.commit()
    return user


async def make_member(
    session: AsyncSession, org: Organization, *, username: str | None = None, admin: bool = False
) -> User:
    user = await make_user(
        session,
        username=username,
        user_type="member",
        email=f"{username or next(_seq)}@example.test",
    )
    session.add(
        OrganizationMember(
            organization_id=org.id,
            user_id=user.id,
            organization_admin=admin,
            created_at=T0,
            updated_at=T0,
        )
    )
    await session.commit()
    return user


async def make_group(
    session: AsyncSession,
    org: Organization,
    *,
    name: str | None = None,
    permissions: list[str],
    programs: list[Program],
    users: list[User] = (),
) -> Group:  # type: ignore[assignment]
    group = Group(
        organization_id=org.id,
        name=name or f"group{next(_seq)}",
        permissions=permissions,
        created_at=T0,
        updated_at=T0,
    )
    session.add(group)
    await session.flush()
    if programs:
        await session.execute(
            insert(group_programs), [{"group_id": group.id, "program_id": p.id} for p in programs]
        )
    if users:
        await session.execute(
            insert(group_members), [{"group_id": group.id, "user_id": u.id} for u in users]
        )
    await session.commit()
    return group


async def make_token(
    session: AsyncSession,
    org: Organization,
    *,
    groups: list[Group] = (),  # type: ignore[assignment]
    name: str | None = None,
) -> Token:
    issued = await create_api_token(
        session=session,
        clock=Clock(),
        organization=org,
        name=name or f"token{next(_seq)}",
        group_names=[g.name for g in groups],
    )
    await session.commit()
    return Token(issued.identifier, issued.value)


async def make_weakness(session: AsyncSession, program: Program | None = None) -> Weakness:
    n = next(_seq)
    weakness = Weakness(
        name=f"Weakness {n}", description="desc", external_id=f"cwe-{n}", created_at=T0
    )
    session.add(weakness)
    await session.flush()
    if program is not None:
        await session.execute(
            insert(program_weaknesses), [{"program_id": program.id, "weakness_id": weakness.id}]
        )
    await session.commit()
    return weakness


async def make_scope(
    session: AsyncSession, program: Program, *, identifier: str | None = None
) -> StructuredScope:
    scope = StructuredScope(
        program_id=program.id,
        asset_identifier=identifier or f"host{next(_seq)}.test",
        asset_type="URL",
        eligible_for_bounty=True,
        eligible_for_submission=True,
        max_severity="critical",
        created_at=T0,
        updated_at=T0,
    )
    session.add(scope)
    await session.commit()
    return scope


async def make_report(
    session: AsyncSession,
    program: Program,
    *,
    reporter: User,
    state: str = "new",
    title: str | None = None,
    created_at: dt.datetime | None = None,
    rating: str | None = None,
    **fields: object,
) -> Report:
    at = created_at or T0
    values: dict[str, object] = {
        "vulnerability_information": "details",
        "submitted_at": at,
        "last_activity_at": at,
        "cve_ids": [],
        "report_tags": [],
        **fields,
    }
    report = Report(
        program_id=program.id,
        reporter_id=reporter.id,
        title=title or f"Report {next(_seq)}",
        state=state,
        created_at=at,
        updated_at=at,
        **values,
    )
    session.add(report)
    await session.flush()
    if rating is not None:
        severity = Severity(
            report_id=report.id,
            rating=rating,
            author_type="User",
            user_id=reporter.id,
            metrics={},
            created_at=at,
        )
        session.add(severity)
        await session.flush()
        report.set_severity(severity)
    await session.commit()
    return report


async def make_activity(
    session: AsyncSession,
    report: Report,
    *,
    type: str = "activity-comment",
    at: dt.datetime,
    actor: User | None = None,
    internal: bool = False,
) -> Activity:
    activity = Activity(
        type=type,
        program_id=report.program_id,
        report_id=report.id,
        actor_user_id=actor.id if actor else None,
        message="m",
        internal=internal,
        extra={},
        refs={},
        created_at=at,
        updated_at=at,
    )
    session.add(activity)
    await session.commit()
    return activity


async def make_webhook(
    session: AsyncSession,
    program: Program,
    *,
    url: str,
    secret: str | None = None,
    events: list[str] | None = None,
    active: bool = True,
    commit: bool = True,
) -> Webhook:
    """`commit=False` only flushes: the webhook is written in the session's open transaction."""
    webhook = Webhook(
        program_id=program.id,
        url=url,
        secret=secret,
        events=events or [],
        active=active,
        consecutive_failures=0,
        created_at=T0,
        updated_at=T0,
    )
    session.add(webhook)
    await (session.commit() if commit else session.flush())
    return webhook
