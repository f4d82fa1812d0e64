"""Request bodies of the program endpoints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Text = Annotated[str, StringConstraints(max_length=65_536)]
Required = Annotated[str, StringConstraints(min_length=1, max_length=65_536)]
Email = Annotated[str, StringConstraints(max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Multiplier = Annotated[float, Field(gt=1.0, le=100)]

A = TypeVar("A", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Data(_Body, Generic[A]):
    type: Annotated[str, StringConstraints(max_length=100)] | None = None
    attributes: A


class Document(_Body, Generic[A]):
    data: Data[A]


class PolicyAttributes(_Body):
    policy: Annotated[str, StringConstraints(max_length=1_000_000)]


class ScopeExclusionAttributes(_Body):
    category: Annotated[str, StringConstraints(max_length=100)] | None = None
    details: Annotated[str, StringConstraints(max_length=300)] | None = None


class SwagUpdateAttributes(_Body):
    sent: StrictBool = True


class OptionalSwagBody(_Body):
    """The docs send `{}`; clients send `{"data":{"type":"swag","attributes":{"sent":true}}}`."""

    data: Data[SwagUpdateAttributes] | None = None


class Currency(StrEnum):
    USD = "USD"


class SeverityRating(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ProgramBountyAttributes(_Body):
    amount: Annotated[Decimal, Field(gt=0, le=10_000_000, decimal_places=2)]
    reference: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    currency: Currency
    recipient: Email | None = None
    recipient_id: DbId | None = None
    severity_rating: SeverityRating | None = None

    @model_validator(mode="after")
    def _one_recipient(self) -> ProgramBountyAttributes:
        if (self.recipient is None) == (self.recipient_id is None):
            raise ValueError("give exactly one of recipient and recipient_id")
        return self


class TeamMessageAttributes(_Body):
    message: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    subject: Annotated[str, StringConstraints(max_length=500)] | None = None
    reply_to_address: Email | None = None
    send_me_copy: StrictBool = False
    recipients: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    message_invited_hackers: StrictBool = False
    message_top_hackers: StrictBool = False
    message_participating_hackers: StrictBool = False
    message_bounty_claimed_hackers: StrictBool = False


class HackerInvitationAttributes(_Body):
    usernames: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100
    )
    email_addresses: list[Email] = Field(default_factory=list, max_length=100)
    message: Required
    context: Required
    bcc_me: StrictBool = False


class CveVersion(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    vendor: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    product: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    func: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    versionUpperBound: Annotated[str, StringConstraints(max_length=100)] | None = None
    versionType: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    affected: StrictBool


class CveMetric(BaseModel):
    model_config = ConfigDict(extra="ignore")

    vectorString: Annotated[str, StringConstraints(min_length=1, max_length=300)]


class CveRequestAttributes(_Body):
    team_handle: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    versions: list[CveVersion] = Field(min_length=1, max_length=100)
    metrics: list[CveMetric] = Field(min_length=1, max_length=10)
    weakness_id: DbId
    description: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    vulnerability_discovered_at: dt.datetime
    report_id: DbId | None = None
    products: list[Annotated[str, StringConstraints(max_length=255)]] = Field(
        default_factory=list, max_length=100
    )
    references: list[Annotated[str, StringConstraints(max_length=1000)]] = Field(
        default_factory=list, max_length=100
    )


class CampaignAttributes(_Body):
    campaign_type: Literal["multiplier"] = "multiplier"
    campaign_objective_id: DbId | None = None
    critical: Multiplier | None = None
    high: Multiplier | None = None
    medium: Multiplier | None = None
    low: Multiplier | None = None
    researchers_information: Text | None = None
    bounty_pool_limit: Annotated[int, Field(ge=0, le=10**9)] | None = None
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    structured_scope_ids: list[DbId] | None = Field(default=None, max_length=1000)
    bounty_table_row_id: DbId | None = None
    extended_at: dt.datetime | None = None


class NotifyAttributes(_Body):
    message: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    targets: list[Annotated[str, StringConstraints(min_length=1, max_length=255)]] = Field(
        min_length=1, max_length=25
    )
    integration_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    user_id: int
    created_at: dt.datetime
    invited_at: dt.datetime | None
    accepted_at: dt.datetime | None
    left_at: dt.datetime | None = None
    removed_at: dt.datetime | None = None
