"""Organization rules: API tokens and their identities, members, groups and invitations."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.auth import Actor, OrganizationPermission, TokenKind, hash_secret, new_secret
from bountybox.core.clock import Clock
from bountybox.core.errors import (
    AppError,
    Forbidden,
    InvalidParameter,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from bountybox.db.models import (
    ApiToken,
    Group,
    Organization,
    OrganizationInvitation,
    OrganizationMember,
    User,
    group_inboxes,
    group_members,
    group_programs,
)
from bountybox.domains.organizations import repository
from bountybox.domains.organizations.schemas import (
    GroupCreateData,
    GroupRelationships,
    GroupUpdateData,
    InvitationAttributes,
    MemberUpdateData,
)
from bountybox.mail import queue_mail


@dataclass(frozen=True)
class IssuedToken:
    identifier: str
    value: str

    def __str__(self) -> str:
        return f"{self.identifier}:{self.value}"


async def load_organization(session: AsyncSession, handle: str) -> Organization:
    organization = await session.scalar(select(Organization).where(Organization.handle == handle))
    if organization is None:
        raise NotFound(f"No organization with handle '{handle}'.")
    return organization


async def groups_named(
    session: AsyncSession, organization: Organization, names: list[str]
) -> list[Group]:
    groups = []
    for name in names:
        group = await session.scalar(
            select(Group).where(Group.organization_id == organization.id, Group.name == name)
        )
        if group is None:
            raise NotFound(f"No group '{name}' in organization '{organization.handle}'.")
        groups.append(group)
    return groups


async def join(
    session: AsyncSession,
    organization: Organization,
    user: User,
    *,
    admin: bool,
    groups: list[Group],
    at: dt.datetime,
) -> OrganizationMember:
    """Makes a person or an API user a member, in the given groups."""
    member = OrganizationMember(
        organization_id=organization.id,
        user_id=user.id,
        organization_admin=admin,
        created_at=at,
        updated_at=at,
    )
    session.add(member)
    if groups:
        await session.execute(
            insert(group_members), [{"group_id": g.id, "user_id": user.id} for g in groups]
        )
    await session.flush()
    return member


async def create_api_token(
    *,
    session: AsyncSession,
    clock: Clock,
    organization: Organization,
    name: str,
    group_names: list[str],
    value: str | None = None,
) -> IssuedToken:
    """An API token named `name` (its identifier) acting as a new API user. Without groups the
    token is an organization admin; with groups it has exactly their permissions."""
    if not name or len(name) > 100 or ":" in name:
        raise ValidationFailed("The token name must be 1-100 characters without ':'.")
    taken = await session.scalar(select(ApiToken.id).where(ApiToken.identifier == name))
    if taken is not None or await session.scalar(select(User.id).where(User.username == name)):
        raise ValidationFailed("Name has already been taken", parameter="name")
    groups = await groups_named(session, organization, group_names)
    now = clock.now()
    user = User(username=name, name=None, created_at=now, user_type="api", disabled=False)
    session.add(user)
    await session.flush()
    await join(session, organization, user, admin=not groups, groups=groups, at=now)
    value = value or new_secret()
    session.add(
        ApiToken(
            identifier=name,
            secret_hash=hash_secret(value),
            organization_id=organization.id,
            user_id=user.id,
            kind=TokenKind.ORGANIZATION.value,
            created_at=now,
        )
    )
    await session.flush()
    return IssuedToken(name, value)


def set_ip_allowlist(*, clock: Clock, organization: Organization, cidrs: list[str]) -> list[str]:
    """Replaces the organization's IP allow-list; an empty list lets every address in."""
    normalized = []
    for cidr in cidrs:
        try:
            normalized.append(str(ipaddress.ip_network(cidr.strip(), strict=False)))
        except ValueError:
            raise ValidationFailed(f"'{cidr}' is not an IP address or CIDR range.") from None
    organization.ip_allowlist = normalized
    organization.updated_at = clock.now()
    return normalized


