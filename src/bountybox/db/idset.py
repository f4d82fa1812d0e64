"""Membership in a list of ids as one fixed statement, whatever the list's length:
`column = ANY(:ids)` on PostgreSQL, `column IN (SELECT value FROM json_each(:ids))` on SQLite.

An expanding `IN` is a different statement for every length of the list: SQLAlchemy renders it
again on each execution and asyncpg prepares each new length again. On the hot reads (a report
document runs half a dozen of them) that cost more than the database's own work."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import BigInteger, Boolean, SQLColumnExpression, String, TypeDecorator, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine


class IdArray(TypeDecorator[list[int]]):
    """A list of ids bound as one parameter: an array on PostgreSQL, JSON text on SQLite."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(BigInteger()))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        ids = [int(v) for v in value]
        if dialect.name == "postgresql":
            return ids
        return orjson.dumps(ids).decode()


def ids_param(name: str = "ids") -> BindParameter[list[int]]:
    """The parameter `in_ids` compares with; execute with `{name: [1, 2, 3]}`."""
    return bindparam(name, type_=IdArray())


class in_ids(FunctionElement[bool]):
    """`in_ids(Report.id, ids_param())`: the column's value is one of the bound ids."""

    type = Boolean()
    inherit_cache = True
    # A condition, not a boolean value: without this, SQLite (no native boolean) would get
    # `... IN (...) = 1`, which no index serves.
    _is_implicitly_boolean = True

    def __init__(self, column: SQLColumnExpression[Any], param: BindParameter[list[int]]) -> None:
        super().__init__(column, param)


@compiles(in_ids)
def _in_ids_sqlite(element: in_ids, compiler: SQLCompiler, **kw: Any) -> str:
    column, param = element.clauses
    return (
        f"{compiler.process(column, **kw)} IN"
        f" (SELECT value FROM json_each({compiler.process(param, **kw)}))"
    )


@compiles(in_ids, "postgresql")
def _in_ids_postgresql(element: in_ids, compiler: SQLCompiler, **kw: Any) -> str:
    column, param = element.clauses
    return f"{compiler.process(column, **kw)} = ANY({compiler.process(param, **kw)})"
