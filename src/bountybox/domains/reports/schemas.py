"""Request bodies and the typed form of the GET /reports query (filters and sort)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)

from bountybox.core.errors import InvalidParameter
from bountybox.core.jsonapi.query import (
    Params,
    as_list,
    as_str,
    parse_bool,
    parse_datetime,
    parse_int,
)
from bountybox.domains.reports.states import ReportState


class SeverityRating(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


Text = Annotated[str, StringConstraints(max_length=65_536)]
LongText = Annotated[str, StringConstraints(max_length=1_000_000)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ---- POST /reports ----


class ReportCreateAttributes(_Body):
    team_handle: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    title: Title
    vulnerability_information: LongText
    impact: LongText
    source: Annotated[str, StringConstraints(max_length=255)]
    severity_rating: SeverityRating | None = None
    weakness_id: DbId | None = None
    structured_scope_id: DbId | None = None


class ReportCreateData(_Body):
    type: Literal["report"] = "report"
    attributes: ReportCreateAttributes


class ReportCreate(_Body):
    data: ReportCreateData


# ---- POST /reports/{id}/state_changes ----


class StateChangeAttributes(_Body):
    state: ReportState
    message: Text | None = None
    original_report_id: DbId | None = None
    attachment_ids: list[DbId] = Field(default_factory=list, max_length=100)

    @field_validator("original_report_id", mode="before")
    @classmethod
    def _id_from_string(cls, value: Any) -> Any:
        # Clients send "302" as often as 302.
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return value


class StateChangeData(_Body):
    type: Literal["state-change"] = "state-change"
    attributes: StateChangeAttributes


class StateChangeCreate(_Body):
    data: StateChangeData


# ---- POST /reports/{id}/activities ----


class CommentAttributes(_Body):
    message: Annotated[str, StringConstraints(min_length=1, max_length=65_536)]
    internal: StrictBool
    attachment_ids: list[DbId] = Field(default_factory=list, max_length=100)


class CommentData(_Body):
    type: Literal["activity-comment"]
    attributes: CommentAttributes


class CommentCreate(_Body):
    data: CommentData


# ---- GET /reports query ----


class ReportSortField(StrEnum):
    SWAG_AWARDED_AT = "swag_awarded_at"
    BOUNTY_AWARDED_AT = "bounty_awarded_at"
    LAST_REPORTER_ACTIVITY_AT = "last_reporter_activity_at"
    FIRST_PROGRAM_ACTIVITY_AT = "first_program_activity_at"
    LAST_PROGRAM_ACTIVITY_AT = "last_program_activity_at"
    TRIAGED_AT = "triaged_at"
    CREATED_AT = "created_at"
    CLOSED_AT = "closed_at"
    LAST_PUBLIC_ACTIVITY_AT = "last_public_activity_at"
    LAST_ACTIVITY_AT = "last_activity_at"
    DISCLOSED_AT = "disclosed_at"


class DateField(StrEnum):
    CREATED_AT = "created_at"
    SUBMITTED_AT = "submitted_at"
    TRIAGED_AT = "triaged_at"
    CLOSED_AT = "closed_at"
    DISCLOSED_AT = "disclosed_at"
    BOUNTY_AWARDED_AT = "bounty_awarded_at"
    SWAG_AWARDED_AT = "swag_awarded_at"
    LAST_REPORTER_ACTIVITY_AT = "last_reporter_activity_at"
    FIRST_PROGRAM_ACTIVITY_AT = "first_program_activity_at"
    LAST_PROGRAM_ACTIVITY_AT = "last_program_activity_at"
    LAST_ACTIVITY_AT = "last_activity_at"
    LAST_PUBLIC_ACTIVITY_AT = "last_public_activity_at"


# Older clients (hackeroni) spell swag_awarded_at as swag_at.
DATE_ALIASES = {"swag_at": DateField.SWAG_AWARDED_AT}


class ListFilter(StrEnum):
    PROGRAM = "program"
    INBOX_IDS = "inbox_ids"
    REPORTER = "reporter"
    ASSIGNEE = "assignee"
    STATE = "state"
    ID = "id"
    WEAKNESS_ID = "weakness_id"
    SEVERITY = "severity"
    ASSET_IDS = "asset_ids"


class BoolFilter(StrEnum):
    HACKER_PUBLISHED = "hacker_published"
    HAI_IS_PRIORITY = "hai_is_priority"
    REPORTER_AGREED_ON_GOING_PUBLIC = "reporter_agreed_on_going_public"


@dataclass(frozen=True)
class DateCondition:
    field: DateField
    op: Literal["gt", "lt", "null"]
    value: dt.datetime | bool


@dataclass(frozen=True)
class SortKey:
    field: ReportSortField
    descending: bool


@dataclass
class ReportQuery:
    programs: list[str] = field(default_factory=list)
    inbox_ids: list[int] = field(default_factory=list)
    reporters: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    states: list[ReportState] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    weakness_ids: list[int] = field(default_factory=list)
    severities: list[SeverityRating] = field(default_factory=list)
    asset_ids: list[int] = field(default_factory=list)
    booleans: dict[BoolFilter, bool] = field(default_factory=dict)
    keyword: str | None = None
    issue_tracker_reference_id: str | None = None
    issue_tracker_reference_id_null: bool | None = None
    custom_fields: list[tuple[int, str]] = field(default_factory=list)
    dates: list[DateCondition] = field(default_factory=list)
    id_gt: int | None = None
    sort: list[SortKey] = field(default_factory=list)


def _ints(value: Any, parameter: str) -> list[int]:
    return [parse_int(v, parameter, minimum=0) for v in as_list(value, parameter)]


def _enums(enum: type[StrEnum], value: Any, parameter: str) -> list[Any]:
    out = []
    for item in as_list(value, parameter):
        try:
            out.append(enum(item))
        except ValueError:
            raise InvalidParameter(parameter) from None
    return out


def parse_report_query(params: Params) -> ReportQuery:
    raw = params.get("filter", {})
    if not isinstance(raw, dict):
        raise InvalidParameter("filter")
    query = ReportQuery()
    for name, value in raw.items():
        parameter = f"filter[{name}]"
        if name in ListFilter.__members__.values():
            _parse_list_filter(query, ListFilter(name), value, parameter)
        elif name in BoolFilter.__members__.values():
            query.booleans[BoolFilter(name)] = parse_bool(value, parameter)
        elif name == "keyword":
            query.keyword = as_str(value, parameter)[:500] or None
        elif name == "issue_tracker_reference_id":
            query.issue_tracker_reference_id = as_str(value, parameter)
        elif name == "issue_tracker_reference_id__null":
            query.issue_tracker_reference_id_null = parse_bool(value, parameter)
        elif name == "custom_fields":
            query.custom_fields = _parse_custom_fields(value, parameter)
        elif name == "id__gt":
            query.id_gt = parse_int(value, parameter, minimum=0)
        else:
            query.dates.append(_parse_date_filter(name, value, parameter))
    if not query.programs and not query.inbox_ids:
        raise InvalidParameter(
            "filter[program]", "Either filter[program][] or filter[inbox_ids][] is required."
        )
    query.sort = parse_sort(params.get("sort"))
    return query


def _parse_list_filter(query: ReportQuery, name: ListFilter, value: Any, parameter: str) -> None:
    if name is ListFilter.PROGRAM:
        query.programs = as_list(value, parameter)
    elif name is ListFilter.INBOX_IDS:
        query.inbox_ids = _ints(value, parameter)
    elif name is ListFilter.REPORTER:
        query.reporters = as_list(value, parameter)
    elif name is ListFilter.ASSIGNEE:
        query.assignees = as_list(value, parameter)
    elif name is ListFilter.STATE:
        query.states = _enums(ReportState, value, parameter)
    elif name is ListFilter.ID:
        query.ids = _ints(value, parameter)
    elif name is ListFilter.WEAKNESS_ID:
        query.weakness_ids = _ints(value, parameter)
    elif name is ListFilter.SEVERITY:
        query.severities = _enums(SeverityRating, value, parameter)
    elif name is ListFilter.ASSET_IDS:
        query.asset_ids = _ints(value, parameter)


def _parse_custom_fields(value: Any, parameter: str) -> list[tuple[int, str]]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, dict) or "id__eq" not in item or "value__eq" not in item:
            raise InvalidParameter(parameter)
        out.append(
            (parse_int(item["id__eq"], parameter, minimum=0), as_str(item["value__eq"], parameter))
        )
    return out


def _parse_date_filter(name: str, value: Any, parameter: str) -> DateCondition:
    base, sep, op = name.rpartition("__")
    if not sep or op not in ("gt", "lt", "null"):
        raise InvalidParameter(parameter, f"Unknown filter '{name}'.")
    base = DATE_ALIASES.get(base, base)
    try:
        date_field = DateField(base)
    except ValueError:
        raise InvalidParameter(parameter, f"Unknown filter '{name}'.") from None
    if op == "null":
        return DateCondition(date_field, "null", parse_bool(value, parameter))
    return DateCondition(date_field, op, parse_datetime(value, parameter))  # type: ignore[arg-type]


def parse_sort(value: Any) -> list[SortKey]:
    if value is None or value == "":
        return []
    text = as_str(value, "sort")
    keys = []
    for part in text.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part.lstrip("-")
        name = name.removeprefix("reports.")
        try:
            keys.append(SortKey(ReportSortField(name), descending))
        except ValueError:
            raise InvalidParameter("sort", f"The sort key '{part}' is invalid.") from None
    return keys


# ---- the report workflow bodies ----
#
# Most write bodies are {"data": {"type": ..., "attributes": {...}}}; rewards are sent flat,
# {"data": {"message": ..., "amount": ...}}, by the recorded clients. Both generics accept either.

A = TypeVar("A", bound=BaseModel)


class Data(_Body, Generic[A]):
    type: Annotated[str, StringConstraints(max_length=100)] | None = None
    attributes: A


class Document(_Body, Generic[A]):
    data: Data[A]


class FlatDocument(_Body, Generic[A]):
    data: A

    @model_validator(mode="before")
    @classmethod
    def _unwrap_attributes(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("data"), dict):
            data = value["data"]
            if isinstance(data.get("attributes"), dict):
                return {"data": {**data, **data["attributes"]}}
        return value


class NoAttributes(_Body):
    pass


class MessageAttributes(_Body):
    message: Text | None = None


class RequiredMessageAttributes(_Body):
    message: Annotated[str, StringConstraints(min_length=1, max_length=65_536)]


class AssigneeType(StrEnum):
    USER = "user"
    GROUP = "group"
    NOBODY = "nobody"


class AssigneeData(_Body):
    type: AssigneeType
    id: DbId | None = None
    attributes: MessageAttributes = Field(default_factory=MessageAttributes)

    @field_validator("id", mode="before")
    @classmethod
    def _id_from_string(cls, value: Any) -> Any:
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return value


class AssigneeUpdate(_Body):
    data: AssigneeData


class CalculationMethod(StrEnum):
    MANUAL = "manual"
    CVSS_3_0 = "cvss_3_0_hackerone"
    CVSS_3_1 = "cvss_3_1"
    CVSS_4_0 = "cvss_4_0"


class SeverityAttributes(_Body):
    rating: SeverityRating | None = None
    calculation_method: CalculationMethod | None = None
    message: Text | None = None
    attack_vector: Literal["network", "adjacent", "local", "physical"] | None = None
    attack_complexity: Literal["low", "high"] | None = None
    attack_requirements: Literal["none", "present"] | None = None
    privileges_required: Literal["none", "low", "high"] | None = None
    user_interaction: Literal["none", "required", "passive", "active"] | None = None
    scope: Literal["unchanged", "changed"] | None = None
    confidentiality: Literal["none", "low", "high"] | None = None
    integrity: Literal["none", "low", "high"] | None = None
    availability: Literal["none", "low", "high"] | None = None
    vulnerable_confidentiality: Literal["none", "low", "high"] | None = None
    vulnerable_integrity: Literal["none", "low", "high"] | None = None
    vulnerable_availability: Literal["none", "low", "high"] | None = None
    subsequent_confidentiality: Literal["none", "low", "high"] | None = None
    subsequent_integrity: Literal["none", "low", "high"] | None = None
    subsequent_availability: Literal["none", "low", "high"] | None = None


class WeaknessAttributes(_Body):
    weakness_id: DbId


class ScopeAttributes(_Body):
    structured_scope_id: DbId


class TitleAttributes(_Body):
    title: Title


class VulnerabilityInformationAttributes(_Body):
    vulnerability_information: LongText


CveId = Annotated[str, StringConstraints(pattern=r"^CVE-\d{4}-\d{4,19}$")]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]


class CveAttributes(_Body):
    cve_ids: list[CveId] = Field(max_length=100)


class TagAttributes(_Body):
    report_tags: list[Tag] = Field(max_length=100)


class CustomFieldValueAttributes(_Body):
    custom_field_attribute_id: DbId
    value: Annotated[str, StringConstraints(max_length=10_000)] | None = None


class InboxesData(_Body):
    organization_inbox_ids: list[DbId] = Field(max_length=100)


class InboxesUpdate(_Body):
    data: InboxesData


class ReferenceAttributes(_Body):
    reference: Annotated[
        str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)
    ]
    message: Text | None = None


class EscalateAttributes(_Body):
    integration_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]

    @field_validator("integration_id", mode="before")
    @classmethod
    def _id_as_string(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class TransferAttributes(_Body):
    target_team_id: DbId
    no_notifications: StrictBool = False


Money = Annotated[Decimal, Field(ge=0, le=10_000_000, decimal_places=2)]


class RewardAttributes(_Body):
    message: Annotated[str, StringConstraints(min_length=1, max_length=65_536)]
    amount: Money | None = None
    bonus_amount: Money | None = None


class SwagAttributes(_Body):
    message: Annotated[str, StringConstraints(min_length=1, max_length=65_536)]


class DisclosureSubstate(StrEnum):
    FULL = "full"
    NO_CONTENT = "no-content"


class DisclosureAttributes(_Body):
    substate: DisclosureSubstate
    message: Text | None = None


class RedactAttributes(_Body):
    string_to_redact: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    include_internal: StrictBool = False


class RetestAttributes(_Body):
    message: Text | None = None
    retest_award_amount: Money | None = None


class RetestApproveAttributes(_Body):
    message: Text | None = None
    award_amount: Money | None = None


class SummaryAttributes(_Body):
    content: Annotated[str, StringConstraints(min_length=1, max_length=65_536)]


class ParticipantAttributes(_Body):
    email: (
        Annotated[str, StringConstraints(max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None
    username: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ParticipantAttributes:
        if (self.email is None) == (self.username is None):
            raise ValueError("give exactly one of email and username")
        return self


class OptionalData(_Body):
    type: Annotated[str, StringConstraints(max_length=100)] | None = None
    attributes: MessageAttributes = Field(default_factory=MessageAttributes)


class OptionalBody(_Body):
    """Bodies some endpoints take but do not need: `{"data":{"type":...}}`, an optional
    message in `data.attributes`, or nothing at all."""

    data: OptionalData | None = None

    @property
    def message(self) -> str | None:
        return self.data.attributes.message if self.data else None

    def require_type(self, expected: str) -> None:
        if self.data is not None and self.data.type not in (None, expected):
            raise InvalidParameter("type")
