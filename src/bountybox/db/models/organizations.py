"""People and access: organizations, users, members, groups, API tokens, inboxes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from bountybox.db.base import Base, Id, IdMixin, TimestampsMixin, UTCDateTime


class Organization(IdMixin, TimestampsMixin, Base):
    __tablename__ = "organizations"

    handle: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    # CIDRs; empty means every source address is allowed.
    ip_allowlist: Mapped[list[str]] = mapped_column(JSON, default=list)


class User(IdMixin, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255), index=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    profile_picture_url: Mapped[str | None] = mapped_column(String(500))
    bio: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(500))
    location: Mapped[str | None] = mapped_column(String(255))
    reputation: Mapped[int | None] = mapped_column(Integer)
    signal: Mapped[float | None] = mapped_column(Float)
    impact: Mapped[float | None] = mapped_column(Float)
    hackerone_triager: Mapped[bool] = mapped_column(Boolean, default=False)
    # "hacker", "member" or "api" (the identity behind an organization API token).
    user_type: Mapped[str] = mapped_column(String(20), default="hacker")


class OrganizationMember(IdMixin, TimestampsMixin, Base):
    __tablename__ = "organization_members"

    organization_id: Mapped[int] = mapped_column(Id, ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    organization_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


group_programs = Table(
    "group_programs",
    Base.metadata,
    Column("group_id", Id, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("program_id", Id, ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True),
)

group_members = Table(
    "group_members",
    Base.metadata,
    Column("group_id", Id, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Group(IdMixin, TimestampsMixin, Base):
    """An organization group: permissions over the programs it lists, for the users in it."""

    __tablename__ = "groups"

    organization_id: Mapped[int] = mapped_column(Id, ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    eligibility_setting_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("eligibility_settings.id")
    )


class ApiToken(IdMixin, Base):
    __tablename__ = "api_tokens"

    identifier: Mapped[str] = mapped_column(String(100), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    organization_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("organizations.id"), index=True
    )
    # The identity that acts: an API user for organization tokens, the hacker for hacker tokens.
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="organization")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Inbox(IdMixin, TimestampsMixin, Base):
    __tablename__ = "inboxes"

    organization_id: Mapped[int] = mapped_column(Id, ForeignKey("organizations.id"), index=True)
    program_id: Mapped[int | None] = mapped_column(Id, ForeignKey("programs.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20), default="custom")
