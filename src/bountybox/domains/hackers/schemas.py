"""Request bodies of the hacker API and the allow-lists of its query parameters.

Hacker bodies refuse attributes they do not know (HackerOne answers them with 400, e.g. `title`
on a report intent), accept the JSON:API form `{"data":{"type","attributes"}}` as well as the
older flat form `{"data":{...attributes}}`, and silently drop `relationships`, as the live API
does for `weakness_id` sent as a relationship."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from bountybox.core.errors import InvalidParameter
from bountybox.core.jsonapi.query import Params, as_str, parse_datetime, parse_int
from bountybox.domains.reports.schemas import LongText, SeverityRating, Title

MAX_ID = 2**63 - 1
Handle = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(min_length=1, max_length=65_536)]
Vector = Annotated[str, StringConstraints(min_length=9, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _numeric_id(value: Any) -> Any:
    """Live API: a numeric id as number or string is used; anything non-numeric becomes null
    (the report is filed without it); out-of-range numbers are refused."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value) if value.strip().isdigit() else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


OptionalId = Annotated[int, Field(ge=1, le=MAX_ID)] | None


class HackerReportAttributes(_Strict):
    team_handle: Handle
    title: Title
    vulnerability_information: Annotated[str, StringConstraints(min_length=1, max_length=1_000_000)]
    impact: LongText
    severity_rating: SeverityRating | None = None
    # A bountybox extension: a CVSS 3.0, 3.1 or 4.0 vector, scored on the server.
    cvss_vector_string: Vector | None = None
    weakness_id: OptionalId = None
    structured_scope_id: OptionalId = None

    @field_validator("weakness_id", "structured_scope_id", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        return _numeric_id(value)


class _Document(_Lenient):
    """`{"data":{...}}` with or without the `attributes` envelope; relationships are dropped."""

    @model_validator(mode="before")
    @classmethod
    def _envelope(cls, value: Any) -> Any:
        if not isinstance(value, dict) or not isinstance(value.get("data"), dict):
            return value
        data = dict(value["data"])
        data.pop("relationships", None)
        if "attributes" not in data:
            envelope = {k: data.pop(k) for k in ("type", "id") if k in data}
            data = {**envelope, "attributes": data}
        return {**value, "data": data}


class HackerReportData(_Lenient):
    type: Annotated[str, StringConstraints(pattern=r"^report$")] | None = None
    attributes: HackerReportAttributes


class HackerReportCreate(_Document):
    data: HackerReportData


class ReportIntentCreateAttributes(_Strict):
    team_handle: Handle
    description: Description


class ReportIntentUpdateAttributes(_Strict):
    description: Description


IntentType = Annotated[str, StringConstraints(pattern=r"^report[-_]intent$")]


class ReportIntentCreateData(_Lenient):
    type: IntentType | None = None
    attributes: ReportIntentCreateAttributes


class ReportIntentUpdateData(_Lenient):
    type: IntentType | None = None
    attributes: ReportIntentUpdateAttributes


class ReportIntentCreate(_Document):
    data: ReportIntentCreateData


class ReportIntentUpdate(_Document):
    data: ReportIntentUpdateData


class IntentState(StrEnum):
    PENDING = "pending"
    READY_TO_SUBMIT = "ready_to_submit"
    SUBMITTED = "submitted"


class EarningType(StrEnum):
    BOUNTY = "earning-bounty-earned"
    RETEST = "earning-retest-completed"


# ---- query parameters ----


class ScopeFilter(StrEnum):
    ID_GT = "id__gt"
    CREATED_AT_GT = "created_at__gt"
    UPDATED_AT_GT = "updated_at__gt"


@dataclass(frozen=True)
class ScopeQuery:
    id_gt: int | None = None
    created_at_gt: dt.datetime | None = None
    updated_at_gt: dt.datetime | None = None


def parse_scope_query(params: Params) -> ScopeQuery:
    raw = params.get("filter", {})
    if not isinstance(raw, dict):
        raise InvalidParameter("filter")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        parameter = f"filter[{name}]"
        try:
            kind = ScopeFilter(name)
        except ValueError:
            raise InvalidParameter(parameter, f"Unknown filter '{name}'.") from None
        if kind is ScopeFilter.ID_GT:
            values["id_gt"] = parse_int(value, parameter, minimum=0)
        else:
            values[kind.value.removesuffix("__gt") + "_gt"] = parse_datetime(value, parameter)
    return ScopeQuery(**values)


class HacktivitySortField(StrEnum):
    LATEST_DISCLOSABLE_ACTIVITY_AT = "latest_disclosable_activity_at"
    DISCLOSED_AT = "disclosed_at"
    TOTAL_AWARDED_AMOUNT = "total_awarded_amount"
    VOTES = "votes"


@dataclass(frozen=True)
class HacktivitySort:
    field: HacktivitySortField
    descending: bool


DEFAULT_HACKTIVITY_SORT = HacktivitySort(HacktivitySortField.LATEST_DISCLOSABLE_ACTIVITY_AT, True)


def parse_hacktivity_sort(value: Any) -> list[HacktivitySort]:
    """`sort=-disclosed_at` (several keys comma-separated); an unknown key is a 400."""
    if value is None or value == "":
        return [DEFAULT_HACKTIVITY_SORT]
    keys = []
    for part in as_str(value, "sort").split(","):
        name = part.strip()
        try:
            keys.append(HacktivitySort(HacktivitySortField(name.lstrip("-")), name.startswith("-")))
        except ValueError:
            raise InvalidParameter("sort", f"The sort key '{name}' is invalid.") from None
    return keys