async def revoke_api_token(*, session: AsyncSession, clock: Clock, identifier: str) -> None:
    token = await session.scalar(select(ApiToken).where(ApiToken.identifier == identifier))
    if token is None:
        raise NotFound(f"No API token '{identifier}'.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()


# ---- the organization API ----

INVITATION_LIFETIME = dt.timedelta(days=14)


def require_organization(
    actor: Actor, *permissions: OrganizationPermission, error: type[AppError] = Forbidden
) -> None:
    if not actor.has(*permissions):
        raise error()


async def invite_member(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    organization: Organization,
    invitation_in: InvitationAttributes,
) -> OrganizationInvitation:
    require_organization(actor, OrganizationPermission.USER_MANAGER)
    if invitation_in.organization_admin and not actor.organization_admin:
        raise Forbidden("Only organization admins can invite admins.")
    now = clock.now()
    email = invitation_in.email.lower()
    if await repository.member_with_email(session, organization, email) is not None:
        raise ValidationFailed("This person is already a member.", parameter="email")
    if await repository.pending_invitation_for(session, organization, email, now) is not None:
        raise ValidationFailed("This person already has a pending invitation.", parameter="email")
    wanted = set(invitation_in.organization_member_group_ids)
    if len(await repository.groups_by_ids(session, organization, wanted)) != len(wanted):
        raise InvalidParameter("organization_member_group_ids")
    invitation = OrganizationInvitation(
        organization_id=organization.id,
        email=email,
        invited_by_id=actor.user_id,
        organization_admin=invitation_in.organization_admin,
        group_ids=sorted(wanted),
        notify=invitation_in.notify,
        expires_at=now + INVITATION_LIFETIME,
        created_at=now,
        updated_at=now,
    )
    session.add(invitation)
    await session.flush()
    if invitation.notify:
        await queue_mail(
            session,
            clock,
            organization_id=organization.id,
            kind="organization_invitation",
            to=email,
            subject=f"You are invited to join {organization.name} on bountybox",
            body=(
                f"You have been invited to join the organization {organization.name} "
                f"({organization.handle}).\n\nThe invitation expires on "
                f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC.\n"
            ),
        )
    return invitation


async def _apply_group_relationships(
    session: AsyncSession,
    organization: Organization,
    group: Group,
    relationships: GroupRelationships,
) -> None:
    if relationships.organization_members is not None:
        ids = {r.id for r in relationships.organization_members.data}
        members = await repository.members_by_ids(session, organization, ids)
        if len(members) != len(ids):
            raise InvalidParameter("organization_members")
        await repository.replace_links(
            session, group_members, "group_id", group.id, "user_id", [m.user_id for m in members]
        )
    if relationships.programs is not None:
        ids = {r.id for r in relationships.programs.data}
        if len(await repository.programs_by_ids(session, organization, ids)) != len(ids):
            raise InvalidParameter("programs")
        await repository.replace_links(
            session, group_programs, "group_id", group.id, "program_id", sorted(ids)
        )
    if relationships.inboxes is not None:
        ids = {r.id for r in relationships.inboxes.data}
        if len(await repository.inboxes_by_ids(session, organization, ids)) != len(ids):
            raise InvalidParameter("inboxes")
        await repository.replace_links(
            session, group_inboxes, "group_id", group.id, "inbox_id", sorted(ids)
        )


async def _check_group_name(
    session: AsyncSession, organization: Organization, name: str, group_id: int | None
) -> None:
    clash = await session.scalar(
        select(Group.id).where(Group.organization_id == organization.id, Group.name == name)
    )
    if clash is not None and clash != group_id:
        raise ValidationFailed("Name has already been taken", parameter="name")


async def create_group(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    organization: Organization,
    group_in: GroupCreateData,
) -> Group:
    require_organization(actor, OrganizationPermission.GROUP_MANAGER)
    attributes = group_in.attributes
    await _check_group_name(session, organization, attributes.name, None)
    if (
        attributes.eligibility_setting_id is not None
        and await repository.find_eligibility_setting(
            session, organization, attributes.eligibility_setting_id
        )
        is None
    ):
        raise InvalidParameter("eligibility_setting_id")
    now = clock.now()
    group = Group(
        organization_id=organization.id,
        name=attributes.name,
        permissions=sorted({p.value for p in attributes.permissions}),
        eligibility_setting_id=attributes.eligibility_setting_id,
        created_at=now,
        updated_at=now,
    )
    session.add(group)
    await session.flush()
    await _apply_group_relationships(session, organization, group, group_in.relationships)
    return group


async def update_group(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    organization: Organization,
    group: Group,
    group_in: GroupUpdateData,
) -> Group:
    require_organization(actor, OrganizationPermission.GROUP_MANAGER)
    attributes = group_in.attributes
    if attributes.name is not None:
        await _check_group_name(session, organization, attributes.name, group.id)
        group.name = attributes.name
    if attributes.permissions is not None:
        group.permissions = sorted({p.value for p in attributes.permissions})
    if attributes.eligibility_setting_id is not None:
        if (
            await repository.find_eligibility_setting(
                session, organization, attributes.eligibility_setting_id
            )
            is None
        ):
            raise InvalidParameter("eligibility_setting_id")
        group.eligibility_setting_id = attributes.eligibility_setting_id
    group.updated_at = clock.now()
    await _apply_group_relationships(session, organization, group, group_in.relationships)
    await session.flush()
    return group


async def update_member(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    organization: Organization,
    member: OrganizationMember,
    member_in: MemberUpdateData,
) -> OrganizationMember:
    require_organization(actor, OrganizationPermission.USER_MANAGER, error=Unauthenticated)
    admin = member_in.attributes.organization_admin
    if admin is not None and admin != member.organization_admin:
        if not actor.organization_admin:
            raise Forbidden("Only organization admins can change the admin flag.")
        if (
            not admin
            and member.organization_admin
            and await repository.admin_count(session, organization) <= 1
        ):
            raise InvalidParameter(
                "organization_admin", "An organization keeps at least one admin."
            )
        member.organization_admin = admin
    groups = member_in.relationships.organization_member_groups
    if groups is not None:
        ids = {r.id for r in groups.data}
        if len(await repository.groups_by_ids(session, organization, ids)) != len(ids):
            raise InvalidParameter("organization_member_groups")
        await session.execute(
            delete(group_members).where(
                group_members.c.user_id == member.user_id,
                group_members.c.group_id.in_(
                    select(Group.id).where(Group.organization_id == organization.id)
                ),
            )
        )
        if ids:
            await session.execute(
                insert(group_members),
                [{"group_id": g, "user_id": member.user_id} for g in sorted(ids)],
            )
    member.updated_at = clock.now()
    await session.flush()
    return member


async def remove_member(
    *, session: AsyncSession, actor: Actor, organization: Organization, member: OrganizationMember
) -> None:
    require_organization(actor, OrganizationPermission.USER_MANAGER, error=Unauthenticated)
    if member.organization_admin and not actor.organization_admin:
        raise Forbidden("Only organization admins can remove an admin.")
    if member.user_id == actor.user_id:
        raise InvalidParameter("id", "A token cannot remove its own identity.")
    if member.organization_admin and await repository.admin_count(session, organization) <= 1:
        raise InvalidParameter("id", "An organization keeps at least one admin.")
    await session.execute(
        delete(group_members).where(
            group_members.c.user_id == member.user_id,
            group_members.c.group_id.in_(
                select(Group.id).where(Group.organization_id == organization.id)
            ),
        )
    )
    # The person's tokens of this organization stop working with the membership.
    await session.execute(
        delete(ApiToken).where(
            ApiToken.user_id == member.user_id, ApiToken.organization_id == organization.id
        )
    )
    await session.delete(member)
    await session.flush()


# ---- operator set-up (CLI) ----

HANDLE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


def check_handle(handle: str) -> str:
    if not HANDLE_PATTERN.fullmatch(handle):
        raise ValidationFailed(
            "Handles are 1-100 lowercase letters, digits, '-' or '_'.", parameter="handle"
        )
    return handle


async def create_organization(
    *, session: AsyncSession, clock: Clock, handle: str, name: str
) -> Organization:
    check_handle(handle)
    if await session.scalar(select(Organization.id).where(Organization.handle == handle)):
        raise ValidationFailed("Handle has already been taken", parameter="handle")
    now = clock.now()
    organization = Organization(
        handle=handle, name=name, ip_allowlist=[], created_at=now, updated_at=now
    )
    session.add(organization)
    await session.flush()
    return organization


async def add_member(
    *,
    session: AsyncSession,
    clock: Clock,
    organization: Organization,
    email: str,
    admin: bool,
    group_names: list[str],
) -> OrganizationMember:
    """A person joins the organization (their user is created from the email when new)."""
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationFailed("That is not an email address.", parameter="email")
    now = clock.now()
    user = await session.scalar(select(User).where(User.email == email, User.user_type != "api"))
    if user is None:
        base = re.sub(r"[^a-z0-9_-]", "-", email.split("@", 1)[0]) or "member"
        username = base
        suffix = 1
        while await session.scalar(select(User.id).where(User.username == username)):
            suffix += 1
            username = f"{base}-{suffix}"
        user = User(username=username, name=None, email=email, created_at=now, user_type="member")
        session.add(user)
        await session.flush()
    existing = await session.scalar(
        select(OrganizationMember).where(
            OrganizationMember.organization_id == organization.id,
            OrganizationMember.user_id == user.id,
        )
    )
    if existing is not None:
        raise ValidationFailed("This person is already a member.", parameter="email")
    groups = await groups_named(session, organization, group_names)
    return await join(session, organization, user, admin=admin, groups=groups, at=now)
