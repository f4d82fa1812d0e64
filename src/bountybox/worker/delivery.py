"""The webhook delivery worker: it sends what the outbox holds, after the commits that wrote it.

Every `bountybox serve` process runs one (unless BOUNTYBOX_WEBHOOKS_WORKER=false), and so does each
`bountybox worker` process; any number can run against one database. A worker leases whole
webhooks, not single deliveries: the lease makes one worker the only sender for that webhook, which
is what keeps its deliveries strictly in order, and it expires, so a webhook held by a worker that
died is taken over (its last, unrecorded attempt is sent again: delivery is at least once, with the
same X-H1-Delivery for receivers that deduplicate). Claims use FOR UPDATE SKIP LOCKED on
PostgreSQL and BEGIN IMMEDIATE on SQLite, whose writers are serial anyway.

A failed attempt blocks the webhook's queue until its retry time: exponential backoff with jitter
on the webhook's consecutive failures, capped. A delivery still failing past the maximum age is
given up (it stays in the log and can be redelivered) and the next one waits its turn; after
BOUNTYBOX_WEBHOOKS_DISABLE_AFTER_FAILURES failures in a row the webhook is deactivated, keeping its
queue until it is activated again. Every attempt is recorded with its request headers, the
response status, headers and (truncated) body, and its duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import os
import random
import signal
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, replace
from typing import Any, Final, TypeVar

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.core.http import AppState
from bountybox.core.outbound import outbound_client
from bountybox.domains.webhooks import repository
from bountybox.domains.webhooks.repository import Destination, QueuedDelivery
from bountybox.domains.webhooks.schemas import DeliveryState

log = logging.getLogger("bountybox.webhooks")

USER_AGENT: Final = "bountybox-webhooks/1"
BATCH: Final = 50
# Deliveries one claim may send before the webhook goes back to the pool (fairness).
PER_CLAIM: Final = 500
PRUNE_EVERY: Final = dt.timedelta(minutes=5)
T = TypeVar("T")


def sign(secret: str, body: bytes) -> str:
    """X-H1-Signature: lowercase hex HMAC-SHA256 of the exact body, keyed with the secret (the
    empty string when the webhook has none)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Outcome:
    success: bool
    status: int | None = None
    headers: dict[str, str] | None = None
    body: str | None = None
    truncated: bool = False
    error: str | None = None


class DeliveryWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        *,
        client: httpx.AsyncClient | None = None,
        owner: str | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._own_client = client is None
        self.client = client or outbound_client(
            allow_private=settings.webhooks_allow_private,
            max_connections=settings.webhooks_concurrency * 2,
        )
        self.timeout = settings.webhooks_timeout_seconds
        # Long enough for an attempt and its recording; a dead worker's webhooks wait this long.
        self.lease = dt.timedelta(seconds=2 * self.timeout + 5)
        self._stop = asyncio.Event()
        self._done = asyncio.Event()
        self._next_prune = 0.0
        self._task: asyncio.Task[None] | None = None
        self._records: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._recorder: asyncio.Task[None] | None = None
        bind = sessionmaker.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._serial_writes = asyncio.Lock() if sqlite else None

    # ---- running ----

    async def run(self) -> None:
        """Claims webhooks with due deliveries and works through their queues until stop()."""
        tasks: set[asyncio.Task[int]] = set()
        try:
            while not self._stop.is_set():
                free = self.settings.webhooks_concurrency - len(tasks)
                claimed = await self._guarded(self.claim(free), []) if free > 0 else []
                tasks |= {asyncio.create_task(self.serve(webhook_id)) for webhook_id in claimed}
                await self._guarded(self.prune_if_due(), 0)
                if tasks:
                    done, _ = await asyncio.wait(
                        tasks,
                        timeout=self.settings.webhooks_poll_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    tasks -= done
                    for task in done:
                        if task.exception() is not None:
                            log.error("delivery task failed", exc_info=task.exception())
                elif not claimed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._stop.wait(), self.settings.webhooks_poll_seconds
                        )
        finally:
            if tasks:
                # In-flight attempts finish and are recorded, so a restart does not resend them.
                _, pending = await asyncio.wait(tasks, timeout=self.timeout + 5)
                for task in pending:
                    task.cancel()
            if self._recorder is not None:
                await asyncio.wait([self._recorder], timeout=5)
            if self._own_client:
                await self.client.aclose()
            self._done.set()

    def start(self) -> None:
        """Runs the loop in the background (inside `bountybox serve`)."""
        self._task = asyncio.create_task(self.run())

    def request_stop(self) -> None:
        self._stop.set()

    async def stop(self) -> None:
        """Asks run() to finish and waits until it has."""
        self._stop.set()
        await self._done.wait()

    async def deliver_due(self) -> int:
        """Sends everything due now and returns the number of attempts (tests, benchmarks)."""
        attempts = 0
        while True:
            claimed = await self.claim(self.settings.webhooks_concurrency)
            if not claimed:
                return attempts
            attempts += sum(await asyncio.gather(*(self.serve(w) for w in claimed)))

    async def _guarded(self, work: Awaitable[T], fallback: T) -> T:
        """The loop outlives database trouble: the error is logged and the next round retries."""
        try:
            return await work
        except Exception:
            log.exception("webhook worker round failed")
            await asyncio.sleep(self.settings.webhooks_poll_seconds)
            return fallback

    # ---- claiming ----

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        if self._serial_writes is None:
            async with write_transaction(self.sessionmaker) as session:
                yield session
            return
        # SQLite has one writer; connections of this process queue here rather than in SQLite's
        # busy handler, which sleeps up to 100 ms per retry.
        async with self._serial_writes, write_transaction(self.sessionmaker) as session:
            yield session

    async def claim(self, limit: int) -> list[int]:
        now = self.clock.now()
        async with self.sessionmaker() as session:
            if not await repository.any_claimable(session, now):
                return []
        async with self._write() as session:
            return await repository.claim_webhooks(
                session, owner=self.owner, now=now, until=now + self.lease, limit=limit
            )

    async def prune_if_due(self) -> int:
        if time.monotonic() < self._next_prune:
            return 0
        self._next_prune = time.monotonic() + PRUNE_EVERY.total_seconds()
        before = self.clock.now() - dt.timedelta(days=self.settings.webhooks_retention_days)
        async with self._write() as session:
            return await repository.prune(session, before, limit=5000)

    # ---- one webhook's queue ----

    async def serve(self, webhook_id: int) -> int:
        """Sends the webhook's pending deliveries in order until one fails, the queue is empty,
        or the webhook changes hands; returns the number of attempts. Changes to the webhook
        (URL, secret, deactivation) take effect from the next batch."""
        attempts = 0
        renew_at = self.clock.now() + self.lease / 3
        try:
            while attempts < PER_CLAIM and not self._stop.is_set():
                async with self.sessionmaker() as session:
                    destination = await repository.destination(session, webhook_id, self.owner)
                    batch = await repository.next_deliveries(session, webhook_id, BATCH)
                for delivery in batch:
                    if not usable(destination) or self._stop.is_set():
                        return attempts
                    assert destination is not None
                    lease_until = None
                    if self.clock.now() >= renew_at:
                        lease_until = self.clock.now() + self.lease
                        renew_at = self.clock.now() + self.lease / 3
                    delivered = await self.attempt(destination, delivery, lease_until)
                    attempts += 1
                    if not delivered:
                        return attempts
                    destination = replace(destination, consecutive_failures=0)
                if len(batch) < BATCH:
                    return attempts
            return attempts
        finally:
            async with self._write() as session:
                await repository.release(session, webhook_id, self.owner, self.clock.now())

    async def attempt(
        self,
        destination: Destination,
        delivery: QueuedDelivery,
        lease_until: dt.datetime | None = None,
    ) -> bool:
        """One POST and its record (renewing the lease when `lease_until` is given); True when
        it succeeded and the queue may go on."""
        body = delivery.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            # The recorded body must be the bytes that were signed, so no compression.
            "Accept-Encoding": "identity",
            "X-H1-Event": delivery.event,
            "X-H1-Delivery": delivery.guid,
            "X-H1-Signature": sign(destination.secret, body),
        }
        attempted_at = self.clock.now()
        started = time.monotonic()
        request = self.client.build_request("POST", destination.url, content=body, headers=headers)
        outcome = await self.post(request)
        duration_ms = int((time.monotonic() - started) * 1000)
        state, retry_at = self.decide(outcome, destination, delivery, attempted_at)
        record = {
            "attempted_at": attempted_at,
            "url": destination.url,
            "request_headers": dict(request.headers),
            "response_status": outcome.status,
            "response_headers": outcome.headers,
            "response_body": outcome.body,
            "response_truncated": outcome.truncated,
            "duration_ms": duration_ms,
            "error": outcome.error[:500] if outcome.error else None,
            "success": outcome.success,
            "worker": self.owner,
        }
        recorded = await self.record(
            owner=self.owner,
            webhook_id=destination.webhook_id,
            delivery=delivery,
            attempt=record,
            state=state,
            retry_at=retry_at,
            lease_until=lease_until,
            reset_failures=destination.consecutive_failures > 0,
            disable_after=self.settings.webhooks_disable_after_failures,
        )
        if not outcome.success:
            log.info(
                "webhook %s delivery %s failed (%s)%s",
                destination.webhook_id,
                delivery.id,
                outcome.error or outcome.status,
                "; given up" if state is DeliveryState.FAILED else "",
            )
        return recorded and outcome.success

    async def record(self, **attempt: Any) -> bool:
        """Records an attempt; waits until it is committed. Attempts of the webhooks being served
        at the same time share transactions (group commit), since each commit costs more than
        the statements in it; every webhook still waits for its own record before sending on."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._records.append((attempt, future))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._write_records())
        return await future

    async def _write_records(self) -> None:
        while self._records:
            batch, self._records = self._records, []
            try:
                async with self._write() as session:
                    results = [
                        await repository.record_attempt(session, **attempt) for attempt, _ in batch
                    ]
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def post(self, request: httpx.Request) -> Outcome:
        limit = self.settings.webhooks_response_limit_bytes
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.send(request, stream=True)
                try:
                    chunks: list[bytes] = []
                    size = 0
                    truncated = False
                    async for chunk in response.aiter_raw():
                        chunks.append(chunk)
                        size += len(chunk)
                        if size > limit:
                            truncated = True
                            break
                finally:
                    await response.aclose()
        except TimeoutError:
            return Outcome(False, error=f"timed out after {self.timeout:g} s")
        except Exception as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        return Outcome(
            success=200 <= response.status_code < 300,
            status=response.status_code,
            headers=dict(response.headers),
            body=b"".join(chunks)[:limit].decode("utf-8", "replace"),
            truncated=truncated,
        )

    def decide(
        self,
        outcome: Outcome,
        destination: Destination,
        delivery: QueuedDelivery,
        now: dt.datetime,
    ) -> tuple[DeliveryState, dt.datetime | None]:
        """The delivery's new state and, after a failure, when the webhook's queue may go on."""
        if outcome.success:
            return DeliveryState.DELIVERED, None
        retry_at = now + self.backoff(destination.consecutive_failures + 1)
        age = (now - delivery.created_at).total_seconds()
        if age >= self.settings.webhooks_max_age_seconds:
            return DeliveryState.FAILED, retry_at
        return DeliveryState.PENDING, retry_at

    def backoff(self, failures: int) -> dt.timedelta:
        """Exponential in the webhook's consecutive failures, capped, with jitter so receivers
        coming back are not hit by every worker at once."""
        base = self.settings.webhooks_backoff_seconds
        delay = min(self.settings.webhooks_backoff_max_seconds, base * 2 ** min(failures - 1, 40))
        return dt.timedelta(seconds=delay * (0.5 + random.random() / 2))


def start_in_process(state: AppState) -> DeliveryWorker | None:
    """The worker of a `bountybox serve` process, unless BOUNTYBOX_WEBHOOKS_WORKER=false."""
    if not state.settings.webhooks_worker:
        return None
    worker = DeliveryWorker(state.sessionmaker, state.settings, state.clock)
    worker.start()
    return worker


def usable(destination: Destination | None) -> bool:
    return destination is not None and destination.active and destination.leased


@contextlib.asynccontextmanager
async def write_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """On SQLite the write lock is taken up front, so writers queue instead of failing."""
    async with sessionmaker() as session, session.begin():
        await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield session


def run_worker_process(settings: Settings) -> None:
    """`bountybox worker`: delivers until SIGTERM or SIGINT, then finishes its in-flight
    attempts."""
    from bountybox.db.engine import engine_from_settings, session_factory
    from bountybox.db.migrate import upgrade

    async def main() -> None:
        engine = engine_from_settings(settings)
        try:
            await upgrade(engine)
            worker = DeliveryWorker(session_factory(engine), settings, Clock())
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, worker.request_stop)
            await worker.run()
        finally:
            await engine.dispose()

    asyncio.run(main())
