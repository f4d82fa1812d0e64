"""create_app(settings): the Starlette application with every endpoint, its state and lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bountybox.api import all_endpoints
from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.core.http import AppState, build_routes
from bountybox.core.ratelimit import RateLimiter
from bountybox.db.engine import engine_from_settings, session_factory


def create_app(
    settings: Settings, *, engine: AsyncEngine | None = None, clock: Clock | None = None
) -> Starlette:
    engine = engine or engine_from_settings(settings)
    state = AppState(
        settings=settings,
        sessionmaker=session_factory(engine),
        limiter=RateLimiter(settings),
        clock=clock or Clock(),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = Starlette(routes=build_routes(all_endpoints()), lifespan=lifespan)
    app.state.bountybox = state
    return app
