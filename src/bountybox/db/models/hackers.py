"""The hacker side: who may see a private program, report intents (drafts) with their files, and
the payouts that settle a hacker's earnings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bountybox.db.base import Base, Id, IdMixin, TimestampsMixin, UTCDateTime


class ProgramHacker(Base):
    """A hacker allowed on a private program (an "allowed reporter"; its id is the user id)."""

    __tablename__ = "program_hackers"

    program_id: Mapped[int] = mapped_column(
        Id, ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReportIntent(IdMixin, TimestampsMixin, Base):
    """A hacker's draft: free text that the assistant turns into a titled report to submit."""

    __tablename__ = "report_intents"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    title: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text)
    # "pending", "ready_to_submit" or "submitted"
    state: Mapped[str] = mapped_column(String(20))
    # What the assistant read out of the description: bug_class, http_method, vulnerable_url, ...
    extracted: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Assistant job name -> "completed" | "pending" | "failed" | "canceled".
    job_status: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    report_id: Mapped[int | None] = mapped_column(Id, ForeignKey("reports.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ReportIntentAttachment(IdMixin, Base):
    __tablename__ = "report_intent_attachments"

    report_intent_id: Mapped[int] = mapped_column(
        Id, ForeignKey("report_intents.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class HackerPayout(IdMixin, Base):
    """Money sent to a hacker outside the platform (PayPal, bank, ...). A hacker's balance is what
    the program ledgers paid them minus these rows; neither is ever stored as a number."""

    __tablename__ = "hacker_payouts"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    payout_provider: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))
    paid_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
