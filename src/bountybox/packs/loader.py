"""Loading a seed pack: the same services the API uses build the organizations, programs, people
and tokens, then the reports' histories are played back in time order on a clock of the loader's
own, so every activity, ledger row and webhook-visible timestamp is what the pack says.

Token values are never random: a pack gives them, or they are derived from a key (the
installation secret for `bountybox demo`, a fixed key in sandbox mode), so the same pack prints
the same working tokens every time."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox import events
from bountybox.config import Settings
from bountybox.core.auth import ALL_PROGRAM_PERMISSIONS, Actor, TokenKind
from bountybox.core.clock import Clock
from bountybox.core.errors import AppError, Unprocessable
from bountybox.db.models import (
    Address,
    CustomFieldAttribute,
    CustomFieldValue,
    Group,
    Inbox,
    Organization,
    OrganizationMember,
    Program,
    ProgramHacker,
    Report,
    ReportCollaborator,
    ReportSummary,
    ScopeExclusion,
    StructuredScope,
    User,
    Weakness,
    group_programs,
    program_weaknesses,
    report_inboxes,
)
from bountybox.domains.billing.service import top_up
from bountybox.domains.hackers.service import (
    create_intent,
    hacker_actor,
    issue_hacker_token,
    load_hacker,
    record_payout,
)
from bountybox.domains.organizations.service import (
    create_api_token,
    create_organization,
    join,
    load_organization,
    set_ip_allowlist,
)
from bountybox.domains.programs.service import add_integration, create_program
from bountybox.domains.reports.schemas import (
    AssigneeData,
    AssigneeType,
    CommentAttributes,
    DisclosureAttributes,
    RewardAttributes,
    SeverityRating,
    StateChangeAttributes,
    SwagAttributes,
)
from bountybox.domains.reports.scoring import Scored, score_vector
from bountybox.domains.reports.service import (
    add_comment,
    assign,
    award_bounty,
    award_swag,
    change_state,
    file_report,
    request_disclosure,
)
from bountybox.domains.reports.states import ReportState
from bountybox.domains.webhooks.schemas import WebhookAttributes
from bountybox.domains.webhooks.service import create_webhook
from bountybox.packs.schemas import (
    AssignStep,
    BountyStep,
    CollaboratorStep,
    CommentStep,
    CustomFieldStep,
    DiscloseStep,
    Pack,
    PackHacker,
    PackIntent,
    PackOrganization,
    PackPayout,
    PackProgram,
    PackReport,
    ReporterAgreesStep,
    RetestingStep,
    StateStep,
    Step,
    SummaryStep,
    SwagStep,
)

# The report-state shorthand walks the usual path from new (retesting: resolved first).
PATHS: dict[ReportState, list[ReportState]] = {
    ReportState.NEW: [],
    ReportState.RETESTING: [ReportState.TRIAGED, ReportState.RESOLVED],
    ReportState.RESOLVED: [ReportState.TRIAGED, ReportState.RESOLVED],
}
SHORTHAND_MESSAGES = {
    ReportState.NEEDS_MORE_INFO: "Could you share more details?",
    ReportState.INFORMATIVE: "Closing as informative.",
    ReportState.DUPLICATE: "Closing as a duplicate.",
}


def token_value(key: str, identifier: str, kind: TokenKind) -> str:
    """The derived value of a pack token. The messages are those the demo has always used, so an
    installation that loaded the demo before keeps printing its working tokens."""
    purpose = "demo-token" if kind is TokenKind.ORGANIZATION else "demo-hacker-token"
    return hmac.new(key.encode(), f"{purpose}:{identifier}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LoadedToken:
    identifier: str
    value: str
    kind: TokenKind
    organization: str | None
    groups: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.identifier}:{self.value}"

    def json(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "value": self.value,
            "kind": self.kind.value,
            "organization": self.organization,
        }


def pack_tokens(pack: Pack, key: str) -> list[LoadedToken]:
    """Every token the pack issues, organization tokens first, without touching a database."""
    tokens = [
        LoadedToken(
            token.name,
            token.value or token_value(key, token.name, TokenKind.ORGANIZATION),
            TokenKind.ORGANIZATION,
            organization.handle,
            tuple(token.groups),
        )
        for organization in pack.organizations
        for token in organization.tokens
    ]
    for hacker in pack.hackers:
        if hacker.token is False:
            continue
        value = (
            hacker.token
            if isinstance(hacker.token, str)
            else token_value(key, hacker.username, TokenKind.HACKER)
        )
        tokens.append(LoadedToken(hacker.username, value, TokenKind.HACKER, None))
    return tokens


@dataclass
class LoadedPack:
    """What a load created, by the names the pack used."""

    organizations: dict[str, int] = field(default_factory=dict)
    programs: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    reports: list[int] = field(default_factory=list)
    report_keys: dict[str, int] = field(default_factory=dict)
    webhooks: list[int] = field(default_factory=list)
    tokens: list[LoadedToken] = field(default_factory=list)
    # Every timestamp came from the pack, so loading it again writes exactly the same rows.
    dated: bool = True

    def json(self) -> dict[str, Any]:
        return {
            "organizations": {k: str(v) for k, v in self.organizations.items()},
            "programs": {k: str(v) for k, v in self.programs.items()},
            "users": {k: str(v) for k, v in self.users.items()},
            "reports": [str(r) for r in self.reports],
            "report_keys": {k: str(v) for k, v in self.report_keys.items()},
            "webhooks": [str(w) for w in self.webhooks],
            "tokens": [t.json() for t in self.tokens],
        }


async def load_pack(
    session: AsyncSession, pack: Pack, *, clock: Clock, settings: Settings, token_key: str
) -> LoadedPack:
    """Loads `pack` on top of what the database holds; names it uses must be new (422 when an
    organization, program or user exists already) or, for references, exist."""
    return await PackLoader(session, pack, clock, settings, token_key).load()


async def issue_token(session: AsyncSession, clock: Clock, token: LoadedToken) -> None:
    """Creates the token (and its API user, or its hacker) with the pack's value."""
    if token.kind is TokenKind.HACKER:
        await issue_hacker_token(
            session=session, clock=clock, username=token.identifier, value=token.value
        )
        return
    assert token.organization is not None
    await create_api_token(
        session=session,
        clock=clock,
        organization=await load_organization(session, token.organization),
        name=token.identifier,
        group_names=list(token.groups),
        value=token.value,
    )


