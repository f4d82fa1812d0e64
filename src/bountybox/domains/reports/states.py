"""The report state machine of catalogue §12.2 and the activity each transition records."""

from __future__ import annotations

from enum import StrEnum


class ReportState(StrEnum):
    NEW = "new"
    PENDING_PROGRAM_REVIEW = "pending-program-review"
    TRIAGED = "triaged"
    NEEDS_MORE_INFO = "needs-more-info"
    RESOLVED = "resolved"
    NOT_APPLICABLE = "not-applicable"
    INFORMATIVE = "informative"
    DUPLICATE = "duplicate"
    SPAM = "spam"
    RETESTING = "retesting"


S = ReportState

CLOSED_STATES = frozenset({S.RESOLVED, S.NOT_APPLICABLE, S.INFORMATIVE, S.DUPLICATE, S.SPAM})

TRANSITIONS: dict[ReportState, frozenset[ReportState]] = {
    S.NEW: frozenset(
        {
            S.DUPLICATE,
            S.INFORMATIVE,
            S.NEEDS_MORE_INFO,
            S.NOT_APPLICABLE,
            S.PENDING_PROGRAM_REVIEW,
            S.RESOLVED,
            S.SPAM,
            S.TRIAGED,
        }
    ),
    S.PENDING_PROGRAM_REVIEW: frozenset(
        {
            S.DUPLICATE,
            S.INFORMATIVE,
            S.NEEDS_MORE_INFO,
            S.NEW,
            S.NOT_APPLICABLE,
            S.RESOLVED,
            S.SPAM,
            S.TRIAGED,
        }
    ),
    S.TRIAGED: frozenset(
        {
            S.DUPLICATE,
            S.INFORMATIVE,
            S.NEEDS_MORE_INFO,
            S.NEW,
            S.NOT_APPLICABLE,
            S.PENDING_PROGRAM_REVIEW,
            S.RESOLVED,
            S.SPAM,
            S.TRIAGED,
        }
    ),
    S.NEEDS_MORE_INFO: frozenset(
        {
            S.DUPLICATE,
            S.INFORMATIVE,
            S.NEW,
            S.NOT_APPLICABLE,
            S.PENDING_PROGRAM_REVIEW,
            S.RESOLVED,
            S.SPAM,
            S.TRIAGED,
        }
    ),
    S.RESOLVED: frozenset({S.NEW, S.TRIAGED}),
    S.INFORMATIVE: frozenset({S.NEW, S.TRIAGED}),
    S.DUPLICATE: frozenset({S.NEW, S.TRIAGED}),
    S.NOT_APPLICABLE: frozenset({S.NEW, S.TRIAGED}),
    S.SPAM: frozenset({S.NEW, S.TRIAGED}),
    # The catalogue's garbled row; retests themselves move reports in and out of this state.
    S.RETESTING: frozenset({S.NEEDS_MORE_INFO, S.NEW, S.NOT_APPLICABLE}),
}

MESSAGE_REQUIRED = frozenset({S.NEEDS_MORE_INFO, S.INFORMATIVE, S.DUPLICATE})

ACTIVITY_TYPES: dict[ReportState, str] = {
    S.NEW: "activity-bug-new",
    S.PENDING_PROGRAM_REVIEW: "activity-bug-pending-program-review",
    S.TRIAGED: "activity-bug-triaged",
    S.NEEDS_MORE_INFO: "activity-bug-needs-more-info",
    S.RESOLVED: "activity-bug-resolved",
    S.NOT_APPLICABLE: "activity-bug-not-applicable",
    S.INFORMATIVE: "activity-bug-informative",
    S.DUPLICATE: "activity-bug-duplicate",
    S.SPAM: "activity-bug-spam",
    S.RETESTING: "activity-bug-retesting",
}


def main_state(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"


def activity_type(old: ReportState, new: ReportState) -> str:
    if old in CLOSED_STATES and new not in CLOSED_STATES:
        return "activity-bug-reopened"
    return ACTIVITY_TYPES[new]
