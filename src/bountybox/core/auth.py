"""HTTP Basic authentication with API tokens (identifier + secret value), the organization's IP
allow-list, and the permissions a token gets from the groups its identity belongs to."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, String, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

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
from bountybox.db.version import data_version


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
    # The database's data version when the token was read (`db/version.py`): what a cached
    # response is compared with.
    data_version: str = ""

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


class id_list(FunctionElement[str]):
    """The ids of a group as one comma-separated string (`string_agg` / `group_concat`)."""

    type = String()
    inherit_cache = True


@compiles(id_list)
def _id_list_sqlite(element: id_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(id_list, "postgresql")
def _id_list_postgresql(element: id_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), ',')"


def _token_statement() -> Select[Any]:
    """The token, its organization's allow-list, whether its identity is an organization admin,
    the organization's program ids (what an admin sees) and the database's data version (what
    cached responses are checked against): one round trip for every request of an admin or a
    hacker."""
    admin = (
        select(OrganizationMember.organization_admin)
        .where(
            OrganizationMember.organization_id == ApiToken.organization_id,
            OrganizationMember.user_id == ApiToken.user_id,
        )
        .correlate(ApiToken)
        .scalar_subquery()
    )
    program_ids = (
        select(id_list(Program.id))
        .where(Program.organization_id == ApiToken.organization_id)
        .correlate(ApiToken)
        .scalar_subquery()
    )
    return (
        select(
            ApiToken.id,
            ApiToken.user_id,
            ApiToken.kind,
            ApiToken.organization_id,
            ApiToken.secret_hash,
            ApiToken.revoked_at,
            Organization.ip_allowlist,
            admin,
            program_ids,
            data_version(),
        )
        .outerjoin(Organization, Organization.id == ApiToken.organization_id)
        .where(ApiToken.identifier == bindparam("identifier"))
    )


TOKEN_STATEMENT = _token_statement()
INVALID_TOKEN = "The API token is invalid or has been revoked."
OUTSIDE_ALLOWLIST = "The source address is not on the organization's IP allow-list."


@dataclass(frozen=True, slots=True)
class KnownToken:
    secret_hash: str
    allowlist: list[str]
    actor: Actor


class TokenCache:
    """The actors of the tokens that authenticated under the current data version, which
    `version` tells without a round trip (`db/feed.py`), or None when it cannot. While the
    version stays, a request skips the token's statement. Any committed write of bountybox moves
    the version and leaves every entry behind: a revoked token, a changed group or allow-list, a
    new program. Writes made by other programs (psql) move no version: an entry is kept at most
    `max_age` seconds. Only tokens that authenticated are kept, and the secret is checked against
    its hash and the address against the allow-list on every request."""

    def __init__(
        self,
        version: Callable[[], str | None],
        *,
        max_age: float = 60,
        max_entries: int = 10_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.version = version
        self.max_age = max_age
        self.max_entries = max_entries
        self.timer = timer
        self.kept_under = ""
        self.entries: dict[str, tuple[KnownToken, float]] = {}

    def actor(self, authorization: str | None, client_ip: str | None) -> Actor | None:
        """The caller's actor, or None when the database must be asked."""
        version = self.version()
        if version is None or version != self.kept_under:
            return None
        identifier, value = parse_basic(authorization)
        entry = self.entries.get(identifier)
        if entry is None:
            return None
        known, kept_at = entry
        if self.timer() - kept_at > self.max_age:
            return None
        if not hmac.compare_digest(known.secret_hash, hash_secret(value)):
            return None
        if known.actor.kind == TokenKind.ORGANIZATION and not ip_allowed(
            client_ip, known.allowlist
        ):
            raise Forbidden(OUTSIDE_ALLOWLIST)
        return known.actor

    def clear(self) -> None:
        self.entries = {}
        self.kept_under = ""

    def keep(self, identifier: str, known: KnownToken) -> None:
        version = known.actor.data_version
        if not version or version != self.version():
            return
        if version != self.kept_under or len(self.entries) >= self.max_entries:
            self.entries = {}
            self.kept_under = version
        self.entries[identifier] = (known, self.timer())


async def authenticate(
    session: AsyncSession,
    authorization: str | None,
    client_ip: str | None,
    tokens: TokenCache | None = None,
) -> Actor:
    identifier, value = parse_basic(authorization)
    row = (await session.execute(TOKEN_STATEMENT, {"identifier": identifier})).first()
    # Compare against a dummy hash when the token is unknown, so timing does not tell.
    expected = row.secret_hash if row else hash_secret(identifier + ":unknown")
    valid = hmac.compare_digest(expected, hash_secret(value))
    if row is None or not valid or row.revoked_at is not None:
        raise Unauthenticated(INVALID_TOKEN)
    version = row[-1] or ""  # no counter row: nothing is cached
    allowlist = row.ip_allowlist or []
    if row.kind == TokenKind.HACKER:
        actor = Actor(
            token_id=row.id, user_id=row.user_id, kind=TokenKind.HACKER, data_version=version
        )
    else:
        if not ip_allowed(client_ip, allowlist):
            raise Forbidden(OUTSIDE_ALLOWLIST)
        actor = await _organization_actor(session, row, version)
    if tokens is not None:
        tokens.keep(identifier, KnownToken(row.secret_hash, allowlist, actor))
    return actor


async def _organization_actor(session: AsyncSession, row: Any, version: str) -> Actor:
    token_id, user_id, _, organization_id, _, _, _, admin, program_ids, _ = row
    assert organization_id is not None
    actor = Actor(
        token_id=token_id,
        user_id=user_id,
        kind=TokenKind.ORGANIZATION,
        organization_id=organization_id,
        organization_admin=bool(admin),
        data_version=version,
    )
    if admin:
        ids = [int(i) for i in program_ids.split(",")] if program_ids else []
        return replace(
            actor,
            programs=dict.fromkeys(ids, ALL_PROGRAM_PERMISSIONS),
            organization_permissions=ALL_ORGANIZATION_PERMISSIONS,
        )
    return await _with_group_permissions(session, actor)


async def _with_group_permissions(session: AsyncSession, actor: Actor) -> Actor:
    """A member who is not an admin: the organization permissions of every group they are in,
    and the program permissions of each group on its programs, in one statement."""
    rows = await session.execute(
        select(Group.permissions, Program.id)
        .join(group_members, group_members.c.group_id == Group.id)
        .outerjoin(group_programs, group_programs.c.group_id == Group.id)
        .outerjoin(
            Program,
            and_(
                Program.id == group_programs.c.program_id,
                Program.organization_id == Group.organization_id,
            ),
        )
        .where(
            group_members.c.user_id == actor.user_id,
            Group.organization_id == actor.organization_id,
        )
    )
    organization_permissions: set[str] = set()
    merged: dict[int, set[str]] = {}
    for permissions, program_id in rows:
        organization_permissions.update(
            p for p in permissions or [] if p in ALL_ORGANIZATION_PERMISSIONS
        )
        if program_id is not None:
            merged.setdefault(program_id, set()).update(program_permissions_of(permissions))
    return replace(
        actor,
        programs={pid: frozenset(perms) for pid, perms in merged.items()},
        organization_permissions=frozenset(organization_permissions),
    )
