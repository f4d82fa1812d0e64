"""The audit log, the member invitations and the mail outbox of organizations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from bountybox.db.base import Base, Id, IdMixin, TimestampsMixin, UTCDateTime


class AuditLogItem(IdMixin, Base):
    """One write through the API: who, what, with which parameters, from where, when."""

    __tablename__ = "audit_log_items"
    __table_args__ = (
        Index("ix_audit_log_items_organization_id_id", "organization_id", "id"),
        Index("ix_audit_log_items_program_id_id", "program_id", "id"),
    )

    organization_id: Mapped[int | None] = mapped_column(Id, ForeignKey("organizations.id"))
    program_id: Mapped[int | None] = mapped_column(Id, ForeignKey("programs.id"))
    source_user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"))
    event: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(120))
    log: Mapped[str] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_agent: Mapped[str | None] = mapped_column(String(500))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class EligibilitySetting(IdMixin, TimestampsMixin, Base):
    __tablename__ = "eligibility_settings"

    organization_id: Mapped[int] = mapped_column(Id, ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    allowed_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    allowed_domains_enabled: Mapped[bool] = mapped_column(Boolean, default=False)


class OrganizationInvitation(IdMixin, TimestampsMixin, Base):
    __tablename__ = "organization_invitations"

    organization_id: Mapped[int] = mapped_column(Id, ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(255))
    invited_by_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    organization_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    group_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    notify: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Mail(IdMixin, Base):
    """Every email the platform sends, in one outbox: delivered through SMTP when configured."""

    __tablename__ = "mail_outbox"

    organization_id: Mapped[int | None] = mapped_column(Id, ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(50))
    to_address: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


group_inboxes = Table(
    "group_inboxes",
    Base.metadata,
    Column("group_id", Id, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("inbox_id", Id, ForeignKey("inboxes.id", ondelete="CASCADE"), primary_key=True),
)
