"""The seed pack format: a whole installation (organizations, programs, people, tokens and reports
with their history) as data. Every name a pack uses to point at something (a program handle, a
username, a group name, a report key) is resolved by the loader; every timestamp is optional, and
a pack that gives them all loads into the same rows every time."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from bountybox.core.auth import ProgramPermission
from bountybox.domains.programs.schemas import SeverityRating
from bountybox.domains.reports.schemas import CalculationMethod, DisclosureSubstate
from bountybox.domains.reports.states import ReportState
from bountybox.domains.webhooks.schemas import WebhookEvent

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Short = Annotated[str, StringConstraints(max_length=100)]
Handle = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(max_length=65_536)]
Message = Annotated[str, StringConstraints(min_length=1, max_length=65_536)]
LongText = Annotated[str, StringConstraints(max_length=1_000_000)]
Money = Annotated[Decimal, Field(ge=0, le=100_000_000, decimal_places=2)]
TokenValue = Annotated[str, StringConstraints(min_length=16, max_length=200)]


class _Strict(BaseModel):
    """Unknown keys are refused, so a misspelt field is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Timed(_Strict):
    # When it happened; left out, it happens when the item before it in the pack did.
    at: AwareDatetime | None = None


# ---- people ----


class PackAddress(_Strict):
    name: Name | None = None
    street: Name
    city: Name
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    state: Short = ""
    country: Short
    tshirt_size: Annotated[str, StringConstraints(max_length=20)] | None = None


class PackHacker(_Strict):
    username: Handle
    name: Name | None = None
    email: Name | None = None
    reputation: Annotated[int, Field(ge=-(2**31), lt=2**31)] = 0
    signal: Annotated[float, Field(allow_inf_nan=False)] = 0.0
    impact: Annotated[float, Field(allow_inf_nan=False)] = 0.0
    created_at: AwareDatetime | None = None
    address: PackAddress | None = None
    # The hacker API token: true derives its value (see loader.token_value), a string is the
    # value itself, false issues none.
    token: StrictBool | TokenValue = True


class PackMember(_Strict):
    username: Handle
    name: Name | None = None
    email: Name | None = None
    admin: StrictBool = False
    groups: list[Name] = Field(default_factory=list)


class PackGroup(_Strict):
    name: Name
    permissions: list[ProgramPermission] = Field(default_factory=list)
    programs: list[Handle] = Field(default_factory=list)


class PackToken(_Strict):
    """An organization API token; `name` is its identifier. No groups: an organization admin."""

    name: Handle
    value: TokenValue | None = None
    groups: list[Name] = Field(default_factory=list)


# ---- programs ----


class PackScope(_Strict):
    asset_identifier: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    asset_type: Annotated[str, StringConstraints(min_length=1, max_length=50)] = "URL"
    eligible_for_bounty: StrictBool = True
    eligible_for_submission: StrictBool = True
    max_severity: SeverityRating = SeverityRating.CRITICAL
    confidentiality_requirement: SeverityRating | None = None
    integrity_requirement: SeverityRating | None = None
    availability_requirement: SeverityRating | None = None
    reference: Annotated[str, StringConstraints(max_length=100)] | None = None
    instruction: Text | None = None


class PackIntegration(_Strict):
    name: Name
    type: Literal["notification", "issue_tracking", "manual"]
    reference_url_prefix: Annotated[str, StringConstraints(max_length=500)] | None = None
    webhook_url: Annotated[str, StringConstraints(max_length=1000)] | None = None


class PackCustomField(_Strict):
    label: Name
    field_type: Literal["Text", "List", "Date", "Checkbox", "Number"] = "Text"
    internal: StrictBool = True
    required: StrictBool = False
    configuration: Text | None = None


class PackScopeExclusion(_Strict):
    category: Annotated[str, StringConstraints(max_length=100)]
    details: Annotated[str, StringConstraints(max_length=300)] = ""


class PackWebhook(_Strict):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    secret: Annotated[str, StringConstraints(max_length=255)] | None = None
    events: list[WebhookEvent] = Field(default_factory=list)
    active: StrictBool = True


class PackProgram(_Strict):
    handle: Handle
    name: Name
    private: StrictBool = False
    offers_bounties: StrictBool = True
    minimum_bounty: Money = Decimal(0)
    bounty_fee_basis_points: Annotated[int, Field(ge=0, le=10_000)] = 0
    policy: LongText = ""
    severity_calculation_methods: list[CalculationMethod] = Field(
        default_factory=lambda: [
            CalculationMethod.CVSS_3_1,
            CalculationMethod.CVSS_4_0,
            CalculationMethod.MANUAL,
        ]
    )
    # A prepaid balance that bounties are paid from.
    balance: Money = Decimal(0)
    # External ids of the pack's weaknesses this program uses; left out, all of them.
    weaknesses: list[Name] | None = None
    scopes: list[PackScope] = Field(default_factory=list)
    integrations: list[PackIntegration] = Field(default_factory=list)
    custom_fields: list[PackCustomField] = Field(default_factory=list)
    scope_exclusions: list[PackScopeExclusion] = Field(default_factory=list)
    # Hackers who may see and report to the program (when private).
    allowed_hackers: list[Handle] = Field(default_factory=list)
    # Created after everything else, so loading the pack sends no webhook.
    webhooks: list[PackWebhook] = Field(default_factory=list)


