"""Sandbox operations: reset to a seed pack, load fixtures, snapshots, the clock, and webhook events
on demand. Each database change runs in one write transaction; the in-memory parts (faults,
inspector, clock) change only once it committed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox import packs
from bountybox.core.clock import Clock
from bountybox.core.errors import InvalidParameter, NotFound
from bountybox.core.http import AppState
from bountybox.core.jsonapi.render import Json, ts
from bountybox.db.models import Activity, Program, Report
from bountybox.domains.hackers.service import load_hacker
from bountybox.domains.webhooks.schemas import ACTIVITY_EVENTS, PROGRAM_EVENTS, WebhookEvent
from bountybox.domains.webhooks.service import enqueue_event
from bountybox.packs.loader import LoadedPack, load_pack
from bountybox.packs.schemas import Pack
from bountybox.sandbox.repository import consistent_read, dump_all, empty_all, replace_all
from bountybox.sandbox.schemas import LATEST, ClockChange, ResetRequest, WebhookTrigger
from bountybox.sandbox.state import Sandbox, Seeded, Snapshot
from bountybox.worker.delivery import write_transaction
from bountybox.worker.timers import run_timers_once

# Pack tokens without a value are derived from this key in sandbox mode, so they are the same on
# every machine and tests can hard-code them (docs/sandbox.md lists the demo's).
SANDBOX_TOKEN_KEY = "bountybox-sandbox"

EVENT_ACTIVITY_TYPES = {event: type_ for type_, event in ACTIVITY_EVENTS.items()}
# Events a hacker causes; the others come from the program's team.
REPORTER_EVENTS = frozenset(
    {
        WebhookEvent.REPORT_CREATED,
        WebhookEvent.REPORT_AGREED_ON_GOING_PUBLIC,
        WebhookEvent.REPORT_RETEST_USER_COMPLETED,
        WebhookEvent.REPORT_RETEST_USER_LEFT,
        WebhookEvent.REPORT_RETEST_USER_EXPIRED,
    }
)


# ---- packs ----


def seed_pack(sandbox: Sandbox, seed: str) -> Pack:
    """A shipped pack by name, or the pack file the server was started with."""
    if seed in packs.available():
        return packs.named(seed)
    if seed == sandbox.default_seed:
        return packs.read(Path(seed))
    raise InvalidParameter(
        "seed", f"No seed pack '{seed}'; the packs are {', '.join(packs.available())}."
    )


async def reset(sandbox: Sandbox, state: AppState, reset_in: ResetRequest) -> Json:
    """Empties the database and loads the pack; then faults, inspector, rate-limit counters and
    the clock start over (unless kept)."""
    name = reset_in.seed or ("inline" if reset_in.pack else sandbox.default_seed)
    pack = reset_in.pack or seed_pack(sandbox, name)
    async with sandbox.lock:
        load_clock = state.clock if reset_in.keep_clock else Clock()
        loaded = await _load_fresh(sandbox, state, pack, load_clock)
        if not reset_in.keep_clock:
            state.clock.release()
        if not reset_in.keep_faults:
            sandbox.faults.reset()
        if not reset_in.keep_requests:
            sandbox.inspector.clear()
        await state.limiter.reset()
    return {"seed": name, "loaded": loaded.json(), "clock": clock_json(state.clock)}


async def _load_fresh(sandbox: Sandbox, state: AppState, pack: Pack, clock: Clock) -> LoadedPack:
    """A dated pack is played once per process; later resets copy the rows it produced."""
    digest = hashlib.sha256(pack.model_dump_json().encode()).hexdigest()
    async with write_transaction(state.sessionmaker) as session:
        seeded = sandbox.seeded.get(digest)
        if seeded is not None:
            await replace_all(session, seeded.rows)
            return seeded.loaded
        await empty_all(session)
        loaded = await _load(session, state, pack, clock)
        if loaded.dated:
            sandbox.remember(digest, Seeded(await dump_all(session), loaded))
        return loaded


async def _load(session: AsyncSession, state: AppState, pack: Pack, clock: Clock) -> LoadedPack:
    loaded = await load_pack(
        session, pack, clock=clock, settings=state.settings, token_key=SANDBOX_TOKEN_KEY
    )
    await session.flush()
    return loaded


async def load_fixtures(sandbox: Sandbox, state: AppState, pack: Pack) -> Json:
    """Adds the pack's organizations, programs, hackers, tokens and reports to what is there."""
    async with sandbox.lock, write_transaction(state.sessionmaker) as session:
        loaded = await _load(session, state, pack, state.clock)
    return loaded.json()


