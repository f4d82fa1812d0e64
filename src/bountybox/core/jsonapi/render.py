"""Wire formatting shared by every resource: timestamps, money, resource objects and documents.

Relationships are embedded inline (HackerOne has no `included` array), so a resource object is
just {"id", "type", "attributes", "relationships"} built from plain dicts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

Json = dict[str, Any]


def ts(value: dt.datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds and Z: 2017-02-02T06:27:53.522Z."""
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    # orjson formats a datetime several times faster than isoformat() or strftime(), and a list
    # page formats thousands: b'"2017-02-02T06:27:53.522999Z"', or without the fraction at 0.
    raw = orjson.dumps(value, option=orjson.OPT_UTC_Z)
    if len(raw) == 22:
        return raw[1:20].decode() + ".000Z"
    return raw[1:24].decode() + "Z"


def money(cents: int | None) -> str | None:
    """Money on the wire is a string with two decimals: "500.00"."""
    if cents is None:
        return None
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def whole_money(cents: int | None) -> str:
    """Activity amounts are whole numbers with thousands separators: "500", "5,000" (cents are
    kept when there are any: "12.50")."""
    cents = cents or 0
    if cents % 100 == 0:
        return f"{cents // 100:,}"
    return f"{cents / 100:,.2f}"


def resource(
    type_: str,
    id_: int | str | None,
    attributes: Json,
    relationships: Json | None = None,
) -> Json:
    obj: Json = {}
    if id_ is not None:
        obj["id"] = str(id_)
    obj["type"] = type_
    obj["attributes"] = attributes
    if relationships is not None:
        obj["relationships"] = relationships
    return obj


def one(obj: Json | None) -> Json:
    return {"data": obj}


def many(objs: list[Json]) -> Json:
    return {"data": objs}


def document(data: Any, *, links: Json | None = None, meta: Json | None = None) -> Json:
    doc: Json = {"data": data}
    if links is not None:
        doc["links"] = links
    if meta is not None:
        doc["meta"] = meta
    return doc
