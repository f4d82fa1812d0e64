"""Request bodies of the sandbox control plane."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)

from bountybox.domains.webhooks.schemas import WebhookEvent
from bountybox.packs.schemas import Pack

SnapshotName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


class Method(StrEnum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    HEAD = "HEAD"
    OPTIONS = "OPTIONS"


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


# Case-insensitive, as clients and people write methods both ways.
HttpMethod = Annotated[Method, BeforeValidator(_upper)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResetRequest(_Strict):
    """A shipped pack by name, or a pack inline; neither: the pack the server started with."""

    seed: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    pack: Pack | None = None
    keep_clock: StrictBool = False
    keep_faults: StrictBool = False
    keep_requests: StrictBool = False

    @model_validator(mode="after")
    def _one_source(self) -> ResetRequest:
        if self.seed is not None and self.pack is not None:
            raise ValueError("give seed or pack, not both")
        return self


DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
# Years and months have no fixed length, so ISO durations with them are refused.
MAX_ADVANCE = dt.timedelta(days=365 * 100)
# Times the wire format (four-digit years) and every part of the stack can carry.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
# Headers a fault may not set: they frame the response.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


def parse_duration(value: float | str) -> dt.timedelta:
    """Seconds (a number or a numeric string) or an ISO 8601 duration (P30D, PT1H30M, P1DT12H)."""
    if isinstance(value, str):
        text = value.strip()
        match = DURATION.match(text.upper())
        if match is not None and text.upper() not in ("P", "PT") and not text.upper().endswith("T"):
            parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
            delta = dt.timedelta(**parts)
        else:
            try:
                delta = dt.timedelta(seconds=float(text))
            except ValueError:
                raise ValueError(
                    "a duration is a number of seconds or ISO 8601 like P30D or PT1H30M"
                ) from None
    else:
        delta = dt.timedelta(seconds=value)
    if delta < dt.timedelta(0) or delta > MAX_ADVANCE:
        raise ValueError("the clock only moves forward, by at most 100 years")
    return delta


class ClockChange(_Strict):
    """Exactly one of: freeze at a time (UTC when it has no offset), advance by a duration,
    release (back to the wall clock)."""

    freeze: dt.datetime | None = None
    advance: dt.timedelta | None = None
    release: StrictBool | None = None

    @field_validator("advance", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("a duration is a number of seconds or an ISO 8601 duration string")
        return parse_duration(value)

    @field_validator("freeze")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        if not EARLIEST <= value <= LATEST:
            raise ValueError("the clock stays between 1970 and 9000")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> ClockChange:
        given = [
            name for name in ("freeze", "advance", "release") if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of freeze, advance and release")
        if self.release is False:
            raise ValueError("release is true when given")
        return self


class FaultCreate(_Strict):
    """Requests whose path matches `path` (a glob: * matches across /) and `method` (any when
    left out) get `status` with the API's error body (or `body`), after `latency_ms`, or lose
    their connection (`drop`); for `count` requests (until cleared when left out), each with
    `probability`."""

    path: Annotated[str, StringConstraints(min_length=1, max_length=1000)] = "*"
    method: HttpMethod | None = None
    status: Annotated[int, Field(ge=200, le=599)] | None = None
    count: Annotated[int, Field(ge=1)] | None = None
    probability: Annotated[float, Field(gt=0, le=1)] = 1.0
    latency_ms: Annotated[int, Field(ge=0, le=120_000)] = 0
    drop: StrictBool = False
    body: JsonValue = None
    headers: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[!-9;-~]+$")],
        Annotated[str, StringConstraints(max_length=1000, pattern=r"^[\t -~]*$")],
    ] = Field(default_factory=dict)
    # The Retry-After of 429 and 503 answers, in seconds.
    retry_after: Annotated[int, Field(ge=0, le=86_400)] = 1

    @field_validator("headers")
    @classmethod
    def _no_framing(cls, value: dict[str, str]) -> dict[str, str]:
        framing = sorted(name for name in value if name.lower() in FRAMING_HEADERS)
        if framing:
            raise ValueError(f"a fault cannot set {', '.join(framing)}")
        return value

    @model_validator(mode="after")
    def _does_something(self) -> FaultCreate:
        if self.status is None and not self.drop and not self.latency_ms:
            raise ValueError("a fault needs a status, drop or latency_ms")
        if self.drop and (self.status is not None or self.body is not None):
            raise ValueError("a dropped connection has no status or body")
        return self


class WebhookTrigger(_Strict):
    """Sends `event` now, through the outbox, to every webhook subscribed to it: about the report
    (report events) or the program and hacker (program_hacker_joined / _left)."""

    event: WebhookEvent
    report_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    program: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    hacker: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    message: Annotated[str, StringConstraints(max_length=65_536)] = ""

    @field_validator("report_id", mode="before")
    @classmethod
    def _id_from_string(cls, value: Any) -> Any:
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return value