class PackInbox(_Strict):
    name: Name


class PackOrganization(_Strict):
    handle: Handle
    name: Name
    created_at: AwareDatetime | None = None
    ip_allowlist: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        default_factory=list
    )
    groups: list[PackGroup] = Field(default_factory=list)
    members: list[PackMember] = Field(default_factory=list)
    programs: list[PackProgram] = Field(default_factory=list)
    # Custom inboxes; every program has its default inbox.
    inboxes: list[PackInbox] = Field(default_factory=list)
    tokens: list[PackToken] = Field(default_factory=list)


class PackWeakness(_Strict):
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    name: Name
    description: Text = ""


# ---- report history ----


class Acting(Timed):
    # Who acts: an organization member or API token name; left out, the organization's first admin.
    by: Handle | None = None


class StateStep(Acting):
    action: Literal["state"]
    state: ReportState
    message: Text = ""
    # The `key` of the original when the state is duplicate.
    original_report: Handle | None = None


class CommentStep(Timed):
    action: Literal["comment"]
    message: Message
    internal: StrictBool = False
    # A member (or token) of the organization, or the reporter: a reply on the hacker side.
    by: Handle | None = None


class AssignStep(Acting):
    action: Literal["assign"]
    user: Handle | None = None
    group: Name | None = None

    @model_validator(mode="after")
    def _one_assignee(self) -> AssignStep:
        if (self.user is None) == (self.group is None):
            raise ValueError("give exactly one of user and group")
        return self


class RetestingStep(Acting):
    """The team asks the reporter to confirm a fix: the report moves to retesting."""

    action: Literal["retesting"]
    message: Text = ""


class BountyStep(Acting):
    action: Literal["bounty"]
    amount: Money | None = None
    bonus_amount: Money | None = None
    message: Message = "Thank you!"


class SwagStep(Acting):
    action: Literal["swag"]
    message: Message = "Enjoy the swag!"


class CollaboratorStep(Timed):
    action: Literal["collaborator"]
    username: Handle
    weight: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0


class SummaryStep(Acting):
    action: Literal["summary"]
    content: LongText


class CustomFieldStep(Timed):
    action: Literal["custom_field"]
    field: Name
    value: Text


class ReporterAgreesStep(Timed):
    """The reporter asks to disclose the report."""

    action: Literal["reporter_agrees_to_disclose"]
    message: Text = ""


class DiscloseStep(Acting):
    """The team agrees to disclose: public now if the reporter asked, else after 30 days."""

    action: Literal["disclose"]
    substate: DisclosureSubstate = DisclosureSubstate.FULL
    message: Text = ""


Step = Annotated[
    StateStep
    | CommentStep
    | AssignStep
    | RetestingStep
    | BountyStep
    | SwagStep
    | CollaboratorStep
    | SummaryStep
    | CustomFieldStep
    | ReporterAgreesStep
    | DiscloseStep,
    Field(discriminator="action"),
]


class PackReport(_Strict):
    # How other parts of the pack (and the load result) name this report.
    key: Handle | None = None
    program: Handle
    reporter: Handle
    title: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    vulnerability_information: LongText = ""
    # External id of a weakness, asset identifier of one of the program's scopes.
    weakness: Name | None = None
    scope: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    # A CVSS 3.1 or 4.0 vector, or a rating (none, low, medium, high, critical).
    severity: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    submitted_at: AwareDatetime | None = None
    # Custom inboxes the report is in besides its program's default inbox.
    inboxes: list[Name] = Field(default_factory=list)
    # A shorthand for the history: the usual path to this state, by the organization's admin.
    state: ReportState | None = None
    history: list[Step] = Field(default_factory=list)

    @model_validator(mode="after")
    def _state_or_history(self) -> PackReport:
        if self.state is not None and self.history:
            raise ValueError("give either state or history, not both")
        return self


class PackPayout(Timed):
    hacker: Handle
    amount: Money | None = None
    provider: Handle | None = None
    reference: Name | None = None


class PackIntent(Timed):
    hacker: Handle
    program: Handle
    description: LongText


class Pack(_Strict):
    name: Annotated[str, StringConstraints(max_length=100)] | None = None
    description: Text | None = None
    # When the pack's undated items are created; left out, the (sandbox) clock's now.
    created_at: AwareDatetime | None = None
    weaknesses: list[PackWeakness] = Field(default_factory=list)
    hackers: list[PackHacker] = Field(default_factory=list)
    organizations: list[PackOrganization] = Field(default_factory=list)
    reports: list[PackReport] = Field(default_factory=list)
    payouts: list[PackPayout] = Field(default_factory=list)
    intents: list[PackIntent] = Field(default_factory=list)