@dataclass(order=True)
class _Event:
    at: dt.datetime
    seq: int
    # Where in the pack it comes from, for errors: "report 'xss', step 'bounty'".
    label: str = field(compare=False)
    run: Callable[[], Awaitable[None]] = field(compare=False)


class PackLoader:
    def __init__(
        self, session: AsyncSession, pack: Pack, clock: Clock, settings: Settings, token_key: str
    ) -> None:
        self.session = session
        self.pack = pack
        self.settings = settings
        self.token_key = token_key
        self.result = LoadedPack(dated=pack.created_at is not None)
        self.base = pack.created_at or clock.now()
        # The loader's own clock, frozen at the time of each item it creates.
        self.clock = Clock()
        self.clock.freeze(self.base)
        # Lookups the history repeats for every step.
        self.actors: dict[tuple[int, str | None], Actor] = {}
        self.users: dict[str, User] = {}
        self.memberships: dict[tuple[int, int], bool] = {}
        self.inboxes: dict[tuple[int, str | None], int | None] = {}
        self.programs: dict[str, Program] = {}
        self.weaknesses: dict[str, Weakness] = {}
        self.reports_by_key: dict[str, Report] = {}

    # ---- time ----

    def at(self, value: dt.datetime | None, fallback: dt.datetime | None = None) -> dt.datetime:
        if value is not None:
            return value.astimezone(dt.UTC)
        if fallback is None:
            self.result.dated = self.result.dated and self.pack.created_at is not None
            return self.base
        return fallback

    def now(self, at: dt.datetime) -> dt.datetime:
        self.clock.freeze(at)
        return self.clock.now()

    async def add(self, *rows: Any) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # ---- the whole pack ----

    async def load(self) -> LoadedPack:
        await self._weaknesses()
        for hacker in self.pack.hackers:
            await self._hacker(hacker)
        for organization in self.pack.organizations:
            await self._organization(organization)
        await self._tokens()
        await self._history()
        for organization in self.pack.organizations:
            for program_in in organization.programs:
                await self._webhooks(program_in)
        return self.result

    async def _weaknesses(self) -> None:
        now = self.now(self.at(None))
        for weakness_in in self.pack.weaknesses:
            weakness = await self.session.scalar(
                select(Weakness).where(Weakness.external_id == weakness_in.external_id)
            )
            if weakness is None:
                weakness = Weakness(
                    external_id=weakness_in.external_id,
                    name=weakness_in.name,
                    description=weakness_in.description,
                    created_at=now,
                )
                await self.add(weakness)
            self.weaknesses[weakness_in.external_id] = weakness

    async def _new_user(self, username: str, **attributes: Any) -> User:
        if await self.session.scalar(select(User.id).where(User.username == username)):
            raise Unprocessable(f"The username '{username}' is taken.")
        user = User(username=username, **attributes)
        await self.add(user)
        self.result.users[username] = user.id
        self.users[username] = user
        return user

    async def _hacker(self, hacker_in: PackHacker) -> None:
        created = self.now(self.at(hacker_in.created_at))
        user = await self._new_user(
            hacker_in.username,
            name=hacker_in.name,
            email=hacker_in.email,
            reputation=hacker_in.reputation,
            signal=hacker_in.signal,
            impact=hacker_in.impact,
            created_at=created,
            user_type="hacker",
        )
        if hacker_in.address is not None:
            address = hacker_in.address
            await self.add(
                Address(
                    user_id=user.id,
                    name=address.name or user.name or user.username,
                    street=address.street,
                    city=address.city,
                    postal_code=address.postal_code,
                    state=address.state,
                    country=address.country,
                    tshirt_size=address.tshirt_size,
                    created_at=self.now(self.at(None)),
                )
            )

    async def _organization(self, org_in: PackOrganization) -> None:
        now = self.now(self.at(org_in.created_at))
        org = await create_organization(
            session=self.session, clock=self.clock, handle=org_in.handle, name=org_in.name
        )
        if org_in.ip_allowlist:
            set_ip_allowlist(clock=self.clock, organization=org, cidrs=org_in.ip_allowlist)
        self.result.organizations[org.handle] = org.id
        programs = [await self._program(org, program_in) for program_in in org_in.programs]
        groups: dict[str, Group] = {}
        for group_in in org_in.groups:
            group = Group(
                organization_id=org.id,
                name=group_in.name,
                permissions=sorted(p.value for p in group_in.permissions),
                created_at=now,
                updated_at=now,
            )
            await self.add(group)
            groups[group.name] = group
            if group_in.programs:
                ids = [(await self._program_named(handle, org)).id for handle in group_in.programs]
                await self.session.execute(
                    insert(group_programs), [{"group_id": group.id, "program_id": i} for i in ids]
                )
        for member_in in org_in.members:
            user = await self.session.scalar(
                select(User).where(User.username == member_in.username)
            )
            if user is None:
                user = await self._new_user(
                    member_in.username,
                    name=member_in.name,
                    email=member_in.email,
                    created_at=now,
                    user_type="member",
                )
            await join(
                self.session,
                org,
                user,
                admin=member_in.admin,
                groups=[self._named(groups, name, "group") for name in member_in.groups],
                at=now,
            )
        await self.add(
            *[
                Inbox(
                    organization_id=org.id,
                    program_id=None,
                    name=inbox_in.name,
                    type="custom",
                    created_at=now,
                    updated_at=now,
                )
                for inbox_in in org_in.inboxes
            ]
        )
        for program, program_in in zip(programs, org_in.programs, strict=True):
            await self._program_details(program, program_in, now)

    async def _program(self, org: Organization, program_in: PackProgram) -> Program:
        program = await create_program(
            session=self.session,
            clock=self.clock,
            organization=org,
            handle=program_in.handle,
            name=program_in.name,
            offers_bounties=program_in.offers_bounties,
            private=program_in.private,
        )
        program.policy = program_in.policy
        program.minimum_bounty_cents = cents(program_in.minimum_bounty)
        program.bounty_fee_basis_points = program_in.bounty_fee_basis_points
        program.severity_calculation_methods = [
            m.value for m in program_in.severity_calculation_methods
        ]
        if program_in.balance:
            await top_up(
                self.session, self.clock, program=program, amount_cents=cents(program_in.balance)
            )
        for integration in program_in.integrations:
            await add_integration(
                session=self.session,
                clock=self.clock,
                program=program,
                name=integration.name,
                group_type=integration.type,
                webhook_url=integration.webhook_url,
                reference_url_prefix=integration.reference_url_prefix,
            )
        names = program_in.weaknesses
        wanted = list(self.weaknesses) if names is None else names
        if wanted:
            await self.session.execute(
                insert(program_weaknesses),
                [
                    {
                        "program_id": program.id,
                        "weakness_id": self._named(self.weaknesses, n, "weakness").id,
                    }
                    for n in wanted
                ],
            )
        self.result.programs[program.handle] = program.id
        return program

    async def _program_details(
        self, program: Program, program_in: PackProgram, now: dt.datetime
    ) -> None:
        """What the program owns besides its settings, once the organization's people exist."""
        await self.add(
            *[
                StructuredScope(
                    program_id=program.id,
                    asset_identifier=scope.asset_identifier,
                    asset_type=scope.asset_type,
                    eligible_for_bounty=scope.eligible_for_bounty and program.offers_bounties,
                    eligible_for_submission=scope.eligible_for_submission,
                    max_severity=scope.max_severity.value,
                    confidentiality_requirement=_value(scope.confidentiality_requirement),
                    integrity_requirement=_value(scope.integrity_requirement),
                    availability_requirement=_value(scope.availability_requirement),
                    reference=scope.reference,
                    instruction=scope.instruction,
                    created_at=now,
                    updated_at=now,
                )
                for scope in program_in.scopes
            ],
            *[
                CustomFieldAttribute(
                    program_id=program.id,
                    label=custom.label,
                    field_type=custom.field_type,
                    internal=custom.internal,
                    required=custom.required,
                    configuration=custom.configuration,
                    created_at=now,
                    updated_at=now,
                )
                for custom in program_in.custom_fields
            ],
            *[
                ScopeExclusion(
                    program_id=program.id,
                    category=exclusion.category,
                    details=exclusion.details,
                    created_at=now,
                    updated_at=now,
                )
                for exclusion in program_in.scope_exclusions
            ],
        )
        for username in program_in.allowed_hackers:
            user = await self._user(username)
            await self.add(ProgramHacker(program_id=program.id, user_id=user.id, created_at=now))

    async def _tokens(self) -> None:
        self.now(self.at(None))
        for token in pack_tokens(self.pack, self.token_key):
            await issue_token(self.session, self.clock, token)
            self.result.tokens.append(token)

    async def _webhooks(self, program_in: PackProgram) -> None:
        if not program_in.webhooks:
            return
        program = await self._program_named(program_in.handle)
        for webhook_in in program_in.webhooks:
            webhook = await create_webhook(
                session=self.session,
                clock=self.clock,
                settings=self.settings,
                program=program,
                created_by=None,
                webhook_in=WebhookAttributes(
                    url=webhook_in.url,
                    secret=webhook_in.secret,
                    events=list(webhook_in.events),
                    active=webhook_in.active,
                ),
            )
            self.result.webhooks.append(webhook.id)

    # ---- history, in time order ----

    async def _history(self) -> None:
        """Reports, their steps, payouts and intents run in the order of their times; an undated
        item happens when the item before it (in the pack) did."""
        timeline: list[_Event] = []
        cursor: dt.datetime | None = None

        def schedule(
            at: dt.datetime | None, label: str, run: Callable[[], Awaitable[None]]
        ) -> dt.datetime:
            nonlocal cursor
            cursor = self.at(at, cursor)
            timeline.append(_Event(cursor, len(timeline), label, run))
            return cursor

        for n, report_in in enumerate(self.pack.reports):
            handle = ReportHandle()
            where = f"report '{report_in.key or n}'"
            submitted = schedule(report_in.submitted_at, where, self._filing(report_in, handle))
            for step in report_in.history or self._shorthand(report_in, submitted):
                schedule(step.at, f"{where}, step '{step.action}'", self._step(handle, step))
        for n, payout in enumerate(self.pack.payouts):
            schedule(payout.at, f"payout {n}", self._payout(payout))
        for n, intent in enumerate(self.pack.intents):
            schedule(intent.at, f"intent {n}", self._intent(intent))
        for event in sorted(timeline):
            self.now(event.at)
            try:
                await event.run()
            except AppError as exc:
                # The service's complaint, with where in the pack it happened.
                detail = exc.detail or exc.title or type(exc).__name__
                raise Unprocessable(f"In the pack's {event.label}: {detail}") from exc

    def _shorthand(self, report_in: PackReport, at: dt.datetime) -> list[Step]:
        if report_in.state is None:
            return []
        target = report_in.state
        path = PATHS.get(target, [target])
        steps: list[Step] = [
            StateStep(action="state", state=s, message=SHORTHAND_MESSAGES.get(s, ""), at=at)
            for s in path
        ]
        if target is ReportState.RETESTING:
            steps.append(RetestingStep(action="retesting", at=at))
        return steps

    def _filing(self, report_in: PackReport, handle: ReportHandle) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            handle.report = await self._file(report_in)

        return run

    def _step(self, handle: ReportHandle, step: Step) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            assert handle.report is not None
            await self._apply(handle.report, step)

        return run

    async def _file(self, report_in: PackReport) -> Report:
        program = await self._program_named(report_in.program)
        reporter = await self._user(report_in.reporter)
        rating, scored = severity_of(report_in.severity)
        report = await file_report(
            session=self.session,
            clock=self.clock,
            program=program,
            reporter_id=reporter.id,
            title=report_in.title,
            vulnerability_information=report_in.vulnerability_information,
            impact=None,
            source=None,
            weakness_id=await self._weakness_id(report_in.weakness),
            structured_scope_id=await self._scope_id(program, report_in.scope),
            rating=rating,
            scored=scored,
            filed_by_program=False,
        )
        if report_in.inboxes:
            inbox_ids = [await self._inbox_id(program, name) for name in report_in.inboxes]
            await self.session.execute(
                insert(report_inboxes),
                [{"report_id": report.id, "inbox_id": i} for i in inbox_ids],
            )
        self.result.reports.append(report.id)
        if report_in.key is not None:
            if report_in.key in self.reports_by_key:
                raise Unprocessable(f"Two reports have the key '{report_in.key}'.")
            self.reports_by_key[report_in.key] = report
            self.result.report_keys[report_in.key] = report.id
        return report

    async def _weakness_id(self, external_id: str | None) -> int | None:
        if external_id is None:
            return None
        weakness = self.weaknesses.get(external_id) or await self.session.scalar(
            select(Weakness).where(Weakness.external_id == external_id)
        )
        if weakness is None:
            raise Unprocessable(f"No weakness '{external_id}'.")
        return weakness.id

    async def _scope_id(self, program: Program, identifier: str | None) -> int | None:
        if identifier is None:
            return None
        scope_id = await self.session.scalar(
            select(StructuredScope.id).where(
                StructuredScope.program_id == program.id,
                StructuredScope.asset_identifier == identifier,
            )
        )
        if scope_id is None:
            raise Unprocessable(f"No scope '{identifier}' in program '{program.handle}'.")
        return scope_id

    async def _inbox_id(self, program: Program, name: str | None) -> int:
        """The program's default inbox (no name), or a custom inbox of its organization."""
        key = (program.id, name)
        if key not in self.inboxes:
            query = (
                select(Inbox.id).where(Inbox.program_id == program.id, Inbox.type == "default")
                if name is None
                else select(Inbox.id).where(
                    Inbox.organization_id == program.organization_id, Inbox.name == name
                )
            )
            self.inboxes[key] = await self.session.scalar(query)
        inbox_id = self.inboxes[key]
        if inbox_id is None:
            raise Unprocessable(f"No inbox '{name}' in the organization of '{program.handle}'.")
        return inbox_id

    async def _apply(self, report: Report, step: Step) -> None:
        match step:
            case StateStep():
                original_id = None
                if step.original_report is not None:
                    original_id = self._named(
                        self.reports_by_key, step.original_report, "report key"
                    ).id
                await change_state(
                    session=self.session,
                    clock=self.clock,
                    actor=await self._actor(report, step.by),
                    report=report,
                    change_in=StateChangeAttributes(
                        state=step.state, message=step.message, original_report_id=original_id
                    ),
                )
            case CommentStep():
                await self._comment(report, step)
            case AssignStep():
                program = await self._program_of(report)
                if step.user is not None:
                    assignee = AssigneeData(
                        type=AssigneeType.USER, id=(await self._user(step.user)).id
                    )
                else:
                    group = await self.session.scalar(
                        select(Group).where(
                            Group.organization_id == program.organization_id,
                            Group.name == step.group,
                        )
                    )
                    if group is None:
                        raise Unprocessable(f"No group '{step.group}'.")
                    assignee = AssigneeData(type=AssigneeType.GROUP, id=group.id)
                await assign(
                    session=self.session,
                    clock=self.clock,
                    actor=await self._actor(report, step.by),
                    report=report,
                    assignee_in=assignee,
                )
            case RetestingStep():
                await self._retesting(report, step)
            case BountyStep():
                await award_bounty(
                    session=self.session,
                    clock=self.clock,
                    actor=await self._actor(report, step.by),
                    report=report,
                    bounty_in=RewardAttributes(
                        message=step.message, amount=step.amount, bonus_amount=step.bonus_amount
                    ),
                )
            case SwagStep():
                await award_swag(
                    session=self.session,
                    clock=self.clock,
                    actor=await self._actor(report, step.by),
                    report=report,
                    swag_in=SwagAttributes(message=step.message),
                )
            case CollaboratorStep():
                user = await self._user(step.username)
                await self.add(
                    ReportCollaborator(report_id=report.id, user_id=user.id, weight=step.weight)
                )
            case SummaryStep():
                actor = await self._actor(report, step.by)
                now = self.clock.now()
                await self.add(
                    ReportSummary(
                        report_id=report.id,
                        user_id=actor.user_id,
                        category="team",
                        content=step.content,
                        created_at=now,
                        updated_at=now,
                    )
                )
            case CustomFieldStep():
                attribute_id = await self.session.scalar(
                    select(CustomFieldAttribute.id).where(
                        CustomFieldAttribute.program_id == report.program_id,
                        CustomFieldAttribute.label == step.field,
                    )
                )
                if attribute_id is None:
                    raise Unprocessable(f"No custom field '{step.field}'.")
                now = self.clock.now()
                await self.add(
                    CustomFieldValue(
                        report_id=report.id,
                        custom_field_attribute_id=attribute_id,
                        value=step.value,
                        created_at=now,
                        updated_at=now,
                    )
                )
            case ReporterAgreesStep():
                await self._reporter_agrees(report, step)
            case DiscloseStep():
                await request_disclosure(
                    session=self.session,
                    clock=self.clock,
                    actor=await self._actor(report, step.by),
                    report=report,
                    disclosure_in=DisclosureAttributes(
                        substate=step.substate, message=step.message
                    ),
                )

    async def _comment(self, report: Report, step: CommentStep) -> None:
        program = await self._program_of(report)
        author = await self._user(step.by) if step.by is not None else None
        if author is not None and not await self._is_member(program.organization_id, author.id):
            # The reporter (or another hacker) replies.
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
                actor=hacker_actor(author),
                message=step.message,
            )
            return
        await add_comment(
            session=self.session,
            clock=self.clock,
            actor=await self._actor(report, step.by),
            report=report,
            comment_in=CommentAttributes(message=step.message, internal=step.internal),
        )

    async def _retesting(self, report: Report, step: RetestingStep) -> None:
        if report.state != ReportState.RESOLVED:
            raise Unprocessable("Only a resolved report can be retested.")
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
            actor=await self._actor(report, step.by),
            message=step.message,
        )

    async def _reporter_agrees(self, report: Report, step: ReporterAgreesStep) -> None:
        reporter = await self.session.get(User, report.reporter_id)
        assert reporter is not None
        now = self.clock.now()
        report.reporter_agreed_on_going_public_at = now
        report.last_reporter_activity_at = report.last_public_activity_at = now
        await events.emit(
            self.session,
            self.clock,
            type="activity-agreed-on-going-public",
            program_id=report.program_id,
            report_id=report.id,
            actor=hacker_actor(reporter),
            message=step.message,
            extra={"disclosed_at": None, "allow_singular_disclosure_at": None},
            at=now,
        )

    def _payout(self, payout: PackPayout) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await record_payout(
                session=self.session,
                clock=self.clock,
                user=await load_hacker(self.session, payout.hacker),
                amount_cents=None if payout.amount is None else cents(payout.amount),
                provider=payout.provider,
                reference=payout.reference,
            )

        return run

    def _intent(self, intent: PackIntent) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await create_intent(
                session=self.session,
                clock=self.clock,
                actor=hacker_actor(await load_hacker(self.session, intent.hacker)),
                team_handle=intent.program,
                description=intent.description,
            )

        return run

    # ---- names ----

    @staticmethod
    def _named(found: dict[str, Any], name: str, kind: str) -> Any:
        if name not in found:
            raise Unprocessable(f"No {kind} '{name}' in the pack.")
        return found[name]

    async def _program_named(self, handle: str, org: Organization | None = None) -> Program:
        program = self.programs.get(handle)
        if program is None:
            program = await self.session.scalar(select(Program).where(Program.handle == handle))
            if program is None:
                raise Unprocessable(f"No program '{handle}'.")
            self.programs[handle] = program
        if org is not None and program.organization_id != org.id:
            raise Unprocessable(f"No program '{handle}' in organization '{org.handle}'.")
        return program

    async def _program_of(self, report: Report) -> Program:
        program = await self.session.get(Program, report.program_id)
        assert program is not None
        return program

    async def _user(self, username: str) -> User:
        user = self.users.get(username)
        if user is None:
            user = await self.session.scalar(select(User).where(User.username == username))
            if user is None:
                raise Unprocessable(f"No user '{username}'.")
            self.users[username] = user
        return user

    async def _is_member(self, organization_id: int, user_id: int) -> bool:
        key = (organization_id, user_id)
        if key not in self.memberships:
            found = await self.session.scalar(
                select(OrganizationMember.id).where(
                    OrganizationMember.organization_id == organization_id,
                    OrganizationMember.user_id == user_id,
                )
            )
            self.memberships[key] = found is not None
        return self.memberships[key]

    async def _actor(self, report: Report, username: str | None) -> Actor:
        """A member of the report's organization acting with every permission (the pack is the
        operator's word); left out, its first admin, a person or an API token."""
        program = await self._program_of(report)
        key = (program.organization_id, username)
        if key not in self.actors:
            self.actors[key] = await self._new_actor(program, username)
        return self.actors[key]

    async def _new_actor(self, program: Program, username: str | None) -> Actor:
        if username is None:
            first_admin = (OrganizationMember.organization_admin.desc(), OrganizationMember.id)
            user_id = await self.session.scalar(
                select(OrganizationMember.user_id)
                .where(OrganizationMember.organization_id == program.organization_id)
                .order_by(*first_admin)
            )
            if user_id is None:
                raise Unprocessable(
                    f"Organization of '{program.handle}' has no member or token to act."
                )
        else:
            user_id = (await self._user(username)).id
            if not await self._is_member(program.organization_id, user_id):
                raise Unprocessable(f"'{username}' is not in the organization of the report.")
        program_ids = await self.session.scalars(
            select(Program.id).where(Program.organization_id == program.organization_id)
        )
        return Actor(
            token_id=0,
            user_id=user_id,
            kind=TokenKind.ORGANIZATION,
            organization_id=program.organization_id,
            organization_admin=True,
            programs=dict.fromkeys(program_ids, ALL_PROGRAM_PERMISSIONS),
        )


@dataclass
class ReportHandle:
    """The report a pack entry becomes, once its filing has run."""

    report: Report | None = None


def cents(amount: Any) -> int:
    return int(amount * 100)


def _value(rating: Any) -> str | None:
    return None if rating is None else str(rating.value)


def severity_of(rating_or_vector: str | None) -> tuple[SeverityRating | None, Scored | None]:
    """A pack's severity for `file_report`: a CVSS vector is scored; a bare rating is a manual
    severity."""
    if rating_or_vector is None:
        return None, None
    if rating_or_vector.upper().startswith("CVSS:"):
        try:
            return None, score_vector(rating_or_vector)
        except AppError:
            raise Unprocessable(f"'{rating_or_vector}' is not a valid CVSS vector.") from None
    try:
        return SeverityRating(rating_or_vector), None
    except ValueError:
        ratings = ", ".join(r.value for r in SeverityRating)
        raise Unprocessable(f"A severity is a CVSS vector or one of {ratings}.") from None
