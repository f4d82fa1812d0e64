"""Programs and what they define: weaknesses, scopes, custom fields, campaigns, triggers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from bountybox.db.base import Base, Id, IdMixin, TimestampsMixin, UTCDateTime


class Program(IdMixin, TimestampsMixin, Base):
    __tablename__ = "programs"

    organization_id: Mapped[int] = mapped_column(Id, ForeignKey("organizations.id"), index=True)
    handle: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    policy: Mapped[str] = mapped_column(Text, default="")
    # "public" or "private"
    state: Mapped[str] = mapped_column(String(20), default="public")
    offers_bounties: Mapped[bool] = mapped_column(Boolean, default=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    minimum_bounty_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    severity_calculation_methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Platform fee charged on top of every bounty, in basis points (2000 = 20 %, HackerOne's rate).
    bounty_fee_basis_points: Mapped[int] = mapped_column(default=0)
    # Reports can be transferred between a program and its parent, children and siblings.
    parent_program_id: Mapped[int | None] = mapped_column(Id, ForeignKey("programs.id"))


class Weakness(IdMixin, Base):
    __tablename__ = "weaknesses"

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str] = mapped_column(String(50), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


program_weaknesses = Table(
    "program_weaknesses",
    Base.metadata,
    Column("program_id", Id, ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True),
    Column("weakness_id", Id, ForeignKey("weaknesses.id", ondelete="CASCADE"), primary_key=True),
)


class StructuredScope(IdMixin, TimestampsMixin, Base):
    __tablename__ = "structured_scopes"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    asset_identifier: Mapped[str] = mapped_column(String(500))
    asset_type: Mapped[str] = mapped_column(String(50))
    eligible_for_bounty: Mapped[bool] = mapped_column(Boolean, default=True)
    eligible_for_submission: Mapped[bool] = mapped_column(Boolean, default=True)
    instruction: Mapped[str | None] = mapped_column(Text)
    confidentiality_requirement: Mapped[str | None] = mapped_column(String(20))
    integrity_requirement: Mapped[str | None] = mapped_column(String(20))
    availability_requirement: Mapped[str | None] = mapped_column(String(20))
    max_severity: Mapped[str] = mapped_column(String(20), default="critical")
    reference: Mapped[str | None] = mapped_column(String(100))
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CustomFieldAttribute(IdMixin, TimestampsMixin, Base):
    __tablename__ = "custom_field_attributes"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    label: Mapped[str] = mapped_column(String(255))
    field_type: Mapped[str] = mapped_column(String(50), default="Text")
    internal: Mapped[bool] = mapped_column(Boolean, default=True)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    error_message: Mapped[str | None] = mapped_column(String(500))
    helper_text: Mapped[str | None] = mapped_column(String(500))
    configuration: Mapped[str | None] = mapped_column(Text)
    checkbox_text: Mapped[str | None] = mapped_column(String(500))
    regex: Mapped[str | None] = mapped_column(String(500))
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Campaign(IdMixin, TimestampsMixin, Base):
    __tablename__ = "campaigns"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    campaign_type: Mapped[str] = mapped_column(String(50), default="multiplier")
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    researchers_information: Mapped[str | None] = mapped_column(Text)
    critical: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    medium: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    bounty_pool_limit: Mapped[int | None] = mapped_column(BigInteger)
    start_date: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_date: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ProgramIntegration(IdMixin, TimestampsMixin, Base):
    """An issue-tracker or notification integration reports can be escalated to."""

    __tablename__ = "program_integrations"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    # "issue_tracking", "notification" or "manual"
    group_type: Mapped[str] = mapped_column(String(30))
    # Issue URLs are this with the reference appended, e.g. https://tracker.example/browse/
    reference_url_prefix: Mapped[str | None] = mapped_column(String(500))
    # Where notifications go (a Slack-style incoming webhook): POST {"text", "targets", ...}.
    webhook_url: Mapped[str | None] = mapped_column(String(1000))


class LedgerTransaction(IdMixin, Base):
    """One movement of a program's money. Balances are sums over these rows, never stored."""

    __tablename__ = "ledger_transactions"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    bounty_id: Mapped[int | None] = mapped_column(Id, ForeignKey("bounties.id"))
    # The hacker paid, for bounty, bonus and retest rows.
    user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"), index=True)
    # "top_up", "bounty", "bonus", "fee", "retest"
    kind: Mapped[str] = mapped_column(String(20))
    # Signed: credits to the program are positive, payments out negative.
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Trigger(IdMixin, TimestampsMixin, Base):
    """A pre-submission trigger: a warning shown to a hacker before submitting."""

    __tablename__ = "triggers"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    title: Mapped[str | None] = mapped_column(String(255))


class ScopeExclusion(IdMixin, TimestampsMixin, Base):
    """A category of findings the program does not reward (e.g. "Denial of Service")."""

    __tablename__ = "scope_exclusions"

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[str | None] = mapped_column(String(300))
