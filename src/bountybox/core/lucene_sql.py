"""Compiles a parsed Lucene query (`core/lucene.py`) into one SQLAlchemy condition, given a table
of searchable fields. Each field is a SQL expression of a kind that decides how values compare:

    text      case-insensitive substring (a phrase is one substring); several expressions: any
    keyword   case-insensitive equality; wildcards and ranges compare the lowered value
    number    decimal equality and ranges; `scale` maps wire units onto stored ones (cents)
    date      ISO dates, ISO date-times or dd-mm-yyyy, and `now`, `now-7d`; a bare date is its
              whole UTC day, so `[2024-01-01 TO 2024-01-31]` covers all of January
    boolean   `true` / `false`
    list      a JSON array of strings holding the value

A field the table does not know matches nothing (HackerOne answers unknown fields with an empty
result); a value its field cannot take raises LuceneError, for a 400 naming the query."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    true,
)
from sqlalchemy.orm import QueryableAttribute

from bountybox.core.lucene import (
    And,
    Exists,
    LuceneError,
    MatchAll,
    Node,
    Not,
    Or,
    Range,
    Term,
    Wildcard,
)

# A column, or any SQL expression of the searched row (a correlated subquery, a CASE, ...).
Expression = ColumnElement[Any] | QueryableAttribute[Any]


class FieldKind(StrEnum):
    TEXT = "text"
    KEYWORD = "keyword"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    LIST = "list"


@dataclass(frozen=True)
class SearchField:
    kind: FieldKind
    expressions: tuple[Expression, ...]
    scale: int = 1

    @classmethod
    def of(cls, kind: FieldKind, *expressions: Expression, scale: int = 1) -> SearchField:
        return cls(kind, expressions, scale)


_RELATIVE = re.compile(r"^now(?:([+-])(\d{1,6})([dhwm]))?$")
_UNITS = {"d": "days", "h": "hours", "w": "weeks", "m": "minutes"}
_DAY_FIRST = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")


def compile_query(
    node: Node,
    fields: Mapping[str, SearchField],
    *,
    default: Sequence[Expression],
    now: dt.datetime,
) -> ColumnElement[bool]:
    """One WHERE condition for the tree; `default` are the text columns bare terms search."""
    return _Compiler(fields, tuple(default), now).node(node)


@dataclass
class _Compiler:
    fields: Mapping[str, SearchField]
    default: tuple[Expression, ...]
    now: dt.datetime

    def node(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, MatchAll):
            return true()
        if isinstance(node, And):
            return and_(*(self.node(child) for child in node.children))
        if isinstance(node, Or):
            return or_(*(self.node(child) for child in node.children))
        if isinstance(node, Not):
            # A row without the field does not match the clause, so NOT matches it (SQL's NULL
            # would otherwise drop it from both sides).
            return not_(func.coalesce(self.node(node.child), false()))
        field = self.field(node.field)
        if field is None:
            return false()
        if isinstance(node, Exists):
            return self.exists(field)
        if isinstance(node, Term):
            return self.term(field, node)
        if isinstance(node, Wildcard):
            return self.wildcard(field, node)
        return self.range(field, node)

    def field(self, name: str | None) -> SearchField | None:
        if name is None:
            return SearchField(FieldKind.TEXT, self.default)
        return self.fields.get(name)

    # -- per node kind --

    def exists(self, field: SearchField) -> ColumnElement[bool]:
        if field.kind is FieldKind.BOOLEAN:
            return true()
        if field.kind is FieldKind.LIST:
            return any_of(
                and_(e.is_not(None), cast(e, String).not_in(["[]", "null"]))
                for e in field.expressions
            )
        return any_of(e.is_not(None) for e in field.expressions)

    def term(self, field: SearchField, node: Term) -> ColumnElement[bool]:
        kind = field.kind
        if kind is FieldKind.TEXT:
            needle = node.text.lower()
            return any_of(
                func.lower(e).contains(needle, autoescape=True) for e in field.expressions
            )
        if kind is FieldKind.KEYWORD:
            return any_of(func.lower(e) == node.text.lower() for e in field.expressions)
        if kind is FieldKind.LIST:
            quoted = '"' + node.text.lower().replace("\\", "\\\\").replace('"', '\\"') + '"'
            return any_of(
                func.lower(cast(e, String)).contains(quoted, autoescape=True)
                for e in field.expressions
            )
        if kind is FieldKind.BOOLEAN:
            wanted = self.boolean(node.text)
            return any_of(e if wanted else not_(e) for e in field.expressions)
        if kind is FieldKind.NUMBER:
            number = self.number(node.text, field.scale)
            return any_of(e == number for e in field.expressions)
        start, end = self.day_or_instant(node.text)
        if end is None:
            return any_of(e == start for e in field.expressions)
        return any_of(and_(e >= start, e < end) for e in field.expressions)

    def wildcard(self, field: SearchField, node: Wildcard) -> ColumnElement[bool]:
        pattern = like_pattern(node.pattern.lower())
        if field.kind is FieldKind.TEXT:
            pattern = f"%{pattern}%"
        elif field.kind is FieldKind.LIST:
            pattern = f'%"{pattern}"%'
        elif field.kind is not FieldKind.KEYWORD:
            raise LuceneError(f"Wildcards only apply to text fields, not to '{node.field}'.")
        return any_of(
            func.lower(cast(e, String) if field.kind is FieldKind.LIST else e).like(
                pattern, escape="\\"
            )
            for e in field.expressions
        )

    def range(self, field: SearchField, node: Range) -> ColumnElement[bool]:
        kind = field.kind
        low: Any
        high: Any
        if kind is FieldKind.NUMBER:
            low = None if node.low is None else self.number(node.low, field.scale)
            high = None if node.high is None else self.number(node.high, field.scale)
            return self.between(field, low, high, node.include_low, node.include_high)
        if kind is FieldKind.DATE:
            low = high = None
            include_low, include_high = node.include_low, node.include_high
            if node.low is not None:
                start, end = self.day_or_instant(node.low)
                # A whole day: from its start when inclusive, from the next day when exclusive.
                low = start if end is None or include_low else end
                include_low = include_low or end is not None
            if node.high is not None:
                start, end = self.day_or_instant(node.high)
                high = start if end is None or not include_high else end
                include_high = include_high and end is None
            return self.between(field, low, high, include_low, include_high)
        if kind is FieldKind.KEYWORD:
            low = None if node.low is None else node.low.lower()
            high = None if node.high is None else node.high.lower()
            lowered = SearchField(kind, tuple(func.lower(e) for e in field.expressions))
            return self.between(lowered, low, high, node.include_low, node.include_high)
        name = node.field or "the default fields"
        raise LuceneError(f"Ranges do not apply to {name}.")

    def between(
        self, field: SearchField, low: Any, high: Any, include_low: bool, include_high: bool
    ) -> ColumnElement[bool]:
        def bounded(e: Expression) -> ColumnElement[bool]:
            conditions = [e.is_not(None)]
            if low is not None:
                conditions.append(e >= low if include_low else e > low)
            if high is not None:
                conditions.append(e <= high if include_high else e < high)
            return and_(*conditions)

        return any_of(bounded(e) for e in field.expressions)

    # -- values --

    def boolean(self, text: str) -> bool:
        lowered = text.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise LuceneError(f"'{text}' is not true or false.")

    def number(self, text: str, scale: int) -> ColumnElement[Any]:
        """The value in stored units, bound as an integer when it is one (a BIGINT column on
        PostgreSQL takes no decimals) and as a float otherwise."""
        try:
            value = Decimal(text) * scale
        except InvalidOperation:
            raise LuceneError(f"'{text}' is not a number.") from None
        if not value.is_finite() or abs(value) > Decimal(10) ** 15:
            raise LuceneError(f"'{text}' is not a number.")
        if value == value.to_integral_value():
            return literal(int(value), BigInteger())
        return literal(float(value), Float())

    def day_or_instant(self, text: str) -> tuple[dt.datetime, dt.datetime | None]:
        """(instant, None) for a date-time; (start, next day) for a date."""
        value = text.strip()
        relative = _RELATIVE.match(value.lower())
        if relative:
            sign, amount, unit = relative.groups()
            delta = dt.timedelta(**{_UNITS[unit]: int(amount)}) if unit else dt.timedelta()
            return (self.now - delta if sign == "-" else self.now + delta), None
        day_first = _DAY_FIRST.match(value)
        try:
            if day_first:
                day, month, year = (int(g) for g in day_first.groups())
                return _whole_day(dt.date(year, month, day))
            if len(value) <= 10:
                return _whole_day(dt.date.fromisoformat(value))
            if value.endswith(("Z", "z")):
                value = value[:-1] + "+00:00"
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise LuceneError(f"'{text}' is not a date.") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC), None


def _whole_day(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def any_of(conditions: Any) -> ColumnElement[bool]:
    items = list(conditions)
    if not items:
        return false()
    return items[0] if len(items) == 1 else or_(*items)


def like_pattern(glob: str) -> str:
    """A `*`/`?` glob (with backslash escapes) as a LIKE pattern escaped with backslashes."""
    out: list[str] = []
    chars = iter(glob)
    for char in chars:
        if char == "\\":
            literal = next(chars, "\\")
            out.append("\\" + literal if literal in "%_\\" else literal)
        elif char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        elif char in "%_":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)
