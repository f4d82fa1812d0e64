"""Webhook management (a bountybox extension: HackerOne offers this only in its web UI):
webhooks of a program, their recent deliveries, redelivery and test requests."""

from __future__ import annotations

from starlette.responses import Response

from bountybox.core.http import Context, Router
from bountybox.core.jsonapi.render import Json, document
from bountybox.core.pagination import fetch_page
from bountybox.db.models import WebhookDelivery
from bountybox.domains.webhooks import repository, service
from bountybox.domains.webhooks.deps import managed_program, managed_webhook
from bountybox.domains.webhooks.resource import render_delivery, render_webhook
from bountybox.domains.webhooks.schemas import WebhookCreate, WebhookUpdate

router = Router()

BASE = "/v1/programs/{id}/webhooks"


async def delivery_document(ctx: Context, delivery: WebhookDelivery) -> Json:
    attempts = await repository.attempts_of(ctx.session, [delivery.id])
    return document(render_delivery(delivery, attempts[delivery.id]))


@router.endpoint("GET", BASE)
async def list_webhooks(ctx: Context, id: str) -> Json:
    """The program's webhooks."""
    program = await managed_program(ctx, id)
    page = ctx.page()
    webhooks, total = await fetch_page(ctx.session, repository.webhooks_query(program), page)
    return ctx.list_document([render_webhook(w) for w in webhooks], page, total)


@router.endpoint("POST", BASE, body=WebhookCreate, status=201)
async def create_webhook(ctx: Context, id: str, body: WebhookCreate) -> Json:
    """Create a webhook (no events = every event)."""
    program = await managed_program(ctx, id)
    webhook = await service.create_webhook(
        session=ctx.session,
        clock=ctx.clock,
        settings=ctx.settings,
        program=program,
        created_by=ctx.actor,
        webhook_in=body.data.attributes,
    )
    return document(render_webhook(webhook))


@router.endpoint("GET", BASE + "/{webhook_id}")
async def get_webhook(ctx: Context, id: str, webhook_id: str) -> Json:
    """One webhook."""
    return document(render_webhook(await managed_webhook(ctx, id, webhook_id)))


async def _update(ctx: Context, id: str, webhook_id: str, body: WebhookUpdate) -> Json:
    webhook = await managed_webhook(ctx, id, webhook_id)
    await service.update_webhook(
        session=ctx.session,
        clock=ctx.clock,
        settings=ctx.settings,
        webhook=webhook,
        update_in=body.data.attributes,
    )
    return document(render_webhook(webhook))


@router.endpoint("PUT", BASE + "/{webhook_id}", body=WebhookUpdate)
async def update_webhook(ctx: Context, id: str, webhook_id: str, body: WebhookUpdate) -> Json:
    """Change a webhook; attributes left out keep their value."""
    return await _update(ctx, id, webhook_id, body)


@router.endpoint("PATCH", BASE + "/{webhook_id}", body=WebhookUpdate)
async def patch_webhook(ctx: Context, id: str, webhook_id: str, body: WebhookUpdate) -> Json:
    """Change a webhook; attributes left out keep their value."""
    return await _update(ctx, id, webhook_id, body)


@router.endpoint("DELETE", BASE + "/{webhook_id}", status=204)
async def delete_webhook(ctx: Context, id: str, webhook_id: str) -> Response:
    """Delete a webhook with its pending and recorded deliveries."""
    webhook = await managed_webhook(ctx, id, webhook_id)
    await service.delete_webhook(session=ctx.session, webhook=webhook)
    return Response(status_code=204)


@router.endpoint("GET", BASE + "/{webhook_id}/deliveries")
async def list_deliveries(ctx: Context, id: str, webhook_id: str) -> Json:
    """Recent deliveries, newest first, each with its attempts."""
    webhook = await managed_webhook(ctx, id, webhook_id)
    page = ctx.page()
    deliveries, total = await fetch_page(ctx.session, repository.deliveries_query(webhook), page)
    attempts = await repository.attempts_of(ctx.session, [d.id for d in deliveries])
    return ctx.list_document([render_delivery(d, attempts[d.id]) for d in deliveries], page, total)


@router.endpoint("GET", BASE + "/{webhook_id}/deliveries/{delivery_id}")
async def get_delivery(ctx: Context, id: str, webhook_id: str, delivery_id: str) -> Json:
    """One delivery: the request body and every attempt's headers, response and duration."""
    webhook = await managed_webhook(ctx, id, webhook_id)
    delivery = await repository.load_delivery(ctx.session, webhook, delivery_id)
    return await delivery_document(ctx, delivery)


@router.endpoint("POST", BASE + "/{webhook_id}/deliveries/{delivery_id}/redeliver", status=201)
async def redeliver(ctx: Context, id: str, webhook_id: str, delivery_id: str) -> Json:
    """Queue the delivery's body again, as a new delivery."""
    webhook = await managed_webhook(ctx, id, webhook_id)
    delivery = await repository.load_delivery(ctx.session, webhook, delivery_id)
    queued = await service.redeliver(
        session=ctx.session, clock=ctx.clock, webhook=webhook, delivery=delivery
    )
    return await delivery_document(ctx, queued)


@router.endpoint("POST", BASE + "/{webhook_id}/test", status=201)
async def test_webhook(ctx: Context, id: str, webhook_id: str) -> Json:
    """Queue a test request: an example `report_created` delivery."""
    webhook = await managed_webhook(ctx, id, webhook_id)
    queued = await service.send_test(
        session=ctx.session, clock=ctx.clock, settings=ctx.settings, webhook=webhook
    )
    return await delivery_document(ctx, queued)
