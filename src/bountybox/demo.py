"""The demo installation: the `demo` seed pack (packs/data/demo.json), one organization (acme)
with a bounty program and a private VDP, six hackers, three members in two groups, and 64 reports
walked through every state by the same services the API uses. Loading is idempotent. Token values
are derived from the installation secret, so every run prints the same working tokens here (sandbox
mode derives them from a fixed key instead, the same on every machine).

The hacker side: every demo hacker has a hacker API token (`bountybox demo --hackers` prints
them), r3dfox, nullbyte and kestrel are allowed on the private acme-vdp, a few resolved reports
are disclosed (hacktivity), the programs list scope exclusions, the best-paid hacker has had a
payout, and r3dfox has a report intent in progress."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox import packs
from bountybox.config import Settings
from bountybox.core.auth import TokenKind
from bountybox.core.clock import Clock
from bountybox.db.models import ApiToken, Organization
from bountybox.packs.loader import LoadedToken, issue_token, load_pack, pack_tokens

DEMO_ORGANIZATION = "acme"


async def demo_tokens(session: AsyncSession, settings: Settings) -> list[LoadedToken]:
    """Loads the demo unless its organization exists (then only missing tokens are issued);
    returns its tokens, the admin's first."""
    pack = packs.named("demo")
    key = settings.resolved_secret_key()
    found = select(Organization.id).where(Organization.handle == DEMO_ORGANIZATION)
    if await session.scalar(found) is None:
        loaded = await load_pack(session, pack, clock=Clock(), settings=settings, token_key=key)
        return loaded.tokens
    tokens = pack_tokens(pack, key)
    for token in tokens:
        present = select(ApiToken.id).where(ApiToken.identifier == token.identifier)
        if await session.scalar(present) is None:
            await issue_token(session, Clock(), token)
    return tokens


async def load_demo(session: AsyncSession, settings: Settings) -> LoadedToken:
    """The demo, loaded when needed; returns the admin token (acme-admin)."""
    return (await demo_tokens(session, settings))[0]


async def demo_hacker_tokens(session: AsyncSession, settings: Settings) -> list[LoadedToken]:
    """Every demo hacker's API token (identifier = username)."""
    return [t for t in await demo_tokens(session, settings) if t.kind is TokenKind.HACKER]
