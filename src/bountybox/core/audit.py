"""The audit trail of writes. The endpoint layer opens one AuditScope per write request and appends
the audit-log item in the request's own transaction (written as it commits), so a rolled-back
write leaves no item and a committed one always has one. Code deeper down (the loaders of reports
and programs, emit()) names the program and subject it touched through note(), so no route has
to."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.auth import Actor
from bountybox.db.models import AuditLogItem
from bountybox.db.version import append_at_commit, open_writes

SECRET_KEYS = re.compile(r"secret|password|token|credential", re.IGNORECASE)
REDACTED = "[FILTERED]"
AUDIT_LOG_ITEMS: Table = AuditLogItem.__table__  # type: ignore[assignment]
VERBS = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "destroy"}
# HackerOne files program events under "teams." and organization events under "organizations.".
PREFIXES = {"programs": "teams", "reports": "teams.reports", "organizations": "organizations"}


@dataclass
class AuditScope:
    program_id: int | None = None
    subject: str | None = None


_scope: ContextVar[AuditScope | None] = ContextVar("bountybox_audit_scope", default=None)


@contextlib.contextmanager
def audit_scope() -> Iterator[AuditScope]:
    scope = AuditScope()
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def note(*, program_id: int | None = None, subject: str | None = None) -> None:
    """The first program and subject a write names are the ones it is filed under."""
    scope = _scope.get()
    if scope is None:
        return
    if scope.program_id is None and program_id is not None:
        scope.program_id = program_id
    if scope.subject is None and subject is not None:
        scope.subject = subject


def event_name(method: str, path: str) -> str:
    """`POST /v1/reports/{id}/state_changes` -> `teams.reports.state_changes.create`."""
    parts = [p for p in path.split("/") if p and p != "v1" and not p.startswith("{")]
    if not parts:
        return VERBS.get(method, method.lower())
    head = PREFIXES.get(parts[0], parts[0])
    return ".".join([head, *parts[1:], VERBS.get(method, method.lower())])


def filtered(value: Any, depth: int = 0) -> Any:
    """Request parameters as recorded: secrets replaced, deep structures cut short."""
    if depth > 6:
        return REDACTED
    if isinstance(value, dict):
        return {
            str(k): REDACTED if SECRET_KEYS.search(str(k)) else filtered(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [filtered(v, depth + 1) for v in value[:100]]
    if isinstance(value, str) and len(value) > 2000:
        return value[:2000] + "…"
    return value


def audit_item(
    scope: AuditScope,
    *,
    actor: Actor,
    event: str,
    parameters: dict[str, Any],
    source_ip: str | None,
    user_agent: str | None,
    at: dt.datetime,
) -> dict[str, Any]:
    """The row of `audit_log_items` that records one write."""
    source = f"User#{actor.user_id}"
    subject = scope.subject or (
        f"Team#{scope.program_id}" if scope.program_id else f"Organization#{actor.organization_id}"
    )
    return {
        "organization_id": actor.organization_id,
        "program_id": scope.program_id,
        "source_user_id": actor.user_id,
        "event": event,
        "source": source,
        "subject": subject,
        "log": f"{source} performed {event} on {subject}",
        "parameters": filtered(parameters),
        "user_agent": (user_agent or "")[:500] or None,
        "source_ip": source_ip,
        "country": None,
        "created_at": at,
    }


async def write_at_commit(session: AsyncSession, item: dict[str, Any]) -> None:
    """The item is written as the request's transaction commits (`append_at_commit`)."""
    append_at_commit(await open_writes(session), AUDIT_LOG_ITEMS, [item])
