"""Sandbox mode (docs/sandbox.md): a control plane under /_sandbox/ to reset, seed, snapshot and
script the server, a clock tests can move, injected faults and a request inspector. create_app
mounts it only when BOUNTYBOX_SANDBOX is on; otherwise none of it exists and /_sandbox/ paths
answer like any unknown path."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.routing import Route

from bountybox.config import Settings
from bountybox.core.http import AppState
from bountybox.sandbox.middleware import SandboxMiddleware
from bountybox.sandbox.routes import router
from bountybox.sandbox.schemas import ResetRequest
from bountybox.sandbox.service import reset
from bountybox.sandbox.state import Sandbox

log = logging.getLogger("bountybox.sandbox")


@dataclass
class SandboxMount:
    sandbox: Sandbox
    routes: list[Route]
    middleware: list[Middleware]

    async def start(self, state: AppState) -> None:
        """At server start: show a generated token, and load the seed pack when one is set."""
        if self.sandbox.token_generated:
            log.warning("sandbox control plane token: %s", self.sandbox.token)
        if state.settings.sandbox_seed:
            await reset(self.sandbox, state, ResetRequest())
            log.info("sandbox loaded the seed pack %s", state.settings.sandbox_seed)


def mount(settings: Settings) -> SandboxMount:
    sandbox = Sandbox.from_settings(settings)
    return SandboxMount(
        sandbox=sandbox,
        routes=router.routes(),
        middleware=[Middleware(SandboxMiddleware, sandbox=sandbox)],
    )
