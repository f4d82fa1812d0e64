"""What sandbox mode keeps in the memory of the server process: the control-plane token, the
injected faults, the request inspector, named snapshots and the seeded states of packs. None of it
is shared between processes, which is why sandbox mode runs one server process."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from bountybox.config import Settings
from bountybox.core.errors import Unauthenticated
from bountybox.core.jsonapi.render import ts
from bountybox.packs.loader import LoadedPack
from bountybox.sandbox.faults import FaultTable
from bountybox.sandbox.inspector import Inspector
from bountybox.sandbox.repository import TableRows, row_counts

SEEDED_KEPT = 8


@dataclass
class Snapshot:
    name: str
    taken_at: dt.datetime
    rows: TableRows

    def json(self) -> dict[str, Any]:
        return {"name": self.name, "taken_at": ts(self.taken_at), "rows": row_counts(self.rows)}


@dataclass
class Seeded:
    """A pack's rows right after it loaded, so loading it again is a copy rather than a replay."""

    rows: TableRows
    loaded: LoadedPack


@dataclass
class Sandbox:
    token: str
    token_generated: bool
    # The pack a reset without a seed goes back to (the one the server started with).
    default_seed: str
    inspector: Inspector
    faults: FaultTable = field(default_factory=FaultTable)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    seeded: dict[str, Seeded] = field(default_factory=dict)
    # Resets, restores and snapshots run one at a time.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def remember(self, digest: str, seeded: Seeded) -> None:
        """Keeps the seeded state of the latest packs (tests that send many inline packs would
        otherwise keep every one)."""
        self.seeded[digest] = seeded
        while len(self.seeded) > SEEDED_KEPT:
            del self.seeded[next(iter(self.seeded))]

    @classmethod
    def from_settings(cls, settings: Settings) -> Sandbox:
        return cls(
            token=settings.sandbox_token or secrets.token_urlsafe(24),
            token_generated=settings.sandbox_token is None,
            default_seed=settings.sandbox_seed or "empty",
            inspector=Inspector(settings.sandbox_requests_kept),
        )

    def authorize(self, header: str | None) -> None:
        scheme, _, given = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        ):
            raise Unauthenticated(
                "The sandbox control plane needs 'Authorization: Bearer <sandbox token>'.",
                headers={"WWW-Authenticate": 'Bearer realm="bountybox-sandbox"'},
            )
