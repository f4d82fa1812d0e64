"""Organization rules used by the operator CLI: API tokens and their identities."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.auth import TokenKind, hash_secret, new_secret
from bountybox.core.clock import Clock
from bountybox.core.errors import NotFound, ValidationFailed
from bountybox.db.models import (
    ApiToken,
    Group,
    Organization,
    OrganizationMember,
    User,
    group_members,
)


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
    groups = []
    for group_name in group_names:
        group = await session.scalar(
            select(Group).where(Group.organization_id == organization.id, Group.name == group_name)
        )
        if group is None:
            raise NotFound(f"No group '{group_name}' in organization '{organization.handle}'.")
        groups.append(group)
    now = clock.now()
    user = User(username=name, name=None, created_at=now, user_type="api", disabled=False)
    session.add(user)
    await session.flush()
    session.add(
        OrganizationMember(
            organization_id=organization.id,
            user_id=user.id,
            organization_admin=not groups,
            created_at=now,
            updated_at=now,
        )
    )
    if groups:
        await session.execute(
            insert(group_members), [{"group_id": g.id, "user_id": user.id} for g in groups]
        )
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
