"""The engine keeps the connections it made (db/engine.py)."""

from __future__ import annotations

import asyncio
import gc

from sqlalchemy import text

from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.db.engine import make_engine


async def test_connections_made_for_concurrent_requests_stay_open(database_url: str) -> None:
    """An overflow connection was closed when returned: 32 concurrent requests reconnected
    about 13 times a second."""
    engine = make_engine(database_url, pool_size=12)
    try:
        release = asyncio.Event()

        async def hold() -> None:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                await release.wait()

        tasks = [asyncio.create_task(hold()) for _ in range(12)]
        while engine.pool.checkedout() < 12:  # type: ignore[attr-defined]
            await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(*tasks)
        assert engine.pool.checkedin() == 12  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_the_server_leaves_its_start_up_objects_out_of_full_collections(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"timer_interval_seconds": 0}))
    gc.unfreeze()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
