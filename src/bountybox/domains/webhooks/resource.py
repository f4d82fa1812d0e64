"""How webhooks, deliveries and attempts render in the management API (a bountybox extension).
The secret is never rendered; `has_secret` says whether there is one."""

from __future__ import annotations

from bountybox.core.jsonapi.render import Json, resource, ts
from bountybox.db.models import Webhook, WebhookDelivery, WebhookDeliveryAttempt


def render_webhook(webhook: Webhook) -> Json:
    return resource(
        "webhook",
        webhook.id,
        {
            "url": webhook.url,
            "events": list(webhook.events or []),
            "active": webhook.active,
            "has_secret": bool(webhook.secret),
            "consecutive_failures": webhook.consecutive_failures,
            "disabled_at": ts(webhook.disabled_at),
            "disabled_reason": webhook.disabled_reason,
            "created_at": ts(webhook.created_at),
            "updated_at": ts(webhook.updated_at),
        },
        {"program": {"data": {"id": str(webhook.program_id), "type": "program"}}},
    )


def render_attempt(attempt: WebhookDeliveryAttempt) -> Json:
    return resource(
        "webhook-delivery-attempt",
        attempt.id,
        {
            "attempted_at": ts(attempt.attempted_at),
            "url": attempt.url,
            "success": attempt.success,
            "worker": attempt.worker,
            "duration_ms": attempt.duration_ms,
            "error": attempt.error,
            "request_headers": attempt.request_headers,
            "response_status": attempt.response_status,
            "response_headers": attempt.response_headers,
            "response_body": attempt.response_body,
            "response_truncated": attempt.response_truncated,
        },
    )


def render_delivery(delivery: WebhookDelivery, attempts: list[WebhookDeliveryAttempt]) -> Json:
    """The request body is the same bytes on every attempt, so it is rendered once here."""
    return resource(
        "webhook-delivery",
        delivery.id,
        {
            "event": delivery.event,
            "guid": delivery.guid,
            "state": delivery.state,
            "test": delivery.test,
            "attempt_count": delivery.attempt_count,
            "last_status": delivery.last_status,
            "activity_id": str(delivery.activity_id) if delivery.activity_id else None,
            "report_id": str(delivery.report_id) if delivery.report_id else None,
            "redelivery_of_id": str(delivery.redelivery_of_id)
            if delivery.redelivery_of_id
            else None,
            "request_body": delivery.body,
            "created_at": ts(delivery.created_at),
            "next_attempt_at": ts(delivery.next_attempt_at),
            "completed_at": ts(delivery.completed_at),
        },
        {
            "webhook": {"data": {"id": str(delivery.webhook_id), "type": "webhook"}},
            "attempts": {"data": [render_attempt(a) for a in attempts]},
        },
    )
