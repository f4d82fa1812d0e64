"""create_app(settings): the Starlette application with every endpoint, its state and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import configure_mappers
from starlette.applications import Starlette

from bountybox.api import all_endpoints, raw_routes
from bountybox.config import Settings
from bountybox.core.auth import TokenCache
from bountybox.core.cache import ResponseCache
from bountybox.core.clock import Clock
from bountybox.core.http import AppState, build_routes
from bountybox.core.ratelimit import RateLimiter
from bountybox.core.storage import Storage, storage_from_settings
from bountybox.db.engine import engine_from_settings, session_factory
from bountybox.db.feed import VersionFeed
from bountybox.domains.webhooks import service as webhooks


def settle_heap() -> None:
    """Leave what start-up built (modules, mappers, metadata: never garbage) out of the cycle
    collector's full passes. Each full pass walked all of it, 110-130 ms every few seconds under
    load, which was the p99 of every endpoint."""
    configure_mappers()
    gc.collect()
    gc.freeze()


def forget(state: AppState) -> None:
    """Drop what the process keeps under data versions (a restored database reuses them)."""
    state.cache.clear()
    state.tokens.clear()


def create_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
    storage: Storage | None = None,
) -> Starlette:
    engine = engine or engine_from_settings(settings)
    clock = clock or Clock()
    # Sandboxes reset their database under running clients: no data kept in memory.
    feed = None
    if engine.dialect.name == "postgresql" and settings.version_feed and not settings.sandbox:
        feed = VersionFeed(engine)
    state = AppState(
        settings=settings,
        sessionmaker=session_factory(engine),
        limiter=RateLimiter(settings),
        clock=clock,
        storage=storage or storage_from_settings(settings),
        secret=settings.resolved_secret_key(),
        # Sandboxes move their clock and reset their database under running clients: no cache.
        cache=ResponseCache(
            0 if settings.sandbox else settings.response_cache_bytes,
            settings.response_cache_seconds,
            # Entries age on the application's clock, as the signed links in them do.
            timer=lambda: clock.now().timestamp(),
        ),
        tokens=TokenCache(
            feed.known if feed is not None else lambda: None,
            max_age=settings.response_cache_seconds,
        ),
        feed=feed,
    )
    if feed is not None:
        # A restored database hands out the same versions again: what was kept under them goes.
        feed.on_restore = lambda: forget(state)
    webhooks.configure_sessions(state.sessionmaker, settings)
    sandbox = None
    if settings.sandbox:
        from bountybox.sandbox import mount

        sandbox = mount(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        from bountybox.worker.delivery import start_in_process
        from bountybox.worker.timers import timer_loop

        if sandbox is not None:
            await sandbox.start(state)
        if feed is not None:
            await feed.start()
        timers = None
        if settings.timer_interval_seconds > 0:
            timers = asyncio.create_task(timer_loop(state, settings.timer_interval_seconds))
        deliveries = start_in_process(state)
        settle_heap()
        yield
        if deliveries is not None:
            await deliveries.stop()
        if timers is not None:
            timers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timers
        if feed is not None:
            await feed.stop()
        await engine.dispose()

    extra_routes = sandbox.routes if sandbox is not None else []
    app = Starlette(
        routes=build_routes(all_endpoints(), [*raw_routes(), *extra_routes]),
        middleware=sandbox.middleware if sandbox is not None else None,
        lifespan=lifespan,
    )
    app.state.bountybox = state
    if sandbox is not None:
        app.state.sandbox = sandbox.sandbox
    return app
