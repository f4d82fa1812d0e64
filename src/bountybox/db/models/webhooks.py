"""Webhooks of a program, the outbox of their deliveries and every attempt to deliver one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bountybox.db.base import Base, Id, IdMixin, TimestampsMixin, UTCDateTime


class Webhook(IdMixin, TimestampsMixin, Base):
    __tablename__ = "webhooks"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    # Kept as given: the HMAC needs it. Never rendered.
    secret: Mapped[str | None] = mapped_column(String(255))
    # Event names; empty means every event.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(50))
    # The queue is blocked until then: its first delivery failed and waits for its retry.
    retry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The worker delivering this webhook's queue, and until when it may (crash recovery).
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(IdMixin, Base):
    """One event for one webhook: the outbox row, written in the transaction of the change.
    Deliveries of a webhook go out strictly in id order."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_webhook_id_state_id", "webhook_id", "state", "id"),
        Index("ix_webhook_deliveries_state_completed_at", "state", "completed_at"),
    )

    webhook_id: Mapped[int] = mapped_column(
        Id, ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(60))
    # X-H1-Delivery: the same on every attempt of this delivery, so receivers can deduplicate.
    guid: Mapped[str] = mapped_column(String(36), unique=True)
    # What caused it, for the log; the body is self-contained.
    activity_id: Mapped[int | None] = mapped_column(Id)
    report_id: Mapped[int | None] = mapped_column(Id)
    redelivery_of_id: Mapped[int | None] = mapped_column(Id)
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    # The exact bytes sent and signed (UTF-8 JSON).
    body: Mapped[str] = mapped_column(Text)
    # "pending", "delivered" or "failed"
    state: Mapped[str] = mapped_column(String(20))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WebhookDeliveryAttempt(IdMixin, Base):
    __tablename__ = "webhook_delivery_attempts"

    delivery_id: Mapped[int] = mapped_column(
        Id, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    url: Mapped[str] = mapped_column(String(2048))
    request_headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The first BOUNTYBOX_WEBHOOKS_RESPONSE_LIMIT_BYTES bytes, decoded leniently.
    response_body: Mapped[str | None] = mapped_column(Text)
    response_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_ms: Mapped[int] = mapped_column(Integer)
    # Why there is no usable response: timeout, refused connection, blocked address, ...
    error: Mapped[str | None] = mapped_column(String(500))
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    # The worker that made the attempt (host:pid:nonce).
    worker: Mapped[str] = mapped_column(String(100))
