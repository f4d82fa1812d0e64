"""The demo dataset: one organization (acme) with a bounty program and a private VDP, hackers,
members in groups, scopes, weaknesses and 64 reports walked through every state by the same
services the API uses. Loading is idempotent; the admin token's value is derived from the
installation secret, so every run prints the same working token.

The hacker side: every demo hacker has a hacker API token derived the same way (`bountybox demo
--hackers` prints them), r3dfox, nullbyte and kestrel are allowed on the private acme-vdp, a few
resolved reports are disclosed (hacktivity), the programs list scope exclusions, the best-paid
hacker has had a payout, and r3dfox has a report intent in progress."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox import events
from bountybox.config import Settings
from bountybox.core.auth import ALL_PROGRAM_PERMISSIONS, Actor, TokenKind
from bountybox.core.clock import Clock
from bountybox.db.models import (
    Address,
    ApiToken,
    CustomFieldAttribute,
    CustomFieldValue,
    Group,
    Inbox,
    Organization,
    OrganizationMember,
    Program,
    ProgramHacker,
    ProgramIntegration,
    Report,
    ReportCollaborator,
    ReportSummary,
    ScopeExclusion,
    Severity,
    StructuredScope,
    User,
    Weakness,
    group_members,
    group_programs,
    program_weaknesses,
    report_inboxes,
)
from bountybox.domains.billing.service import top_up
from bountybox.domains.hackers import repository as hackers_repository
from bountybox.domains.hackers.service import (
    create_intent,
    hacker_actor,
    issue_hacker_token,
    record_payout,
)
from bountybox.domains.organizations.service import IssuedToken, create_api_token
from bountybox.domains.reports.schemas import (
    AssigneeData,
    AssigneeType,
    CommentAttributes,
    DisclosureAttributes,
    DisclosureSubstate,
    RewardAttributes,
    StateChangeAttributes,
    SwagAttributes,
)
from bountybox.domains.reports.scoring import score_vector
from bountybox.domains.reports.service import (
    add_comment,
    assign,
    award_bounty,
    award_swag,
    change_state,
    request_disclosure,
)
from bountybox.domains.reports.states import ReportState

DEMO_TOKEN_NAME = "acme-admin"
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)

WEAKNESSES = [
    (
        "cwe-79",
        "Cross-site Scripting (XSS) - Generic",
        "The software does not neutralize user-controllable input before it is placed in output.",
    ),
    (
        "cwe-89",
        "SQL Injection",
        "The software constructs SQL commands from externally-influenced input.",
    ),
    (
        "cwe-352",
        "Cross-Site Request Forgery (CSRF)",
        "The application does not verify that a request was intentionally sent.",
    ),
    (
        "cwe-918",
        "Server-Side Request Forgery (SSRF)",
        "The server fetches a URL supplied by the user without validation.",
    ),
    (
        "cwe-639",
        "Insecure Direct Object Reference (IDOR)",
        "Authorization relies on a user-controlled key.",
    ),
    (
        "cwe-200",
        "Information Disclosure",
        "Sensitive information is exposed to an actor not authorized to see it.",
    ),
    ("cwe-601", "Open Redirect", "A redirect target is taken from user input without validation."),
    (
        "cwe-287",
        "Improper Authentication",
        "The software does not prove an identity claim sufficiently.",
    ),
    ("cwe-22", "Path Traversal", "Pathnames built from input escape the restricted directory."),
    (
        "cwe-502",
        "Deserialization of Untrusted Data",
        "Untrusted data is deserialized without sufficient checks.",
    ),
]

HACKERS = [
    ("r3dfox", "Red Fox", 1450, 5.2, 21.0),
    ("nullbyte", "Null Byte", 980, 3.9, 14.5),
    ("kestrel", "Kestrel", 620, 2.1, 9.8),
    ("pwnmeow", None, 3310, 6.4, 27.3),
    ("bytebandit", "Byte Bandit", 210, 1.2, 4.0),
    ("owlsec", "Owl Security", 75, 0.4, 1.5),
]

# The first three demo hackers are allowed on the private acme-vdp.
ALLOWED_ON_VDP = 3

SCOPE_EXCLUSIONS = [
    ("acme", "Denial of Service", "Volumetric and application-level denial of service."),
    ("acme", "Social Engineering", "Phishing, vishing and physical attacks on Acme staff."),
    ("acme", "Missing best practices", "Missing headers or cookie flags without an impact."),
    ("acme-vdp", "Automated scanner output", "Unverified findings of automated scanners."),
]

MEMBERS = [
    ("alice", "Alice Admin", True),
    ("bob", "Bob Triager", False),
    ("carol", "Carol Rewards", False),
]

SCOPES = {
    "acme": [
        ("www.acme.test", "URL", True, "critical"),
        ("api.acme.test", "URL", True, "critical"),
        ("*.acme.test", "WILDCARD", True, "high"),
        ("com.acme.app", "GOOGLE_PLAY_APP_ID", False, "medium"),
    ],
    "acme-vdp": [
        ("vdp.acme.test", "URL", False, "critical"),
        ("10.20.0.0/24", "CIDR", False, "high"),
    ],
}

VECTORS = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
    "CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:A/AC:L/PR:L/UI:R/S:C/C:L/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N",
    "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N",
]

TITLES = [
    "Stored XSS in {asset} profile page",
    "SQL injection in {asset} search endpoint",
    "CSRF on {asset} email change",
    "SSRF through the {asset} image proxy",
    "IDOR exposes invoices on {asset}",
    "Debug endpoint leaks configuration on {asset}",
    "Open redirect in {asset} login flow",
    "Authentication bypass on {asset} password reset",
    "Path traversal in {asset} file download",
    "Unsafe deserialization in {asset} session cookie",
]

# The state each report ends in, cycling so every state appears in both programs.
TARGET_STATES = [
    ReportState.NEW,
    ReportState.TRIAGED,
    ReportState.RESOLVED,
    ReportState.NEEDS_MORE_INFO,
    ReportState.PENDING_PROGRAM_REVIEW,
    ReportState.INFORMATIVE,
    ReportState.DUPLICATE,
    ReportState.NOT_APPLICABLE,
    ReportState.SPAM,
    ReportState.RETESTING,
    ReportState.TRIAGED,
    ReportState.RESOLVED,
]

PATHS: dict[ReportState, list[ReportState]] = {
    ReportState.NEW: [],
    ReportState.TRIAGED: [ReportState.TRIAGED],
    ReportState.RESOLVED: [ReportState.TRIAGED, ReportState.RESOLVED],
    ReportState.NEEDS_MORE_INFO: [ReportState.NEEDS_MORE_INFO],
    ReportState.PENDING_PROGRAM_REVIEW: [ReportState.PENDING_PROGRAM_REVIEW],
    ReportState.INFORMATIVE: [ReportState.INFORMATIVE],
    ReportState.DUPLICATE: [ReportState.DUPLICATE],
    ReportState.NOT_APPLICABLE: [ReportState.NOT_APPLICABLE],
    ReportState.SPAM: [ReportState.SPAM],
    ReportState.RETESTING: [ReportState.TRIAGED, ReportState.RESOLVED],
}

MESSAGES = {
    ReportState.TRIAGED: "Thanks! We reproduced this and passed it to the owning team.",
    ReportState.RESOLVED: "A fix is deployed. Thank you for the report.",
    ReportState.NEEDS_MORE_INFO: "Could you share the exact request and the account you used?",
    ReportState.PENDING_PROGRAM_REVIEW: "",
    ReportState.INFORMATIVE: "This is expected behaviour; closing as informative.",
    ReportState.DUPLICATE: "This was reported before; closing as a duplicate.",
    ReportState.NOT_APPLICABLE: "We could not reproduce an impact here.",
    ReportState.SPAM: "",
}


def demo_token_value(settings: Settings) -> str:
    key = settings.resolved_secret_key().encode()
    return hmac.new(key, f"demo-token:{DEMO_TOKEN_NAME}".encode(), hashlib.sha256).hexdigest()


def demo_hacker_token_value(settings: Settings, username: str) -> str:
    key = settings.resolved_secret_key().encode()
    return hmac.new(key, f"demo-hacker-token:{username}".encode(), hashlib.sha256).hexdigest()


async def demo_hacker_tokens(session: AsyncSession, settings: Settings) -> list[IssuedToken]:
    """Every demo hacker's API token (identifier = username), created when missing with a value
    derived from the installation secret, so every run prints the same working tokens."""
    issued = []
    for username, *_ in HACKERS:
        value = demo_hacker_token_value(settings, username)
        present = await session.scalar(select(ApiToken.id).where(ApiToken.identifier == username))
        if present is None:
            await issue_hacker_token(session=session, clock=Clock(), username=username, value=value)
        issued.append(IssuedToken(username, value))
    return issued


def severity_from_vector(vector: str, report_id: int, user_id: int, at: dt.datetime) -> Severity:
    scored = score_vector(vector)
    return Severity(
        report_id=report_id,
        rating=scored.rating,
        author_type="User",
        user_id=user_id,
        score=scored.score,
        calculation_method="cvss_3_1",
        cvss_vector_string=scored.vector,
        metrics=scored.metrics,
        created_at=at,
    )


async def load_demo(session: AsyncSession, settings: Settings) -> IssuedToken:
    value = demo_token_value(settings)
    exists = await session.scalar(select(Organization.id).where(Organization.handle == "acme"))
    if exists is None:
        await DemoBuilder(session).build()
    token_present = await session.scalar(
        select(ApiToken.id).where(ApiToken.identifier == DEMO_TOKEN_NAME)
    )
    if token_present is None:
        organization = await session.scalar(
            select(Organization).where(Organization.handle == "acme")
        )
        assert organization is not None
        return await create_api_token(
            session=session,
            clock=Clock(),
            organization=organization,
            name=DEMO_TOKEN_NAME,
            group_names=[],
            value=value,
        )
    return IssuedToken(DEMO_TOKEN_NAME, value)


class DemoBuilder:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.clock = Clock()
        self.clock.freeze(START)
        self.rng = random.Random(2026)

    def tick(self, minutes: int = 0, hours: int = 0, days: int = 0) -> dt.datetime:
        self.clock.advance(dt.timedelta(minutes=minutes, hours=hours, days=days))
        return self.clock.now()

    async def add(self, *rows: Any) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def build(self) -> None:
        now = self.clock.now() - dt.timedelta(days=400)
        org = Organization(
            handle="acme", name="Acme Corp", ip_allowlist=[], created_at=now, updated_at=now
        )
        await self.add(org)
        self.org = org
        self.programs = {
            "acme": Program(
                organization_id=org.id,
                handle="acme",
                name="Acme Bug Bounty",
                state="public",
                offers_bounties=True,
                minimum_bounty_cents=5000,
                bounty_fee_basis_points=2000,
                policy="# Acme Bug Bounty\n\nReport vulnerabilities in Acme's web and mobile apps.",
                severity_calculation_methods=["cvss_3_1", "manual"],
                created_at=now,
                updated_at=now,
            ),
            "acme-vdp": Program(
                organization_id=org.id,
                handle="acme-vdp",
                name="Acme VDP",
                state="private",
                offers_bounties=False,
                minimum_bounty_cents=0,
                policy="# Acme Vulnerability Disclosure\n\nNo bounties; we thank valid reports.",
                severity_calculation_methods=["cvss_3_1"],
                created_at=now,
                updated_at=now,
            ),
        }
        await self.add(*self.programs.values())
        await top_up(
            self.session, self.clock, program=self.programs["acme"], amount_cents=50_000_00
        )
        await self.add(
            ProgramIntegration(
                program_id=self.programs["acme"].id,
                name="Acme Jira",
                group_type="issue_tracking",
                reference_url_prefix="https://jira.acme.test/browse/",
                created_at=now,
                updated_at=now,
            ),
            ProgramIntegration(
                program_id=self.programs["acme"].id,
                name="Security Slack channel",
                group_type="notification",
                created_at=now,
                updated_at=now,
            ),
        )
        await self._weaknesses(now)
        await self._people(now)
        await self._scopes_and_inboxes(now)
        await self._reports()
        await self._hacker_side()

    async def _weaknesses(self, now: dt.datetime) -> None:
        self.weaknesses = []
        for external_id, name, description in WEAKNESSES:
            weakness = await self.session.scalar(
                select(Weakness).where(Weakness.external_id == external_id)
            )
            if weakness is None:
                weakness = Weakness(
                    external_id=external_id, name=name, description=description, created_at=now
                )
                await self.add(weakness)
            self.weaknesses.append(weakness)
        for program in self.programs.values():
            await self.session.execute(
                insert(program_weaknesses),
                [{"program_id": program.id, "weakness_id": w.id} for w in self.weaknesses],
            )

    async def _people(self, now: dt.datetime) -> None:
        self.hackers = [
            User(
                username=u,
                name=n,
                email=f"{u}@hackers.test",
                reputation=r,
                signal=s,
                impact=i,
                created_at=now - dt.timedelta(days=30 * k),
                user_type="hacker",
            )
            for k, (u, n, r, s, i) in enumerate(HACKERS)
        ]
        self.members = [
            User(username=u, name=n, email=f"{u}@acme.test", created_at=now, user_type="member")
            for u, n, _ in MEMBERS
        ]
        await self.add(*self.hackers, *self.members)
        await self.add(
            *[
                OrganizationMember(
                    organization_id=self.org.id,
                    user_id=m.id,
                    organization_admin=admin,
                    created_at=now,
                    updated_at=now,
                )
                for m, (_, _, admin) in zip(self.members, MEMBERS, strict=True)
            ]
        )
        self.addresses = {
            h.id: Address(
                user_id=h.id,
                name=h.name or h.username,
                street=f"{10 + k} Main Street",
                city="Springfield",
                postal_code=f"{1000 + k}",
                state="IL",
                country="US",
                tshirt_size="M_Large",
                created_at=now,
            )
            for k, h in enumerate(self.hackers)
        }
        await self.add(*self.addresses.values())
        standard = Group(
            organization_id=self.org.id,
            name="Standard",
            permissions=["report_management", "reward_management"],
            created_at=now,
            updated_at=now,
        )
        admins = Group(
            organization_id=self.org.id,
            name="Program Admins",
            permissions=sorted(ALL_PROGRAM_PERMISSIONS),
            created_at=now,
            updated_at=now,
        )
        await self.add(standard, admins)
        self.groups = [standard, admins]
        await self.session.execute(
            insert(group_programs),
            [{"group_id": standard.id, "program_id": p.id} for p in self.programs.values()]
            + [{"group_id": admins.id, "program_id": self.programs["acme"].id}],
        )
        alice, bob, carol = self.members
        await self.session.execute(
            insert(group_members),
            [
                {"group_id": standard.id, "user_id": bob.id},
                {"group_id": standard.id, "user_id": carol.id},
                {"group_id": admins.id, "user_id": alice.id},
            ],
        )
        self.actors = {
            m.id: Actor(
                token_id=0,
                user_id=m.id,
                kind=TokenKind.ORGANIZATION,
                organization_id=self.org.id,
                organization_admin=True,
                programs={p.id: ALL_PROGRAM_PERMISSIONS for p in self.programs.values()},
            )
            for m in self.members
        }

    async def _scopes_and_inboxes(self, now: dt.datetime) -> None:
        self.scopes: dict[str, list[StructuredScope]] = {}
        for handle, rows in SCOPES.items():
            program = self.programs[handle]
            self.scopes[handle] = [
                StructuredScope(
                    program_id=program.id,
                    asset_identifier=ident,
                    asset_type=kind,
                    eligible_for_bounty=bounty and program.offers_bounties,
                    eligible_for_submission=True,
                    max_severity=max_sev,
                    confidentiality_requirement="high",
                    integrity_requirement="high",
                    availability_requirement="medium",
                    reference=f"H00{k + 1}",
                    instruction=None,
                    created_at=now,
                    updated_at=now,
                )
                for k, (ident, kind, bounty, max_sev) in enumerate(rows)
            ]
            await self.add(*self.scopes[handle])
        self.inboxes = {
            handle: Inbox(
                organization_id=self.org.id,
                program_id=p.id,
                name=f"{p.name} inbox",
                type="default",
                created_at=now,
                updated_at=now,
            )
            for handle, p in self.programs.items()
        }
        self.mobile_inbox = Inbox(
            organization_id=self.org.id,
            program_id=None,
            name="Mobile",
            type="custom",
            created_at=now,
            updated_at=now,
        )
        await self.add(*self.inboxes.values(), self.mobile_inbox)
        self.component = CustomFieldAttribute(
            program_id=self.programs["acme"].id,
            label="Component",
            field_type="List",
            internal=True,
            required=False,
            configuration="Infrastructure, Frontend, Backend",
            created_at=now,
            updated_at=now,
        )
        await self.add(self.component)

    async def _reports(self) -> None:
        plan = [("acme", i) for i in range(40)] + [("acme-vdp", i) for i in range(24)]
        self.rng.shuffle(plan)
        created: dict[str, list[Report]] = {"acme": [], "acme-vdp": []}
        for handle, index in plan:
            report = await self._report(handle, index, created[handle])
            created[handle].append(report)

    async def _report(self, handle: str, index: int, earlier: list[Report]) -> Report:
        rng = self.rng
        program = self.programs[handle]
        hacker = rng.choice(self.hackers)
        scope = rng.choice(self.scopes[handle])
        weakness_index = rng.randrange(len(self.weaknesses))
        at = self.tick(hours=rng.randint(3, 30))
        report = Report(
            program_id=program.id,
            reporter_id=hacker.id,
            title=TITLES[weakness_index].format(asset=scope.asset_identifier),
            vulnerability_information=(
                f"## Summary\n\nFound while testing `{scope.asset_identifier}`.\n\n"
                f"## Steps to reproduce\n\n1. Sign in\n2. Send the request below\n\n"
                f"```\nGET /api/v1/items/{1000 + index} HTTP/1.1\n"
                f"Host: {scope.asset_identifier}\n```"
                f"\n\n## Impact\n\nAn attacker can read or change other users' data."
            ),
            state=ReportState.NEW.value,
            source=None,
            created_at=at,
            updated_at=at,
            submitted_at=at,
            last_reporter_activity_at=at,
            last_activity_at=at,
            last_public_activity_at=at,
            cve_ids=[],
            report_tags=[],
            weakness_id=self.weaknesses[weakness_index].id,
            structured_scope_id=scope.id,
        )
        await self.add(report)
        await self.session.execute(
            insert(report_inboxes), [{"report_id": report.id, "inbox_id": self.inboxes[handle].id}]
        )
        if scope.asset_type == "GOOGLE_PLAY_APP_ID":
            await self.session.execute(
                insert(report_inboxes), [{"report_id": report.id, "inbox_id": self.mobile_inbox.id}]
            )
        severity = severity_from_vector(rng.choice(VECTORS), report.id, hacker.id, at)
        await self.add(severity)
        report.set_severity(severity)

        member = rng.choice(self.members)
        actor = self.actors[member.id]
        target = TARGET_STATES[index % len(TARGET_STATES)]
        if index % 3 == 0:
            await self._comment(
                report, actor, internal=True, text="Looks legit, checking with the team."
            )
        for step in PATHS[target]:
            self.tick(hours=rng.randint(1, 20))
            attributes: dict[str, Any] = {"state": step.value, "message": MESSAGES.get(step, "")}
            if step is ReportState.DUPLICATE:
                if earlier:
                    attributes["original_report_id"] = rng.choice(earlier).id
                else:
                    attributes["state"] = ReportState.INFORMATIVE.value
                    attributes["message"] = MESSAGES[ReportState.INFORMATIVE]
            await change_state(
                session=self.session,
                clock=self.clock,
                actor=actor,
                report=report,
                change_in=StateChangeAttributes.model_validate(attributes),
            )
            if step is ReportState.TRIAGED:
                # Distinct timestamps keep a strict `updated_at_after` sync from skipping one.
                self.tick(minutes=1)
                await self._assign(report, actor, index)
        if target is ReportState.RETESTING:
            await self._retesting(report, actor)
        if index % 4 == 1:
            await self._comment(
                report, actor, internal=False, text="Thanks for the details so far."
            )
        if index % 5 == 2:
            self.tick(hours=2)
            await self._reporter_reply(report, hacker)
        if handle == "acme" and report.state in ("resolved", "triaged") and index % 2 == 0:
            await self._bounty(report, actor, index)
        if handle == "acme" and report.state == "resolved" and index % 3 == 2:
            await self._swag(report, actor)
        if index % 7 == 3:
            collaborator = rng.choice([h for h in self.hackers if h.id != hacker.id])
            await self.add(
                ReportCollaborator(report_id=report.id, user_id=collaborator.id, weight=0.5)
            )
        if report.state == "resolved" and index % 2 == 1:
            now = self.tick(minutes=30)
            await self.add(
                ReportSummary(
                    report_id=report.id,
                    user_id=member.id,
                    category="team",
                    content=f"Fixed in release 2026.{index}.",
                    created_at=now,
                    updated_at=now,
                )
            )
        if handle == "acme" and index % 3 == 1:
            now = self.clock.now()
            await self.add(
                CustomFieldValue(
                    report_id=report.id,
                    custom_field_attribute_id=self.component.id,
                    value=rng.choice(["Infrastructure", "Frontend", "Backend"]),
                    created_at=now,
                    updated_at=now,
                )
            )
        return report

    async def _comment(self, report: Report, actor: Actor, *, internal: bool, text: str) -> None:
        self.tick(minutes=self.rng.randint(5, 120))
        await add_comment(
            session=self.session,
            clock=self.clock,
            actor=actor,
            report=report,
            comment_in=CommentAttributes(message=text, internal=internal),
        )

    async def _reporter_reply(self, report: Report, hacker: User) -> None:
        hacker_actor = Actor(token_id=0, user_id=hacker.id, kind=TokenKind.HACKER)
        now = self.clock.now()
        report.last_reporter_activity_at = now
        report.last_activity_at = now
        report.last_public_activity_at = now
        await events.emit(
            self.session,
            self.clock,
            type="activity-comment",
            program_id=report.program_id,
            report_id=report.id,
            actor=hacker_actor,
            message="Happy to help; let me know if you need anything else.",
        )

    async def _assign(self, report: Report, actor: Actor, index: int) -> None:
        if index % 4 == 3:
            assignee = AssigneeData(type=AssigneeType.GROUP, id=self.groups[0].id)
        else:
            assignee = AssigneeData(type=AssigneeType.USER, id=self.members[1 + index % 2].id)
        await assign(
            session=self.session, clock=self.clock, actor=actor, report=report, assignee_in=assignee
        )

    async def _retesting(self, report: Report, actor: Actor) -> None:
        self.tick(hours=5)
        report.pre_retest_state = report.state
        report.state = ReportState.RETESTING.value
        report.closed_at = None
        report.updated_at = report.last_activity_at = self.clock.now()
        await events.emit(
            self.session,
            self.clock,
            type="activity-bug-retesting",
            program_id=report.program_id,
            report_id=report.id,
            actor=actor,
            message="Could you confirm the fix?",
        )

    async def _bounty(self, report: Report, actor: Actor, index: int) -> None:
        self.tick(hours=6)
        reward = RewardAttributes(
            message="Thanks for helping keep Acme safe!",
            amount=Decimal(self.rng.choice([150, 300, 500, 1000, 2500])),
            bonus_amount=Decimal(50) if index % 4 == 0 else None,
        )
        await award_bounty(
            session=self.session, clock=self.clock, actor=actor, report=report, bounty_in=reward
        )

    async def _swag(self, report: Report, actor: Actor) -> None:
        self.tick(hours=1)
        await award_swag(
            session=self.session,
            clock=self.clock,
            actor=actor,
            report=report,
            swag_in=SwagAttributes(message="Enjoy the hoodie!"),
        )

    async def _hacker_side(self) -> None:
        now = self.tick(hours=2)
        vdp = self.programs["acme-vdp"]
        self.session.add_all(
            ProgramHacker(program_id=vdp.id, user_id=h.id, created_at=now)
            for h in self.hackers[:ALLOWED_ON_VDP]
        )
        self.session.add_all(
            ScopeExclusion(
                program_id=self.programs[handle].id,
                category=category,
                details=details,
                created_at=now,
                updated_at=now,
            )
            for handle, category, details in SCOPE_EXCLUSIONS
        )
        await self.session.flush()
        for handle, count in (("acme", 4), ("acme-vdp", 1)):
            resolved = await self.session.scalars(
                select(Report)
                .where(Report.program_id == self.programs[handle].id, Report.state == "resolved")
                .order_by(Report.id)
                .limit(count)
            )
            for k, report in enumerate(list(resolved)):
                await self._disclose(report, full=k % 2 == 0)
        await self._payout()
        r3dfox = self.hackers[0]
        self.tick(hours=1)
        await create_intent(
            session=self.session,
            clock=self.clock,
            actor=hacker_actor(r3dfox),
            team_handle="acme",
            description=(
                "# Stored XSS in the support chat\n\n"
                "A POST to https://www.acme.test/support/messages stores the parameter `body` "
                "unescaped; every agent who opens the conversation runs the script."
            ),
        )

    async def _disclose(self, report: Report, *, full: bool) -> None:
        """The reporter asks to disclose, then the team agrees: the report turns public."""
        reporter = next(h for h in self.hackers if h.id == report.reporter_id)
        now = self.tick(hours=3)
        report.reporter_agreed_on_going_public_at = now
        report.last_reporter_activity_at = report.last_public_activity_at = now
        await events.emit(
            self.session,
            self.clock,
            type="activity-agreed-on-going-public",
            program_id=report.program_id,
            report_id=report.id,
            actor=hacker_actor(reporter),
            message="I would like to disclose this report.",
            extra={"disclosed_at": None, "allow_singular_disclosure_at": None},
            at=now,
        )
        self.tick(hours=2)
        substate = DisclosureSubstate.FULL if full else DisclosureSubstate.NO_CONTENT
        await request_disclosure(
            session=self.session,
            clock=self.clock,
            actor=self.actors[self.members[0].id],
            report=report,
            disclosure_in=DisclosureAttributes(substate=substate, message="Happy to share it."),
        )

    async def _payout(self) -> None:
        """Half of the best-paid hacker's earnings went out through PayPal."""
        earned = {
            h.id: await hackers_repository.earned_cents(self.session, h.id) for h in self.hackers
        }
        best = max(self.hackers, key=lambda h: (earned[h.id], -h.id))
        if earned[best.id] < 200:
            return
        self.tick(hours=1)
        await record_payout(
            session=self.session,
            clock=self.clock,
            user=best,
            amount_cents=earned[best.id] // 200 * 100,
            provider="PayPal",
            reference="DEMO-PAYOUT-0001",
        )
