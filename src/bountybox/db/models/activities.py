"""The one event record: every change to a report or program writes exactly one activity."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from bountybox.core.markdown import render_markdown
from bountybox.db.base import Base, Id, IdMixin, UTCDateTime


class Activity(IdMixin, Base):
    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_program_id_updated_at", "program_id", "updated_at"),
        Index("ix_activities_report_id_created_at", "report_id", "created_at"),
    )

    type: Mapped[str] = mapped_column(String(80))
    program_id: Mapped[int] = mapped_column(Id, ForeignKey("programs.id"))
    report_id: Mapped[int | None] = mapped_column(Id, ForeignKey("reports.id"))
    actor_user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"))
    # Set when the program itself acted (automated actions, bounty awards by the program).
    actor_is_program: Mapped[bool] = mapped_column(Boolean, default=False)
    message: Mapped[str | None] = mapped_column(Text)
    # `message` rendered when it is written (below); NULL on rows older than migration 0009,
    # which are rendered when read (`html_of`).
    message_html: Mapped[str | None] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # Type-specific attributes rendered as they are (original_report_id, bounty_amount, ...).
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Type-specific relationships as ids, e.g. {"assigned_user": 5, "new_severity": 9}.
    refs: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


@event.listens_for(Activity.message, "set")
def _render_message(target: Activity, value: str | None, _old: Any, _initiator: Any) -> None:
    """Whenever the ORM sets a message, its HTML is rendered into the same write, so reads send
    the stored HTML instead of rendering every message again."""
    target.message_html = render_markdown(value)
