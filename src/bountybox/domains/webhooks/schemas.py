"""Webhook event names, the activity each one fires on, and the management request bodies."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints


class WebhookEvent(StrEnum):
    """The 32 events of HackerOne's webhook table, in its order (shared/api/webhooks.md §2)."""

    REPORT_AGREED_ON_GOING_PUBLIC = "report_agreed_on_going_public"
    REPORT_BOUNTY_AWARDED = "report_bounty_awarded"
    REPORT_BOUNTY_SUGGESTED = "report_bounty_suggested"
    REPORT_CLOSED_AS_DUPLICATE = "report_closed_as_duplicate"
    REPORT_CLOSED_AS_INFORMATIVE = "report_closed_as_informative"
    REPORT_CLOSED_AS_SPAM = "report_closed_as_spam"
    REPORT_CLOSED_AS_NOT_APPLICABLE = "report_closed_as_not_applicable"
    REPORT_COMMENT_CREATED = "report_comment_created"
    REPORT_COMMENTS_CLOSED = "report_comments_closed"
    REPORT_CREATED = "report_created"
    REPORT_CUSTOM_FIELD_VALUE_UPDATED = "report_custom_field_value_updated"
    REPORT_NEEDS_MORE_INFO = "report_needs_more_info"
    REPORT_NEW = "report_new"
    REPORT_PRIORITISED = "report_prioritised"
    REPORT_REOPENED = "report_reopened"
    REPORT_RESOLVED = "report_resolved"
    REPORT_RETEST_APPROVED = "report_retest_approved"
    REPORT_RETEST_REJECTED = "report_retest_rejected"
    REPORT_RETEST_USER_COMPLETED = "report_retest_user_completed"
    REPORT_RETEST_USER_EXPIRED = "report_retest_user_expired"
    REPORT_RETEST_USER_LEFT = "report_retest_user_left"
    REPORT_RETESTING = "report_retesting"
    REPORT_TRIAGED = "report_triaged"
    REPORT_GROUP_ASSIGNED = "report_group_assigned"
    REPORT_MANUALLY_DISCLOSED = "report_manually_disclosed"
    REPORT_NOT_ELIGIBLE_FOR_BOUNTY = "report_not_eligible_for_bounty"
    REPORT_BECAME_PUBLIC = "report_became_public"
    REPORT_UNDISCLOSED = "report_undisclosed"
    REPORT_SWAG_AWARDED = "report_swag_awarded"
    REPORT_USER_ASSIGNED = "report_user_assigned"
    PROGRAM_HACKER_JOINED = "program_hacker_joined"
    PROGRAM_HACKER_LEFT = "program_hacker_left"


E = WebhookEvent

# The activity type whose recording fires each event. `report_created` also fires without an
# activity (POST /reports records none); `report_undisclosed` has no documented type, so the name
# follows the pattern of the others.
ACTIVITY_EVENTS: dict[str, WebhookEvent] = {
    "activity-agreed-on-going-public": E.REPORT_AGREED_ON_GOING_PUBLIC,
    "activity-bounty-awarded": E.REPORT_BOUNTY_AWARDED,
    "activity-bounty-suggested": E.REPORT_BOUNTY_SUGGESTED,
    "activity-bug-duplicate": E.REPORT_CLOSED_AS_DUPLICATE,
    "activity-bug-informative": E.REPORT_CLOSED_AS_INFORMATIVE,
    "activity-bug-spam": E.REPORT_CLOSED_AS_SPAM,
    "activity-bug-not-applicable": E.REPORT_CLOSED_AS_NOT_APPLICABLE,
    "activity-comment": E.REPORT_COMMENT_CREATED,
    "activity-comments-closed": E.REPORT_COMMENTS_CLOSED,
    "activity-bug-filed": E.REPORT_CREATED,
    "activity-report-custom-field-value-updated": E.REPORT_CUSTOM_FIELD_VALUE_UPDATED,
    "activity-bug-needs-more-info": E.REPORT_NEEDS_MORE_INFO,
    "activity-bug-new": E.REPORT_NEW,
    "activity-report-prioritised": E.REPORT_PRIORITISED,
    "activity-bug-reopened": E.REPORT_REOPENED,
    "activity-bug-resolved": E.REPORT_RESOLVED,
    "activity-report-retest-approved": E.REPORT_RETEST_APPROVED,
    "activity-report-retest-rejected": E.REPORT_RETEST_REJECTED,
    "activity-user-completed-retest": E.REPORT_RETEST_USER_COMPLETED,
    "activity-retest-user-expired": E.REPORT_RETEST_USER_EXPIRED,
    "activity-user-left-retest": E.REPORT_RETEST_USER_LEFT,
    "activity-bug-retesting": E.REPORT_RETESTING,
    "activity-bug-triaged": E.REPORT_TRIAGED,
    "activity-group-assigned-to-bug": E.REPORT_GROUP_ASSIGNED,
    "activity-manually-disclosed": E.REPORT_MANUALLY_DISCLOSED,
    "activity-not-eligible-for-bounty": E.REPORT_NOT_ELIGIBLE_FOR_BOUNTY,
    "activity-report-became-public": E.REPORT_BECAME_PUBLIC,
    "activity-report-undisclosed": E.REPORT_UNDISCLOSED,
    "activity-swag-awarded": E.REPORT_SWAG_AWARDED,
    "activity-user-assigned-to-bug": E.REPORT_USER_ASSIGNED,
    "activity-program-hacker-joined": E.PROGRAM_HACKER_JOINED,
    "activity-program-hacker-left": E.PROGRAM_HACKER_LEFT,
}

# Program events carry no report: {"data":{"activity":...}}.
PROGRAM_EVENTS = frozenset({E.PROGRAM_HACKER_JOINED, E.PROGRAM_HACKER_LEFT})


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    # Given up: it still failed when older than the maximum age. It can be redelivered.
    FAILED = "failed"


class DisabledReason(StrEnum):
    FAILURES = "consecutive_failures"


Url = Annotated[str, StringConstraints(min_length=1, max_length=2048, strip_whitespace=True)]
Secret = Annotated[str, StringConstraints(max_length=255)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WebhookAttributes(_Body):
    url: Url
    secret: Secret | None = None
    events: list[WebhookEvent] = Field(default_factory=list, max_length=len(WebhookEvent))
    active: StrictBool = True


class WebhookUpdateAttributes(_Body):
    """Every field optional; a field left out keeps its value, `"secret": null` removes it."""

    url: Url | None = None
    secret: Secret | None = None
    events: list[WebhookEvent] | None = Field(default=None, max_length=len(WebhookEvent))
    active: StrictBool | None = None


class WebhookData(_Body):
    type: Literal["webhook"] = "webhook"
    attributes: WebhookAttributes


class WebhookUpdateData(_Body):
    type: Literal["webhook"] = "webhook"
    attributes: WebhookUpdateAttributes


class WebhookCreate(_Body):
    data: WebhookData


class WebhookUpdate(_Body):
    data: WebhookUpdateData