# ---- snapshots ----


async def take_snapshot(sandbox: Sandbox, state: AppState, name: str) -> Json:
    async with sandbox.lock, state.sessionmaker() as session, session.begin():
        await consistent_read(session)
        snapshot = Snapshot(name, Clock().now(), await dump_all(session))
    sandbox.snapshots[name] = snapshot
    return snapshot.json()


def find_snapshot(sandbox: Sandbox, name: str) -> Snapshot:
    snapshot = sandbox.snapshots.get(name)
    if snapshot is None:
        raise NotFound(f"No snapshot '{name}'.")
    return snapshot


async def restore_snapshot(sandbox: Sandbox, state: AppState, name: str) -> Json:
    snapshot = find_snapshot(sandbox, name)
    async with sandbox.lock, write_transaction(state.sessionmaker) as session:
        await replace_all(session, snapshot.rows)
    return snapshot.json()


def delete_snapshot(sandbox: Sandbox, name: str) -> None:
    find_snapshot(sandbox, name)
    del sandbox.snapshots[name]


# ---- the clock ----


def clock_json(clock: Clock) -> Json:
    return {"now": ts(clock.now()), "frozen": clock.frozen}


async def change_clock(state: AppState, change: ClockChange) -> Json:
    """Freezes, advances or releases the clock; moving it runs the timers once (automatic
    disclosure, mail retries), so a test sees their effect as soon as this answers."""
    clock = state.clock
    if change.freeze is not None:
        clock.freeze(change.freeze)
    elif change.advance is not None:
        if clock.now() + change.advance > LATEST:
            raise InvalidParameter("advance", "The clock stays before the year 9000.")
        clock.advance(change.advance)
    else:
        clock.release()
    disclosed = await run_timers_once(state) if change.release is None else 0
    return {**clock_json(clock), "timers": {"disclosed": disclosed}}


# ---- webhooks ----


async def trigger_webhook(state: AppState, trigger: WebhookTrigger) -> Json:
    """Queues the event in the outbox, as if it had happened now; it is not recorded as an
    activity, so the report and its history stay as they are."""
    async with write_transaction(state.sessionmaker) as session:
        return await _trigger(session, state.clock, trigger)


async def _trigger(session: AsyncSession, clock: Clock, trigger: WebhookTrigger) -> Json:
    event = trigger.event
    now = clock.now()
    fields: dict[str, Any]
    if event in PROGRAM_EVENTS:
        if trigger.program is None or trigger.hacker is None:
            raise InvalidParameter("program", f"'{event}' needs a program and a hacker.")
        program = await session.scalar(select(Program).where(Program.handle == trigger.program))
        if program is None:
            raise InvalidParameter("program", f"No program '{trigger.program}'.")
        hacker = await load_hacker(session, trigger.hacker)
        fields = {
            "program_id": program.id,
            "report_id": None,
            "actor_user_id": hacker.id,
            "actor_is_program": False,
            "refs": {"program": program.id},
        }
    else:
        if trigger.report_id is None:
            raise InvalidParameter("report_id", f"'{event}' needs a report_id.")
        report = await session.get(Report, trigger.report_id)
        if report is None:
            raise InvalidParameter("report_id", f"No report {trigger.report_id}.")
        by_reporter = event in REPORTER_EVENTS
        fields = {
            "program_id": report.program_id,
            "report_id": report.id,
            "actor_user_id": report.reporter_id if by_reporter else None,
            "actor_is_program": not by_reporter,
            "refs": {},
        }
    activity = Activity(
        type=EVENT_ACTIVITY_TYPES[event],
        message=trigger.message,
        internal=False,
        extra={},
        created_at=now,
        updated_at=now,
        **fields,
    )
    webhook_ids = await enqueue_event(session, event, activity)
    return {"event": event.value, "webhooks": [str(i) for i in webhook_ids]}
