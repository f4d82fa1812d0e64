"""Query-string handling shared by every list endpoint: Rack-style nested parameters
(`filter[program][]=a`, `filter[program][0]=a`, `filter[custom_fields][][id__eq]=1`), typed scalar
parsing (dates, booleans, integers) and page-number pagination with HackerOne's limits."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from bountybox.core.errors import InvalidParameter

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25
MAX_OFFSET = 10_000
MAX_INT = 2**63 - 1
# Rack's own limit; deeper keys are refused rather than recursed into.
MAX_DEPTH = 32

Params = dict[str, Any]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_query(query_string: str) -> tuple[Params, list[tuple[str, str]]]:
    """Returns the nested parameters and the flat (key, value) pairs in their original order."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    params: Params = {}
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise InvalidParameter(key.replace("\x00", ""), "NUL characters are not allowed.")
        match = _KEY.match(key)
        if not match:
            params[key] = value
            continue
        name, rest = match.group(1), match.group(2)
        parts = _PART.findall(rest)
        if len(parts) > MAX_DEPTH:
            raise InvalidParameter(name, "The parameter is nested too deeply.")
        _assign(params, [name, *parts], value)
    return {key: _listify(value) for key, value in params.items()}, pairs


def _assign(target: Any, path: list[str], value: str) -> None:
    head, tail = path[0], path[1:]
    if not tail:
        target[head] = value
        return
    if tail[0] == "":
        items = target.get(head)
        if not isinstance(items, list):
            items = []
            target[head] = items
        if len(tail) == 1:
            items.append(value)
            return
        # `a[][b]=1&a[][c]=2`: Rack starts a new element when the key repeats.
        sub = tail[1]
        if not items or not isinstance(items[-1], dict) or sub in items[-1]:
            items.append({})
        _assign(items[-1], tail[1:], value)
        return
    child = target.get(head)
    if not isinstance(child, dict):
        child = {}
        target[head] = child
    _assign(child, tail, value)


def _listify(value: Any) -> Any:
    """`filter[x][0]=a&filter[x][1]=b` is a list on the wire (Faraday sends it that way)."""
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k.isascii() and k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    if isinstance(value, list):
        return [_listify(v) for v in value]
    return value


def as_list(value: Any, parameter: str) -> list[str]:
    if isinstance(value, str):
        return [value] if value != "" else []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v for v in value if v != ""]
    raise InvalidParameter(parameter)


def as_str(value: Any, parameter: str) -> str:
    if isinstance(value, str):
        return value
    raise InvalidParameter(parameter)


def parse_int(value: Any, parameter: str, *, minimum: int | None = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?\d{1,19}", value.strip()):
        number = int(value.strip())
    else:
        raise InvalidParameter(parameter)
    if abs(number) > MAX_INT or (minimum is not None and number < minimum):
        raise InvalidParameter(parameter)
    return number


def parse_bool(value: Any, parameter: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0"):
        return False
    raise InvalidParameter(parameter)


_SPACE_FOR_PLUS = re.compile(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


def parse_datetime(value: Any, parameter: str) -> dt.datetime:
    """ISO 8601 date-times with any offset; a bare date means its midnight UTC."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise InvalidParameter(parameter)
    text = _SPACE_FOR_PLUS.sub(r"\1+\2", value.strip())
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidParameter(parameter) from None


def parse_id(value: str) -> int | None:
    """A path id; None when it cannot name any row (so callers answer as for a missing row)."""
    if re.fullmatch(r"\d{1,19}", value) and int(value) <= MAX_INT:
        return int(value)
    return None


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def parse_page(
    params: Params, *, max_size: int = MAX_PAGE_SIZE, size_alias: str | None = None
) -> Page:
    page = params.get("page", {})
    if isinstance(page, str | list):
        raise InvalidParameter("page")
    number = 1
    size = DEFAULT_PAGE_SIZE
    if "number" in page and page["number"] != "":
        number = parse_int(page["number"], "page[number]", minimum=1)
    if "size" in page and page["size"] != "":
        size = parse_int(page["size"], "page[size]")
    elif size_alias and params.get(size_alias, "") != "":
        size = parse_int(params[size_alias], size_alias)
    if not 1 <= size <= max_size:
        raise InvalidParameter(
            "page[size]", f"The parameter 'page[size]' must be between 1 and {max_size}."
        )
    if (number - 1) * size >= MAX_OFFSET:
        raise InvalidParameter(
            "page[number]",
            f"Only the first {MAX_OFFSET} rows can be reached by page number; "
            "continue with filter[id__gt].",
        )
    return Page(number=number, size=size)
