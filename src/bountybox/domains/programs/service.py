"""Program rules: creating programs, and what their teams administer (policy, scope exclusions,
swag, bounties outside reports, messages and invitations to hackers, CVE requests, campaigns)."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.auth import Actor, ProgramPermission
from bountybox.core.clock import Clock
from bountybox.core.errors import AppError, Forbidden, InvalidParameter, NotFound, ValidationFailed
from bountybox.core.jsonapi.render import Json
from bountybox.core.outbound import (
    BlockedAddress,
    UnsafeUrl,
    check_url,
    outbound_client,
    parse_destination,
)
from bountybox.core.storage import Storage, new_storage_key
from bountybox.db.models import (
    Attachment,
    Bounty,
    Campaign,
    CampaignDetail,
    CveRequest,
    HackerInvitation,
    Inbox,
    Organization,
    Program,
    ProgramIntegration,
    Report,
    ScopeExclusion,
    Swag,
    TeamMessage,
    User,
    policy_attachments,
)
from bountybox.domains.billing import service as ledger
from bountybox.domains.organizations.service import check_handle
from bountybox.domains.programs import repository
from bountybox.domains.programs.schemas import (
    CampaignAttributes,
    CveRequestAttributes,
    HackerInvitationAttributes,
    NotifyAttributes,
    ProgramBountyAttributes,
    ScopeExclusionAttributes,
    TeamMessageAttributes,
)
from bountybox.domains.reports.attachments import Upload
from bountybox.domains.reports.repository import find_integration
from bountybox.domains.reports.scoring import score_vector
from bountybox.mail import queue_mail


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


# ---- program administration ----

PM = ProgramPermission.PROGRAM_MANAGEMENT
RW = ProgramPermission.REWARD_MANAGEMENT
CAMPAIGN_START_NOTICE = dt.timedelta(days=3)
CAMPAIGN_MIN_END = dt.timedelta(days=4)
INVITATION_LIFETIME = dt.timedelta(days=30)


def require(
    actor: Actor, program: Program, permission: ProgramPermission, error: type[AppError] = Forbidden
) -> None:
    if not actor.can(program.id, permission):
        raise error()


def set_policy(*, clock: Clock, actor: Actor, program: Program, policy: str) -> Program:
    require(actor, program, PM, NotFound)
    program.policy = policy
    program.updated_at = clock.now()
    return program


async def add_policy_attachment(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    program: Program,
    storage: Storage,
    upload: Upload,
) -> Attachment:
    require(actor, program, PM, NotFound)
    key = new_storage_key(upload.file_name)
    await storage.save(key, upload.data)
    attachment = Attachment(
        organization_id=program.organization_id,
        file_name=upload.file_name,
        content_type=upload.content_type,
        file_size=len(upload.data),
        storage_key=key,
        uploaded_by_id=actor.user_id,
        created_at=clock.now(),
    )
    session.add(attachment)
    await session.flush()
    await session.execute(
        insert(policy_attachments), [{"program_id": program.id, "attachment_id": attachment.id}]
    )
    return attachment


async def create_scope_exclusion(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    program: Program,
    exclusion_in: ScopeExclusionAttributes,
) -> ScopeExclusion:
    require(actor, program, PM)
    if not (exclusion_in.category or exclusion_in.details):
        raise InvalidParameter("category", "A scope exclusion needs a category or details.")
    now = clock.now()
    exclusion = ScopeExclusion(
        program_id=program.id,
        category=exclusion_in.category,
        details=exclusion_in.details,
        created_at=now,
        updated_at=now,
    )
    session.add(exclusion)
    await session.flush()
    return exclusion


def update_scope_exclusion(
    *,
    clock: Clock,
    actor: Actor,
    program: Program,
    exclusion: ScopeExclusion,
    exclusion_in: ScopeExclusionAttributes,
) -> ScopeExclusion:
    require(actor, program, PM)
    fields = exclusion_in.model_fields_set
    if "category" in fields:
        exclusion.category = exclusion_in.category
    if "details" in fields:
        exclusion.details = exclusion_in.details
    exclusion.updated_at = clock.now()
    return exclusion


async def delete_scope_exclusion(
    *, session: AsyncSession, actor: Actor, program: Program, exclusion: ScopeExclusion
) -> None:
    require(actor, program, PM)
    await session.delete(exclusion)
    await session.flush()


def mark_swag_sent(*, actor: Actor, program: Program, swag: Swag, sent: bool) -> Swag:
    require(actor, program, PM)
    swag.sent = sent
    return swag


async def award_program_bounty(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    program: Program,
    bounty_in: ProgramBountyAttributes,
) -> tuple[Bounty, Report, list[Json]]:
    """A bounty outside a report: it is booked on a new resolved report so the ledger, earnings and
    analytics see it like any other; an unknown email gets an invitation mail to claim it."""
    require(actor, program, RW)
    if not program.offers_bounties:
        raise Forbidden("This program does not award bounties.")
    recipient = None
    if bounty_in.recipient_id is not None:
        recipient = await session.get(User, bounty_in.recipient_id)
        if recipient is None or recipient.user_type != "hacker":
            raise InvalidParameter("recipient_id")
    else:
        assert bounty_in.recipient is not None
        recipient = await session.scalar(
            select(User).where(
                User.email == bounty_in.recipient.lower(), User.user_type == "hacker"
            )
        )
    amount = int(bounty_in.amount * 100)
    fee = amount * program.bounty_fee_basis_points // 10_000
    if amount + fee > await ledger.locked_balance(session, program.id):
        raise InvalidParameter("amount", "The bounty and its fee exceed the program balance.")
    now = clock.now()
    report = Report(
        program_id=program.id,
        reporter_id=recipient.id if recipient else actor.user_id,
        title=bounty_in.title,
        vulnerability_information=f"Bounty awarded outside a report: {bounty_in.reference}",
        state="resolved",
        source=bounty_in.reference,
        created_at=now,
        updated_at=now,
        submitted_at=now,
        closed_at=now,
        last_activity_at=now,
        cve_ids=[],
        report_tags=[],
        bounty_awarded_at=now,
    )
    session.add(report)
    await session.flush()
    bounty = Bounty(
        report_id=report.id,
        amount_cents=amount,
        bonus_amount_cents=0,
        currency="USD",
        created_at=now,
    )
    session.add(bounty)
    await session.flush()
    await ledger.pay_bounty(
        session, clock, program=program, report=report, bounty=bounty, fee_cents=fee
    )
    invitations: list[Json] = []
    if recipient is None:
        assert bounty_in.recipient is not None
        mail = await queue_mail(
            session,
            clock,
            organization_id=program.organization_id,
            kind="bounty_claim",
            to=bounty_in.recipient.lower(),
            subject=f"{program.name} awarded you a bounty",
            body=(
                f"{program.name} awarded you a bounty of ${bounty_in.amount} for "
                f"'{bounty_in.title}' ({bounty_in.reference}). Create an account with this email "
                "address to claim it.\n"
            ),
        )
        invitations.append(
            {
                "id": str(mail.id),
                "recipient": bounty_in.recipient.lower(),
                "claim_url": f"/bounties/claim/{mail.id}",
            }
        )
    return bounty, report, invitations


async def send_team_message(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    program: Program,
    message_in: TeamMessageAttributes,
) -> TeamMessage:
    """Messages hackers by mail, through the outbox."""
    require(actor, program, PM)
    recipients: dict[int, User] = {}
    if message_in.recipients:
        names = [n.strip() for n in message_in.recipients.split(",") if n.strip()]
        found = await repository.hackers_by_usernames(session, names)
        missing = [n for n in names if n not in found]
        if missing:
            raise InvalidParameter("recipients", f"Unknown hackers: {', '.join(missing[:10])}.")
        recipients.update({u.id: u for u in found.values()})
    groups = [
        (message_in.message_invited_hackers, repository.invited_hackers),
        (message_in.message_top_hackers, repository.top_hackers),
        (message_in.message_participating_hackers, repository.participating_hackers),
        (message_in.message_bounty_claimed_hackers, repository.bounty_hackers),
    ]
    if not message_in.recipients and not any(wanted for wanted, _ in groups):
        raise InvalidParameter("recipients", "Name recipients or choose a group of hackers.")
    for wanted, loader in groups:
        if wanted:
            recipients.update({u.id: u for u in await loader(session, program)})
    now = clock.now()
    message = TeamMessage(
        program_id=program.id,
        sender_id=actor.user_id,
        subject=message_in.subject,
        message=message_in.message,
        recipient_ids=sorted(recipients),
        state="sent",
        created_at=now,
    )
    session.add(message)
    await session.flush()
    subject = message_in.subject or f"A message from {program.name}"
    for user in recipients.values():
        if user.email:
            await queue_mail(
                session,
                clock,
                organization_id=program.organization_id,
                kind="team_message",
                to=user.email,
                subject=subject,
                body=message_in.message,
            )
    if message_in.send_me_copy:
        sender = await session.get(User, actor.user_id)
        if sender is not None and sender.email:
            await queue_mail(
                session,
                clock,
                organization_id=program.organization_id,
                kind="team_message",
                to=sender.email,
                subject=subject,
                body=message_in.message,
            )
    return message


async def invite_hackers(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    program: Program,
    invitation_in: HackerInvitationAttributes,
) -> list[Json]:
    """Invites hackers by username or email; answers the per-person validation result."""
    require(actor, program, PM)
    if not invitation_in.usernames and not invitation_in.email_addresses:
        raise InvalidParameter("usernames", "Name at least one username or email address.")
    found = await repository.hackers_by_usernames(session, invitation_in.usernames)
    now = clock.now()
    results: list[Json] = []
    for name in invitation_in.usernames:
        user = found.get(name)
        reasons = [] if user else ["User does not exist"]
        if user is not None:
            session.add(
                HackerInvitation(
                    program_id=program.id,
                    recipient_id=user.id,
                    email=user.email,
                    invited_by_id=actor.user_id,
                    message=invitation_in.message,
                    state="open",
                    expires_at=now + INVITATION_LIFETIME,
                    created_at=now,
                    updated_at=now,
                )
            )
            if user.email:
                await queue_mail(
                    session,
                    clock,
                    organization_id=program.organization_id,
                    kind="hacker_invitation",
                    to=user.email,
                    subject=f"You are invited to {program.name}",
                    body=invitation_in.message,
                )
        results.append(
            {"table": {"user": name, "username": name, "email": None, "reasons": reasons}}
        )
    for email in invitation_in.email_addresses:
        session.add(
            HackerInvitation(
                program_id=program.id,
                recipient_id=None,
                email=email.lower(),
                invited_by_id=actor.user_id,
                message=invitation_in.message,
                state="open",
                expires_at=now + INVITATION_LIFETIME,
                created_at=now,
                updated_at=now,
            )
        )
        await queue_mail(
            session,
            clock,
            organization_id=program.organization_id,
            kind="hacker_invitation",
            to=email.lower(),
            subject=f"You are invited to {program.name}",
            body=invitation_in.message,
        )
        results.append(
            {"table": {"user": None, "username": None, "email": email.lower(), "reasons": []}}
        )
    await session.flush()
    return results


async def create_cve_request(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    program: Program,
    request_in: CveRequestAttributes,
) -> CveRequest:
    require(actor, program, PM)
    if request_in.team_handle != program.handle:
        raise InvalidParameter("team_handle")
    if await repository.find_program_weakness(session, program, request_in.weakness_id) is None:
        raise InvalidParameter("weakness_id")
    if request_in.report_id is not None:
        report = await session.get(Report, request_in.report_id)
        if report is None or report.program_id != program.id:
            raise InvalidParameter("report_id")
    for metric in request_in.metrics:
        try:
            score_vector(metric.vectorString)
        except AppError:
            raise InvalidParameter(
                "metrics", f"'{metric.vectorString}' is not a CVSS vector."
            ) from None
    now = clock.now()
    request = CveRequest(
        program_id=program.id,
        report_id=request_in.report_id,
        weakness_id=request_in.weakness_id,
        request_type="new",
        state="draft",
        versions=[v.model_dump() for v in request_in.versions],
        metrics=[m.model_dump() for m in request_in.metrics],
        products=request_in.products
        or sorted({f"{v.vendor} {v.product}" for v in request_in.versions}),
        references=request_in.references,
        description=request_in.description,
        vulnerability_discovered_at=request_in.vulnerability_discovered_at.astimezone(dt.UTC)
        if request_in.vulnerability_discovered_at.tzinfo
        else request_in.vulnerability_discovered_at.replace(tzinfo=dt.UTC),
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    return request


# ---- campaigns ----


def campaign_status(campaign: Campaign, now: dt.datetime) -> str:
    if campaign.status == "active" and campaign.end_date <= now:
        return "inactive"
    return campaign.status


async def _validate_campaign_links(
    session: AsyncSession, program: Program, campaign_in: CampaignAttributes
) -> None:
    if campaign_in.structured_scope_ids:
        wanted = set(campaign_in.structured_scope_ids)
        if len(await repository.program_scopes(session, program, wanted)) != len(wanted):
            raise InvalidParameter("structured_scope_ids")
    if (
        campaign_in.bounty_table_row_id is not None
        and await repository.program_bounty_table_row(
            session, program, campaign_in.bounty_table_row_id
        )
        is None
    ):
        raise InvalidParameter("bounty_table_row_id")


async def create_campaign(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    program: Program,
    campaign_in: CampaignAttributes,
) -> Campaign:
    require(actor, program, PM)
    now = clock.now()
    for name in ("campaign_objective_id", "critical", "high", "start_date", "end_date"):
        if getattr(campaign_in, name) is None:
            raise InvalidParameter(name)
    assert campaign_in.start_date is not None
    assert campaign_in.end_date is not None
    start, end = campaign_in.start_date.astimezone(dt.UTC), campaign_in.end_date.astimezone(dt.UTC)
    if start < now + CAMPAIGN_START_NOTICE:
        raise InvalidParameter("start_date", "Campaigns start at least 3 days ahead.")
    if end < now + CAMPAIGN_MIN_END or end <= start:
        raise InvalidParameter(
            "end_date", "Campaigns end at least 4 days ahead and after they start."
        )
    assert campaign_in.campaign_objective_id is not None
    if await repository.find_objective(session, campaign_in.campaign_objective_id) is None:
        raise InvalidParameter("campaign_objective_id")
    await _validate_campaign_links(session, program, campaign_in)
    campaign = Campaign(
        program_id=program.id,
        campaign_type=campaign_in.campaign_type,
        status="scheduled",
        researchers_information=campaign_in.researchers_information,
        critical=campaign_in.critical,
        high=campaign_in.high,
        medium=campaign_in.medium,
        low=campaign_in.low,
        bounty_pool_limit=campaign_in.bounty_pool_limit,
        start_date=start,
        end_date=end,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    await session.flush()
    session.add(
        CampaignDetail(
            campaign_id=campaign.id,
            campaign_objective_id=campaign_in.campaign_objective_id,
            bounty_table_row_id=campaign_in.bounty_table_row_id,
            structured_scope_ids=sorted(set(campaign_in.structured_scope_ids or [])),
        )
    )
    await session.flush()
    return campaign


ACTIVE_CAMPAIGN_FIELDS = frozenset(
    {"end_date", "researchers_information", "extended_at", "start_date"}
)


async def update_campaign(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    program: Program,
    campaign: Campaign,
    campaign_in: CampaignAttributes,
) -> Campaign:
    """Scheduled campaigns change freely; active ones only their end, information and extension."""
    require(actor, program, PM)
    now = clock.now()
    status = campaign_status(campaign, now)
    if status == "inactive":
        raise InvalidParameter("status", "Ended campaigns cannot change.")
    fields = campaign_in.model_fields_set - {"campaign_type"}
    if status == "active":
        refused = fields - ACTIVE_CAMPAIGN_FIELDS
        if refused:
            raise InvalidParameter(
                sorted(refused)[0], "Active campaigns only change end date and information."
            )
        if "start_date" in fields and campaign_in.start_date != campaign.start_date:
            raise InvalidParameter("start_date", "An active campaign keeps its start date.")
    await _validate_campaign_links(session, program, campaign_in)
    detail = await session.get(CampaignDetail, campaign.id)
    for name in fields:
        value = getattr(campaign_in, name)
        if name in ("start_date", "end_date") and value is not None:
            value = value.astimezone(dt.UTC)
        if name in (
            "structured_scope_ids",
            "bounty_table_row_id",
            "campaign_objective_id",
            "extended_at",
        ):
            if detail is not None:
                if name == "campaign_objective_id" and value is not None:
                    if await repository.find_objective(session, value) is None:
                        raise InvalidParameter(name)
                    detail.campaign_objective_id = value
                elif name == "structured_scope_ids":
                    detail.structured_scope_ids = sorted(set(value or []))
                elif name == "bounty_table_row_id":
                    detail.bounty_table_row_id = value
                elif name == "extended_at":
                    detail.extended_at = value.astimezone(dt.UTC) if value else None
            continue
        if name in ("critical", "high") and value is None:
            raise InvalidParameter(name)
        setattr(campaign, name, value)
    if campaign.end_date <= campaign.start_date:
        raise InvalidParameter("end_date", "A campaign ends after it starts.")
    if status == "active" and campaign.end_date <= now:
        raise InvalidParameter("end_date", "An active campaign ends in the future.")
    campaign.updated_at = now
    await session.flush()
    return campaign


def launch_campaign(
    *, clock: Clock, actor: Actor, program: Program, campaign: Campaign
) -> Campaign:
    require(actor, program, PM)
    now = clock.now()
    if campaign_status(campaign, now) != "scheduled":
        raise InvalidParameter("status", "Only scheduled campaigns can be launched.")
    campaign.status = "active"
    campaign.start_date = now
    if campaign.end_date <= now:
        raise InvalidParameter("end_date", "The campaign would end before it starts.")
    campaign.updated_at = now
    return campaign


def end_campaign_prematurely(
    *, clock: Clock, actor: Actor, program: Program, campaign: Campaign
) -> Campaign:
    """Sets the end to tomorrow; only active campaigns not ending within 3 days."""
    require(actor, program, PM)
    now = clock.now()
    if campaign_status(campaign, now) != "active":
        raise InvalidParameter("status", "Only active campaigns can be ended.")
    if campaign.end_date <= now + dt.timedelta(days=3):
        raise InvalidParameter("end_date", "The campaign ends within 3 days anyway.")
    campaign.end_date = now + dt.timedelta(days=1)
    campaign.updated_at = now
    return campaign


# ---- integrations ----

NOTIFY_TIMEOUT_SECONDS = 10


async def notify_external_platform(
    *,
    session: AsyncSession,
    actor: Actor,
    program: Program,
    notify_in: NotifyAttributes,
    allow_private: bool,
) -> bool:
    """Posts the message to the notification integration's webhook; true when it answered 2xx."""
    require(actor, program, ProgramPermission.REPORT_MANAGEMENT)
    integration = await find_integration(session, program.id, notify_in.integration_id)
    if integration is None or integration.group_type != "notification":
        raise InvalidParameter("integration_id")
    if not integration.webhook_url:
        raise InvalidParameter("integration_id", "This integration has no webhook URL.")
    payload = {"text": notify_in.message, "targets": notify_in.targets, "program": program.handle}
    try:
        await check_url(integration.webhook_url, allow_private=allow_private)
        async with outbound_client(allow_private=allow_private, max_connections=1) as client:
            response = await client.post(
                integration.webhook_url, json=payload, timeout=NOTIFY_TIMEOUT_SECONDS
            )
    except (UnsafeUrl, BlockedAddress, httpx.HTTPError):
        return False
    return response.is_success


async def add_integration(
    *,
    session: AsyncSession,
    clock: Clock,
    program: Program,
    name: str,
    group_type: str,
    webhook_url: str | None,
    reference_url_prefix: str | None,
) -> ProgramIntegration:
    if group_type not in ("notification", "issue_tracking", "manual"):
        raise ValidationFailed(
            "The type is notification, issue_tracking or manual.", parameter="type"
        )
    if webhook_url is not None:
        try:
            parse_destination(webhook_url)
        except UnsafeUrl as exc:
            raise ValidationFailed(str(exc), parameter="webhook_url") from None
    now = clock.now()
    integration = ProgramIntegration(
        program_id=program.id,
        name=name,
        group_type=group_type,
        webhook_url=webhook_url,
        reference_url_prefix=reference_url_prefix,
        created_at=now,
        updated_at=now,
    )
    session.add(integration)
    await session.flush()
    return integration
