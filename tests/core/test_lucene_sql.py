"""The Lucene-to-SQL compiler on a table of its own (no domain involved): each field kind, NULLs
under NOT, LIKE escaping, dates as whole days, and values a field cannot take."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    select,
)

from bountybox.core.lucene import LuceneError, parse
from bountybox.core.lucene_sql import FieldKind, SearchField, compile_query, like_pattern
from bountybox.db.base import UTCDateTime

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String),
    Column("kind", String),
    Column("cents", Integer),
    Column("at", UTCDateTime),
    Column("flag", Boolean),
    Column("tags", JSON),
)
FIELDS = {
    "name": SearchField.of(FieldKind.TEXT, items.c.name),
    "kind": SearchField.of(FieldKind.KEYWORD, items.c.kind),
    "amount": SearchField.of(FieldKind.NUMBER, items.c.cents, scale=100),
    "at": SearchField.of(FieldKind.DATE, items.c.at),
    "flag": SearchField.of(FieldKind.BOOLEAN, items.c.flag.is_(True)),
    "tags": SearchField.of(FieldKind.LIST, items.c.tags),
}
NOW = dt.datetime(2024, 3, 2, 12, tzinfo=dt.UTC)
ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "name": "Stored XSS",
        "kind": "web",
        "cents": 500_00,
        "at": dt.datetime(2024, 1, 15, 10, tzinfo=dt.UTC),
        "flag": True,
        "tags": ["CVE-2024-1"],
    },
    {
        "id": 2,
        "name": "SQL 100%_done",
        "kind": "api",
        "cents": 1500_50,
        "at": dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
        "flag": False,
        "tags": [],
    },
    {"id": 3, "name": None, "kind": None, "cents": 0, "at": None, "flag": False, "tags": ['a"b']},
]


@pytest.fixture(scope="module")
def db() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(items.insert(), ROWS)
    yield engine
    engine.dispose()


def matching(db: Engine, query: str) -> set[int]:
    condition = compile_query(parse(query), FIELDS, default=[items.c.name], now=NOW)
    with db.connect() as conn:
        return set(conn.scalars(select(items.c.id).where(condition)))


CASES: list[tuple[str, set[int]]] = [
    ("xss", {1}),
    ("XSS", {1}),
    ("name:stored", {1}),
    ('name:"100%_done"', {2}),
    ("name:100%", {2}),
    ("name:*%_d*", {2}),
    ("name:x?s", {1}),
    ("name:*", {1, 2}),
    ("-name:*", {3}),
    ("NOT xss", {2, 3}),
    ("NOT kind:web", {2, 3}),
    ("kind:WEB", {1}),
    ("kind:w*", {1}),
    ("kind:[a TO b]", {2}),
    ("amount:500", {1}),
    ("amount:1500.5", {2}),
    ("amount:>0.005", {1, 2}),
    ("amount:<=500", {1, 3}),
    ("amount:[0 TO 500}", {3}),
    ("at:2024-03-01", {2}),
    ("at:15-01-2024", {1}),
    ("at:[2024-01-01 TO 2024-02-29]", {1}),
    ("at:>=now-2d", {2}),
    ("at:>=now-1d", set()),
    ("at:<now", {1, 2}),
    ("at:<now-30d", {1}),
    ("at:2024-01-15T10:00:00Z", {1}),
    ("at:2024-01-15T11:00:00+01:00", {1}),
    ("at:*", {1, 2}),
    ("flag:true", {1}),
    ("flag:false", {2, 3}),
    ("flag:*", {1, 2, 3}),
    ("tags:cve-2024-1", {1}),
    ('tags:"a\\"b"', {3}),
    ("tags:*", {1, 3}),
    ("tags:cve*", {1}),
    ("nothing:here", set()),
    ("NOT nothing:here", {1, 2, 3}),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_each_field_kind_compares_as_documented(db: Engine, query: str, expected: set[int]) -> None:
    assert matching(db, query) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("amount:lots", "is not a number"),
        ("amount:1e400", "is not a number"),
        ("at:someday", "is not a date"),
        ("at:2024-02-30", "is not a date"),
        ("flag:maybe", "is not true or false"),
        ("name:[a TO b]", "Ranges do not apply to name"),
        ("[a TO b]", "Ranges do not apply to the default fields"),
        ("amount:5*", "Wildcards only apply to text fields"),
    ],
)
def test_values_a_field_cannot_take_are_errors(query: str, message: str) -> None:
    with pytest.raises(LuceneError, match=message):
        compile_query(parse(query), FIELDS, default=[items.c.name], now=NOW)


@pytest.mark.parametrize(
    ("glob", "like"),
    [("a*b", "a%b"), ("a?b", "a_b"), ("100%", "100\\%"), ("a_b", "a\\_b"), ("a\\*", "a*")],
)
def test_globs_become_escaped_like_patterns(glob: str, like: str) -> None:
    assert like_pattern(glob) == like
