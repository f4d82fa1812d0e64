"""HTTP Basic authentication with API tokens (identifier + secret value), the organization's IP
allow-list, and the permissions a token gets from the groups its identity belongs to."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.errors import Forbidden, Unauthenticated
from bountybox.db.models import (
    ApiToken,
    Group,
    Organization,
    OrganizationMember,
    Program,
    group_members,
    group_programs,
)


class ProgramPermission(StrEnum):
    REPORT_MANAGEMENT = "report_management"
    REWARD_MANAGEMENT = "reward_management"
    PROGRAM_MANAGEMENT = "program_management"
    USER_MANAGEMENT = "user_management"


ALL_PROGRAM_PERMISSIONS = frozenset(p.value for p in ProgramPermission)


class OrganizationPermission(StrEnum):
    ASSET_INVENTORY_MANAGER = "asset_inventory_manager"
    ASSET_INVENTORY_VIEWER = "asset_inventory_viewer"
    GROUP_MANAGER = "group_manager"
    PROGRAM_ADMIN = "program_admin"
    READ_ONLY_MEMBER = "read_only_member"
    REPORT_ANALYST = "report_analyst"
    REPORT_REWARD_MANAGER = "report_reward_manager"
    USER_MANAGER = "user_manager"


ALL_ORGANIZATION_PERMISSIONS = frozenset(p.value for p in OrganizationPermission)

# The newer organization-group roles grant these program permissions on the group's programs.
ROLE_PROGRAM_PERMISSIONS: dict[str, frozenset[str]] = {
    "program_admin": ALL_PROGRAM_PERMISSIONS,
    "report_analyst": frozenset({"report_management"}),
    "report_reward_manager": frozenset({"report_management", "reward_management"}),
    "read_only_member": frozenset(),
}


def program_permissions_of(permissions: list[str] | None) -> set[str]:
    granted: set[str] = set()
    for permission in permissions or []:
        if permission in ALL_PROGRAM_PERMISSIONS:
            granted.add(permission)
        granted |= ROLE_PROGRAM_PERMISSIONS.get(permission, frozenset())
    return granted


class TokenKind(StrEnum):
    ORGANIZATION = "organization"
    HACKER = "hacker"


@dataclass(frozen=True)
class Actor:
    """Who is calling, and what they may touch. Repositories scope every query with it."""

    token_id: int
    user_id: int
    kind: TokenKind
    organization_id: int | None = None
    organization_admin: bool = False
    # program id -> program permissions; a program is visible when it is a key.
    programs: dict[int, frozenset[str]] = field(default_factory=dict)
    organization_permissions: frozenset[str] = frozenset()

    @property
    def program_ids(self) -> list[int]:
        return sorted(self.programs)

    def can_see(self, program_id: int) -> bool:
        return program_id in self.programs

    def can(self, program_id: int, permission: ProgramPermission) -> bool:
        return permission.value in self.programs.get(program_id, frozenset())

    def has(self, *permissions: OrganizationPermission) -> bool:
        """Organization admins hold every organization permission."""
        return self.organization_admin or any(
            p.value in self.organization_permissions for p in permissions
        )


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def parse_basic(header: str | None) -> tuple[str, str]:
    if not header or not header[:6].lower() == "basic ":
        raise Unauthenticated("Authentication required: use HTTP Basic with your API token.")
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unauthenticated("The Authorization header is malformed.") from None
    identifier, sep, value = decoded.partition(":")
    if not sep or not identifier or not value or "\x00" in decoded:
        raise Unauthenticated("The Authorization header is malformed.")
    return identifier, value


def ip_allowed(client_ip: str | None, allowlist: list[str]) -> bool:
    if not allowlist:
        return True
    if client_ip is None:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    for cidr in allowlist:
        try:
            if address in ipaddress.ip_network(cidr, strict=False):
                return True
        except ValueError:
            continue
    return False


async def authenticate(
    session: AsyncSession, authorization: str | None, client_ip: str | None
) -> Actor:
    identifier, value = parse_basic(authorization)
    row = (
        await session.execute(
            select(ApiToken, Organization.ip_allowlist)
            .outerjoin(Organization, Organization.id == ApiToken.organization_id)
            .where(ApiToken.identifier == identifier)
        )
    ).first()
    # Compare against a dummy hash when the token is unknown, so timing does not tell.
    expected = row[0].secret_hash if row else hash_secret(identifier + ":unknown")
    valid = hmac.compare_digest(expected, hash_secret(value))
    if row is None or not valid or row[0].revoked_at is not None:
        raise Unauthenticated("The API token is invalid or has been revoked.")
    token, allowlist = row
    if token.kind == TokenKind.HACKER:
        return Actor(token_id=token.id, user_id=token.user_id, kind=TokenKind.HACKER)
    if not ip_allowed(client_ip, allowlist or []):
        raise Forbidden("The source address is not on the organization's IP allow-list.")
    return await load_organization_actor(session, token)


async def load_organization_actor(session: AsyncSession, token: ApiToken) -> Actor:
    assert token.organization_id is not None
    admin = bool(
        await session.scalar(
            select(OrganizationMember.organization_admin).where(
                OrganizationMember.organization_id == token.organization_id,
                OrganizationMember.user_id == token.user_id,
            )
        )
    )
    programs: dict[int, frozenset[str]] = {}
    organization_permissions: set[str] = set()
    if admin:
        ids = await session.scalars(
            select(Program.id).where(Program.organization_id == token.organization_id)
        )
        programs = dict.fromkeys(ids, ALL_PROGRAM_PERMISSIONS)
        organization_permissions = set(ALL_ORGANIZATION_PERMISSIONS)
    else:
        for permissions in await session.scalars(
            select(Group.permissions)
            .join(group_members, group_members.c.group_id == Group.id)
            .where(
                group_members.c.user_id == token.user_id,
                Group.organization_id == token.organization_id,
            )
        ):
            organization_permissions.update(
                p for p in permissions or [] if p in ALL_ORGANIZATION_PERMISSIONS
            )
        rows = await session.execute(
            select(group_programs.c.program_id, Group.permissions)
            .join(Group, Group.id == group_programs.c.group_id)
            .join(group_members, group_members.c.group_id == Group.id)
            .join(Program, Program.id == group_programs.c.program_id)
            .where(
                group_members.c.user_id == token.user_id,
                Group.organization_id == token.organization_id,
                Program.organization_id == token.organization_id,
            )
        )
        merged: dict[int, set[str]] = {}
        for program_id, permissions in rows:
            merged.setdefault(program_id, set()).update(program_permissions_of(permissions))
        programs = {pid: frozenset(perms) for pid, perms in merged.items()}
    return Actor(
        token_id=token.id,
        user_id=token.user_id,
        kind=TokenKind.ORGANIZATION,
        organization_id=token.organization_id,
        organization_admin=admin,
        programs=programs,
        organization_permissions=frozenset(organization_permissions),
    )
