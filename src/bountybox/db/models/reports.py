"""Reports and everything hanging off them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bountybox.core.markdown import render_markdown
from bountybox.db.base import Base, Id, IdMixin, TimestampsMixin, UTCDateTime


class Report(IdMixin, Base):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_program_id_created_at", "program_id", "created_at"),
        Index("ix_reports_program_id_state", "program_id", "state"),
        # Migration 0005 (from the benchmarks): the disclosure timer and the default list order.
        Index(
            "ix_reports_disclosure_due",
            "allow_singular_disclosure_at",
            postgresql_where=text(
                "allow_singular_disclosure_at IS NOT NULL AND disclosed_at IS NULL"
            ),
            sqlite_where=text("allow_singular_disclosure_at IS NOT NULL AND disclosed_at IS NULL"),
        ),
        Index(
            "ix_reports_program_id_created_at_id",
            "program_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
        # Migration 0008: filter[severity][] with the program and the state; 0010: it also
        # covers the last activity and the id, so a page of these filters sorted by the last
        # activity is found in the index alone (lists read a page's ids first).
        Index(
            "ix_reports_program_id_severity_rating_state",
            "program_id",
            "severity_rating",
            "state",
            "created_at",
            "last_activity_at",
            "id",
        ),
    )

    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"))
    reporter_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    vulnerability_information: Mapped[str] = mapped_column(Text, default="")
    # Rendered when written (below); NULL on rows older than migration 0009 (`html_of`).
    vulnerability_information_html: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(40))
    # The state before a retest started, so a rejected retest can go back to it.
    pre_retest_state: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    triaged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_reporter_activity_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_program_activity_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_program_activity_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_public_activity_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    bounty_awarded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    swag_awarded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    disclosed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reporter_agreed_on_going_public_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    issue_tracker_reference_id: Mapped[str | None] = mapped_column(String(255))
    issue_tracker_reference_url: Mapped[str | None] = mapped_column(String(1000))
    cve_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    report_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    original_report_id: Mapped[int | None] = mapped_column(Id, ForeignKey("reports.id"))
    hai_is_priority: Mapped[bool] = mapped_column(Boolean, default=False)
    hai_is_priority_reason: Mapped[str | None] = mapped_column(Text)
    hacker_published: Mapped[bool] = mapped_column(Boolean, default=False)
    comments_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    ineligible_for_bounty: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated_integration_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("program_integrations.id")
    )
    # Disclosure: the team's request ("full" or "no-content") and when it turns public by itself.
    disclosure_substate: Mapped[str | None] = mapped_column(String(20))
    team_agreed_on_going_public_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    allow_singular_disclosure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    retest_award_cents: Mapped[int | None] = mapped_column(BigInteger)
    weakness_id: Mapped[int | None] = mapped_column(Id, ForeignKey("weaknesses.id"))
    structured_scope_id: Mapped[int | None] = mapped_column(Id, ForeignKey("structured_scopes.id"))
    severity_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("severities.id", use_alter=True, name="fk_reports_severity_id_severities")
    )
    # The rating of the current severity, kept beside severity_id for the list filter.
    severity_rating: Mapped[str | None] = mapped_column(String(20))
    assignee_user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"))
    assignee_group_id: Mapped[int | None] = mapped_column(Id, ForeignKey("groups.id"))
    campaign_id: Mapped[int | None] = mapped_column(Id, ForeignKey("campaigns.id"))
    triggered_pre_submission_trigger_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("triggers.id")
    )
    timer_bounty_awarded_miss_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    timer_first_program_response_miss_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    timer_report_resolved_miss_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    timer_report_triage_miss_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def set_severity(self, severity: Severity) -> None:
        """Make `severity` the current one (it must have been flushed, so it has an id)."""
        self.severity_id = severity.id
        self.severity_rating = severity.rating


class Severity(IdMixin, Base):
    __tablename__ = "severities"

    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    rating: Mapped[str] = mapped_column(String(20))
    author_type: Mapped[str] = mapped_column(String(10), default="User")
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    score: Mapped[float | None] = mapped_column(Float)
    calculation_method: Mapped[str | None] = mapped_column(String(30))
    cvss_vector_string: Mapped[str | None] = mapped_column(String(300))
    # CVSS metric names (attack_vector, ..., subsequent_availability) to their values.
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


report_inboxes = Table(
    "report_inboxes",
    Base.metadata,
    Column("report_id", Id, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Column("inbox_id", Id, ForeignKey("inboxes.id", ondelete="CASCADE"), primary_key=True),
)


class ReportCollaborator(Base):
    __tablename__ = "report_collaborators"

    report_id: Mapped[int] = mapped_column(
        Id, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), primary_key=True)
    weight: Mapped[float] = mapped_column(Float, default=1)


class Bounty(IdMixin, Base):
    __tablename__ = "bounties"

    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    bonus_amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Address(IdMixin, Base):
    __tablename__ = "addresses"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    street: Mapped[str] = mapped_column(String(255))
    city: Mapped[str] = mapped_column(String(255))
    postal_code: Mapped[str] = mapped_column(String(50))
    state: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(100))
    tshirt_size: Mapped[str | None] = mapped_column(String(20))
    phone_number: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Swag(IdMixin, Base):
    __tablename__ = "swags"

    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    address_id: Mapped[int | None] = mapped_column(Id, ForeignKey("addresses.id"))
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Attachment(IdMixin, Base):
    __tablename__ = "attachments"

    organization_id: Mapped[int] = mapped_column(Id, ForeignKey("organizations.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(Id, ForeignKey("activities.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(500))
    uploaded_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReportSummary(IdMixin, TimestampsMixin, Base):
    __tablename__ = "report_summaries"

    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(20), default="team")


class CustomFieldValue(IdMixin, TimestampsMixin, Base):
    __tablename__ = "custom_field_values"

    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    custom_field_attribute_id: Mapped[int] = mapped_column(
        Id, ForeignKey("custom_field_attributes.id")
    )
    value: Mapped[str | None] = mapped_column(Text)


class ReportParticipant(IdMixin, TimestampsMixin, Base):
    """An external participant invited to a report by email or username."""

    __tablename__ = "report_participants"

    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"))
    invited_by_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))


class RemediationGuidance(IdMixin, Base):
    """Automated (a reference URL) or custom (a message by a team member) guidance on a report."""

    __tablename__ = "remediation_guidances"

    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(1000))
    message: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


@event.listens_for(Report.vulnerability_information, "set")
def _render_text(target: Report, value: str | None, _old: Any, _initiator: Any) -> None:
    """The report's text is rendered when it is written, as activity messages are."""
    target.vulnerability_information_html = render_markdown(value)
