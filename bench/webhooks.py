"""Webhook delivery throughput: events written through the outbox per second, then deliveries per
second from `bountybox worker` processes to a local receiver.

    .venv/bin/python bench/webhooks.py [--events 2000] [--webhooks 4] [--workers 1]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bountybox_bench_webhooks]

The database is created from scratch (a SQLite file in a temporary directory by default; a
PostgreSQL URL names a database that is dropped and created). The receiver runs in this process
and answers 200 at once; each worker is a real `bountybox worker` process. Prints one Markdown
table row per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from bountybox.config import Settings
from bountybox.core.auth import Actor, TokenKind
from bountybox.core.clock import Clock
from bountybox.db.engine import make_engine, session_factory
from bountybox.db.migrate import upgrade
from bountybox.db.models import Organization, Program, Report, User, Webhook
from bountybox.domains.reports import service as report_service
from bountybox.domains.reports.schemas import CommentAttributes
from bountybox.domains.webhooks.service import configure_sessions

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class Receiver:
    def __init__(self) -> None:
        self.count = 0
        self.first: float | None = None
        self.last = 0.0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                del line
                length = 0
                while (raw := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = raw.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                self.count += 1
                self.last = time.monotonic()
                self.first = self.first or self.last
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def recreate_postgres(url: str) -> None:
    base, database = url.rsplit("/", 1)
    admin = make_engine(f"{base}/postgres", pool=False)
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await conn.exec_driver_sql(f"CREATE DATABASE {database}")
    await admin.dispose()


async def main(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bountybox-bench-webhooks-"))
    url = args.database_url or f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
    if url.startswith("postgresql"):
        await recreate_postgres(url)
    settings = Settings(data_dir=data_dir, database_url=url, secret_key="bench")
    engine = make_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    configure_sessions(sessions, settings)

    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async with sessions() as session, session.begin():
        org = Organization(
            handle="bench", name="Bench", ip_allowlist=[], created_at=T0, updated_at=T0
        )
        session.add(org)
        await session.flush()
        program = Program(
            organization_id=org.id, handle="bench", name="Bench", created_at=T0, updated_at=T0
        )
        hacker = User(username="hacker", created_at=T0)
        session.add_all([program, hacker])
        await session.flush()
        report = Report(
            program_id=program.id,
            reporter_id=hacker.id,
            title="Bench",
            state="new",
            created_at=T0,
            updated_at=T0,
            cve_ids=[],
            report_tags=[],
        )
        session.add(report)
        for _ in range(args.webhooks):
            session.add(
                Webhook(
                    program_id=program.id,
                    url=f"http://127.0.0.1:{port}/hook",
                    secret="bench",
                    events=[],
                    active=True,
                    consecutive_failures=0,
                    created_at=T0,
                    updated_at=T0,
                )
            )
        await session.flush()
        report_id, user_id = report.id, hacker.id

    clock = Clock()
    actor = Actor(token_id=0, user_id=user_id, kind=TokenKind.ORGANIZATION)
    started = time.monotonic()
    for n in range(args.events):
        async with sessions() as session, session.begin():
            await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            report = await session.scalar(select(Report).where(Report.id == report_id))
            assert report is not None
            await report_service.add_comment(
                session=session,
                clock=clock,
                actor=actor,
                report=report,
                comment_in=CommentAttributes(message=f"comment {n}", internal=True),
            )
    produced = time.monotonic() - started
    total = args.events * args.webhooks

    env = {
        **os.environ,
        "BOUNTYBOX_DATABASE_URL": url,
        "BOUNTYBOX_DATA_DIR": str(data_dir),
        "BOUNTYBOX_SECRET_KEY": "bench",
        "BOUNTYBOX_WEBHOOKS_ALLOW_PRIVATE": "true",
        "BOUNTYBOX_WEBHOOKS_POLL_SECONDS": "0.05",
        "BOUNTYBOX_LOG_LEVEL": "warning",
    }
    launched = time.monotonic()
    workers = [
        subprocess.Popen([sys.executable, "-m", "bountybox", "worker"], env=env)
        for _ in range(args.workers)
    ]
    try:
        while receiver.count < total:
            await asyncio.sleep(0.05)
            if time.monotonic() - launched > 600:
                raise SystemExit(f"only {receiver.count} of {total} deliveries in 10 minutes")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        server.close()
        await engine.dispose()
    assert receiver.first is not None
    sending = receiver.last - receiver.first
    database = url.split(":")[0].split("+")[0]
    rows = [
        f"webhooks bench · {database} · {platform.machine()} · {os.cpu_count()} cores",
        "| phase | count | seconds | per second |",
        "| --- | ---: | ---: | ---: |",
        f"| events written (comment + {args.webhooks} outbox rows, one transaction each) "
        f"| {args.events:,} | {produced:.2f} | {args.events / produced:,.0f} |",
        f"| deliveries by {args.workers} worker(s), first to last "
        f"| {total:,} | {sending:.2f} | {total / sending:,.0f} |",
    ]
    sys.stdout.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--webhooks", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url")
    asyncio.run(main(parser.parse_args()))
