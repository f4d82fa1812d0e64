"""What a program's team manages besides reports: the bounty table, campaigns, canned responses,
CVE requests, messages to hackers, hacker invitations and triage reviews."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from bountybox.db.base import Base, Id, IdMixin, TimestampsMixin, UTCDateTime


class BountyTable(IdMixin, Base):
    __tablename__ = "bounty_tables"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    low_label: Mapped[str] = mapped_column(String(100), default="Low")
    medium_label: Mapped[str] = mapped_column(String(100), default="Medium")
    high_label: Mapped[str] = mapped_column(String(100), default="High")
    critical_label: Mapped[str] = mapped_column(String(100), default="Critical")
    use_range: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class BountyTableRow(IdMixin, Base):
    __tablename__ = "bounty_table_rows"

    bounty_table_id: Mapped[int] = mapped_column(Id, ForeignKey("bounty_tables.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    low: Mapped[int | None] = mapped_column(BigInteger)
    low_minimum: Mapped[int | None] = mapped_column(BigInteger)
    medium: Mapped[int | None] = mapped_column(BigInteger)
    medium_minimum: Mapped[int | None] = mapped_column(BigInteger)
    high: Mapped[int | None] = mapped_column(BigInteger)
    high_minimum: Mapped[int | None] = mapped_column(BigInteger)
    critical: Mapped[int | None] = mapped_column(BigInteger)
    critical_minimum: Mapped[int | None] = mapped_column(BigInteger)
    use_range: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CampaignObjective(IdMixin, Base):
    __tablename__ = "campaign_objectives"

    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    target_audience_description: Mapped[str | None] = mapped_column(Text)
    asset_types: Mapped[list[str]] = mapped_column(JSON, default=list)


class CampaignDetail(Base):
    """The parts of a campaign beyond its multipliers and dates (kept beside `campaigns`)."""

    __tablename__ = "campaign_details"

    campaign_id: Mapped[int] = mapped_column(
        Id, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_objective_id: Mapped[int] = mapped_column(Id, ForeignKey("campaign_objectives.id"))
    bounty_table_row_id: Mapped[int | None] = mapped_column(Id, ForeignKey("bounty_table_rows.id"))
    structured_scope_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    target_audience: Mapped[bool | None] = mapped_column(Boolean)
    extended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CommonResponse(IdMixin, TimestampsMixin, Base):
    __tablename__ = "common_responses"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)


class CveRequest(IdMixin, TimestampsMixin, Base):
    __tablename__ = "cve_requests"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(Id, ForeignKey("reports.id"))
    weakness_id: Mapped[int | None] = mapped_column(Id, ForeignKey("weaknesses.id"))
    request_type: Mapped[str] = mapped_column(String(20), default="new")
    state: Mapped[str] = mapped_column(String(40), default="draft")
    versions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    metrics: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    products: Mapped[list[str]] = mapped_column(JSON, default=list)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text)
    vulnerability_discovered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    latest_state_change_reason: Mapped[str | None] = mapped_column(Text)
    cve_identifier: Mapped[str | None] = mapped_column(String(40))
    auto_submit_on_publicly_disclosing_report: Mapped[bool] = mapped_column(Boolean, default=False)


class TeamMessage(IdMixin, Base):
    __tablename__ = "team_messages"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    sender_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    subject: Mapped[str | None] = mapped_column(String(500))
    message: Mapped[str] = mapped_column(Text)
    recipient_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(20), default="sent")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class HackerInvitation(IdMixin, TimestampsMixin, Base):
    __tablename__ = "hacker_invitations"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"))
    email: Mapped[str | None] = mapped_column(String(255))
    invited_by_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="open")
    viewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TriageReview(IdMixin, Base):
    __tablename__ = "triage_reviews"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"))
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


policy_attachments = Table(
    "policy_attachments",
    Base.metadata,
    Column("program_id", Id, ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True),
    Column("attachment_id", Id, ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True),
)
