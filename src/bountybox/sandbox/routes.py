"""The sandbox control plane under /_sandbox/: thin handlers over service.py."""

from __future__ import annotations

from pydantic import BaseModel, Field, NonNegativeInt, PositiveInt

from bountybox import packs
from bountybox.core.errors import NotFound
from bountybox.core.jsonapi.render import Json
from bountybox.packs.schemas import Pack
from bountybox.sandbox import service
from bountybox.sandbox.router import SandboxContext, SandboxRouter, validated
from bountybox.sandbox.schemas import (
    ClockChange,
    FaultCreate,
    HttpMethod,
    ResetRequest,
    SnapshotName,
    WebhookTrigger,
)

router = SandboxRouter()


class SnapshotPath(BaseModel):
    name: SnapshotName


class RequestsQuery(BaseModel):
    since: NonNegativeInt = 0
    limit: PositiveInt | None = Field(default=None, le=100_000)
    method: HttpMethod | None = None
    path: str | None = None


def snapshot_name(name: str) -> str:
    return validated(SnapshotPath, {"name": name}).name


@router.operation("GET", "/_sandbox")
async def get_status(ctx: SandboxContext) -> Json:
    """What the sandbox holds: seed packs, snapshots, the clock, faults and recorded requests."""
    return {
        "seeds": packs.available(),
        "default_seed": ctx.sandbox.default_seed,
        "snapshots": sorted(ctx.sandbox.snapshots),
        "clock": service.clock_json(ctx.state.clock),
        "faults": len(ctx.sandbox.faults.faults),
        "requests": len(ctx.sandbox.inspector.kept),
    }


@router.operation("POST", "/_sandbox/reset", body=ResetRequest)
async def reset(ctx: SandboxContext, body: ResetRequest) -> Json:
    """Empty the database and load a seed pack; faults, requests and the clock start over.

    Returns what the pack created: ids by name, and its tokens."""
    return await service.reset(ctx.sandbox, ctx.state, body)


@router.operation("POST", "/_sandbox/fixtures", body=Pack, status=201)
async def create_fixtures(ctx: SandboxContext, body: Pack) -> Json:
    """Add organizations, programs, hackers, tokens and reports (a pack) to the current data."""
    return await service.load_fixtures(ctx.sandbox, ctx.state, body)


@router.operation("GET", "/_sandbox/snapshots")
async def list_snapshots(ctx: SandboxContext) -> Json:
    """The snapshots taken in this server process."""
    return {"data": [s.json() for s in ctx.sandbox.snapshots.values()]}


@router.operation("PUT", "/_sandbox/snapshots/{name}")
async def take_snapshot(ctx: SandboxContext, name: str) -> Json:
    """Copy the whole database into a snapshot by that name (replacing one of the same name)."""
    return await service.take_snapshot(ctx.sandbox, ctx.state, snapshot_name(name))


@router.operation("POST", "/_sandbox/snapshots/{name}/restore")
async def restore_snapshot(ctx: SandboxContext, name: str) -> Json:
    """Make the database exactly what it was when the snapshot was taken, ids included."""
    return await service.restore_snapshot(ctx.sandbox, ctx.state, snapshot_name(name))


@router.operation("DELETE", "/_sandbox/snapshots/{name}")
async def delete_snapshot(ctx: SandboxContext, name: str) -> None:
    """Forget a snapshot."""
    service.delete_snapshot(ctx.sandbox, snapshot_name(name))


@router.operation("GET", "/_sandbox/clock")
async def get_clock(ctx: SandboxContext) -> Json:
    """The server's time and whether it is frozen."""
    return service.clock_json(ctx.state.clock)


@router.operation("POST", "/_sandbox/clock", body=ClockChange)
async def change_clock(ctx: SandboxContext, body: ClockChange) -> Json:
    """Freeze the clock at a time, advance it by a duration, or release it; moving it runs the
    timers (automatic disclosure) once."""
    return await service.change_clock(ctx.state, body)


@router.operation("GET", "/_sandbox/faults")
async def list_faults(ctx: SandboxContext) -> Json:
    """The faults still armed, with how often each fired."""
    return {"data": ctx.sandbox.faults.json()}


@router.operation("POST", "/_sandbox/faults", body=FaultCreate, status=201)
async def create_fault(ctx: SandboxContext, body: FaultCreate) -> Json:
    """Make matching API requests fail: a status, latency or a dropped connection."""
    return ctx.sandbox.faults.add(body).json()


@router.operation("DELETE", "/_sandbox/faults")
async def clear_faults(ctx: SandboxContext) -> None:
    """Disarm every fault."""
    ctx.sandbox.faults.reset()


@router.operation("DELETE", "/_sandbox/faults/{fault_id}")
async def delete_fault(ctx: SandboxContext, fault_id: str) -> None:
    """Disarm one fault."""
    if not fault_id.isdigit() or not ctx.sandbox.faults.remove(int(fault_id)):
        raise NotFound(f"No fault '{fault_id}'.")


@router.operation("GET", "/_sandbox/requests")
async def list_requests(ctx: SandboxContext) -> Json:
    """The recorded API requests, oldest first, with their responses (bodies truncated).

    Query: since (an id: only later ones), limit (the newest n), method, path (a glob)."""
    query = validated(RequestsQuery, dict(ctx.request.query_params))
    found = ctx.sandbox.inspector.select(
        since=query.since, method=query.method, path=query.path, limit=query.limit
    )
    return {"data": [exchange.json() for exchange in found]}


@router.operation("DELETE", "/_sandbox/requests")
async def clear_requests(ctx: SandboxContext) -> None:
    """Forget the recorded requests."""
    ctx.sandbox.inspector.clear()


@router.operation("POST", "/_sandbox/webhooks/trigger", body=WebhookTrigger, status=202)
async def trigger_webhook(ctx: SandboxContext, body: WebhookTrigger) -> Json:
    """Send a webhook event now to every subscribed webhook, through the delivery outbox."""
    return await service.trigger_webhook(ctx.state, body)
