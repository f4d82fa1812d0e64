"""Declarative base with a naming convention (stable constraint names for migrations) and the
column types shared by every table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError("UTCDateTime needs a datetime")
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        aware: dt.datetime = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return aware.replace(tzinfo=None)
        return aware

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # asyncpg returns `timestamptz` as aware UTC datetimes whatever the session's time zone:
        # nothing to convert, and a list page reads over a thousand of them.
        if dialect.name == "postgresql" and dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:  # noqa: ARG002
        if value is None:
            return None
        parsed: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)


def loaded(obj: object) -> Callable[[str], Any]:
    """Reads an ORM object's column values from its instance dict, for the renderers that read
    dozens of them per object on hot paths (a report has 45): the ORM's attribute descriptor costs
    several times a dict lookup. A loaded value is the same either way. A column never set on a
    new object reads None, as through the ORM. (An expired column, which the ORM would reload,
    also reads None; renderers never see one: they run outside the session's greenlet, where the
    ORM cannot load either.)"""
    return obj.__dict__.get


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)


class TimestampsMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
