"""bench/replay: what a write's statements alone cost, through each layer of the stack.

    python -m bench.replay --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bountybox_bench

Runs bountybox in process on a generated dataset (PostgreSQL) and sends it one comment and one
state change of `bench/run`'s scenarios, capturing the statements each runs with their
parameters (after one request to warm it up). Then it replays each request's statements, in one
transaction per request, from 32 concurrent tasks, each transaction on the next report of the
scenario (its id substituted in the parameters): through asyncpg directly, through SQLAlchemy's
connection (`exec_driver_sql`: no compilation, no ORM) and through an `AsyncSession` (as a
request uses one). It prints the process's CPU per transaction and the transactions a second:
the floor of each write's CPU on that layer, with no HTTP, no ORM objects and no rendering
(docs/benchmarks.md, eighth round). The replayed transactions write their rows as the
benchmark's writes do.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench.generate import Manifest, manifest_path
from bench.run import DEFAULT_DATABASE_URL, Scenario, basic, find_targets, say, scenarios
from bountybox.app import create_app
from bountybox.config import Settings

CONCURRENCY = 32
REPLAYED = ("create_comment", "state_change")
Statement = tuple[str, Any, bool]  # SQL, its parameters, executemany


async def capture(manifest: Manifest, scenario: Scenario) -> tuple[int, list[Statement]]:
    """The statements of one of the scenario's requests, and the id of its report: of the most
    common count among five requests (a report with rare children has a statement more), after
    one request to warm up."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            database_url=manifest.database_url,
            rate_limit_exempt_tokens=[manifest.token.split(":", 1)[0]],
            webhooks_worker=False,
        )
        app = create_app(settings)
        captured: list[tuple[int, list[Statement]]] = []

        headers = {"Authorization": basic(manifest.token), "Content-Type": "application/json"}
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=headers
            ) as client,
        ):
            for path in scenario.paths[:6]:
                statements: list[Statement] = []
                note = collector(statements)
                event.listen(Engine, "before_cursor_execute", note)
                try:
                    answer = await client.post(path, content=scenario.body)
                finally:
                    event.remove(Engine, "before_cursor_execute", note)
                answer.raise_for_status()
                captured.append((report_id(path), statements))
    counts = Counter(len(statements) for _, statements in captured[1:])
    usual = counts.most_common(1)[0][0]
    return next(c for c in captured[1:] if len(c[1]) == usual)


def collector(into: list[Statement]) -> Callable[..., None]:
    """A `before_cursor_execute` listener that appends each statement to `into`."""

    def note(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        into.append((sql, params, many))

    return note


def report_id(path: str) -> int:
    return int(path.split("/")[3])


def substituted(value: Any, old: int, new: int) -> Any:
    """The parameter for another report: its id, in text too; a new GUID for a new delivery."""
    if value == old and isinstance(value, int) and not isinstance(value, bool):
        return new
    if isinstance(value, str):
        try:
            uuid.UUID(value)
        except ValueError:
            return value.replace(str(old), str(new))
        return str(uuid.uuid4())
    if isinstance(value, list | tuple):
        return type(value)(substituted(v, old, new) for v in value)
    return value


Replayer = Callable[[list[Statement]], Awaitable[None]]


async def replay(
    transactions: int, statements: list[Statement], old: int, ids: list[int], run: Replayer
) -> tuple[float, float]:
    """CPU milliseconds per transaction, and transactions a second."""
    turn = 0

    async def worker(count: int) -> None:
        nonlocal turn
        for _ in range(count):
            turn += 1
            new = ids[turn % len(ids)]
            await run([(sql, substituted(p, old, new), many) for sql, p, many in statements])

    await asyncio.gather(*(worker(2) for _ in range(CONCURRENCY)))
    each = max(1, transactions // CONCURRENCY)
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(each) for _ in range(CONCURRENCY)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = each * CONCURRENCY
    return 1000 * cpu / done, done / wall


async def replayers(database_url: str) -> dict[str, Replayer]:
    import asyncpg

    pool = await asyncpg.create_pool(
        make_url(database_url).set(drivername="postgresql").render_as_string(False),
        min_size=CONCURRENCY,
        max_size=CONCURRENCY,
    )
    engine = create_async_engine(database_url, pool_size=CONCURRENCY)

    async def on_asyncpg(statements: list[Statement]) -> None:
        async with pool.acquire() as conn, conn.transaction():
            for sql, params, many in statements:
                if many:
                    await conn.executemany(sql, params)
                else:
                    await conn.fetch(sql, *params)

    async def on_connection(statements: list[Statement]) -> None:
        async with engine.begin() as conn:
            for sql, params, _ in statements:
                await conn.exec_driver_sql(sql, params)

    async def on_session(statements: list[Statement]) -> None:
        async with AsyncSession(engine) as session, session.begin():
            conn = await session.connection()
            for sql, params, _ in statements:
                await conn.exec_driver_sql(sql, params)

    return {
        "asyncpg directly": on_asyncpg,
        "SQLAlchemy's connection (exec_driver_sql)": on_connection,
        "SQLAlchemy's AsyncSession": on_session,
    }


async def main(database_url: str, transactions: int) -> None:
    if make_url(database_url).get_backend_name() != "postgresql":
        raise SystemExit("bench/replay: PostgreSQL only (it replays through asyncpg)")
    manifest = Manifest.load(manifest_path(database_url))
    chosen = {s.name: s for s in scenarios(manifest, await find_targets(manifest))}
    captured = {name: await capture(manifest, chosen[name]) for name in REPLAYED}
    layers = await replayers(database_url)
    say(f"| replayed through | {' | '.join(REPLAYED)} |")
    say(f"| --- |{' ---: |' * len(REPLAYED)}")
    for layer, run in layers.items():
        cells = []
        for name in REPLAYED:
            old, statements = captured[name]
            ids = [report_id(p) for p in chosen[name].paths[2:]]
            cpu_ms, rate = await replay(transactions, statements, old, ids, run)
            cells.append(f"{cpu_ms:.2f} ms ({rate:,.0f}/s, {len(statements)} statements)")
        say(f"| {layer} | {' | '.join(cells)} |")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--transactions", type=int, default=3000, help="per layer and write")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(args.database_url, args.transactions))
    else:
        uvloop.run(main(args.database_url, args.transactions))


if __name__ == "__main__":
    cli()
