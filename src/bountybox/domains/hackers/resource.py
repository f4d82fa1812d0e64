"""How the hacker API renders: programs with the caller's statistics, reports as a hacker sees
them (the team's internal data left out), hacktivity items, earnings, flat payouts and report
intents. Users, weaknesses, scopes, severities, bounties, attachments, activities, summaries and
swag come from the shared renderers, so the customer and hacker sides cannot drift apart."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from bountybox.core.jsonapi.render import Json, resource, ts
from bountybox.db.models import (
    Bounty,
    HackerPayout,
    Program,
    Report,
    ReportIntent,
    ReportIntentAttachment,
    Severity,
    StructuredScope,
    User,
    Weakness,
)
from bountybox.db.preload import Preloader
from bountybox.domains.hackers.repository import HacktivityBundle, ProgramStats
from bountybox.domains.hackers.schemas import EarningType
from bountybox.domains.programs.resource import (
    render_program_small,
    render_structured_scope,
    render_weakness,
)
from bountybox.domains.reports.resource import (
    TIMESTAMP_ATTRIBUTES,
    ReportBundle,
    render_activity,
    render_attachment,
    render_bounty,
    render_severity,
    render_summary,
    render_swag,
)
from bountybox.domains.reports.service import IMPACT_SEPARATOR
from bountybox.domains.users.resource import render_user

# HackerOne's program states as hackers see them: public programs are in "public_mode", private
# ones "soft_launched".
PROGRAM_STATES = {"public": "public_mode", "private": "soft_launched"}
DEFAULT_PROGRAM_PICTURE = "/assets/global-elements/add-team.png"
ASSISTANT_JOBS = (
    "assistant_response",
    "revise_intent",
    "analyze_asset_type",
    "analyze_vulnerability_presence",
    "analyze_bug_type",
    "determine_asset",
    "analyze_cif",
    "analyze_bug_class_completeness",
    "assistant_summary",
)
METADATA_KEYS = ("bug_class", "http_method", "vulnerable_url", "vulnerable_parameter")


def dollars(cents: int) -> float:
    """Hacker-side money (earnings, payouts, balance) is a JSON number, not a string."""
    return cents / 100


# ---- programs ----


def render_hacker_program(
    program: Program, stats: ProgramStats, *, scopes: list[StructuredScope] | None = None
) -> Json:
    """A program as hackers list it; the detail adds its structured scopes."""
    attributes: Json = {
        "handle": program.handle,
        "name": program.name,
        "currency": program.currency.lower(),
        "policy": program.policy,
        "profile_picture": DEFAULT_PROGRAM_PICTURE,
        "submission_state": "open",
        "triage_active": None,
        "state": PROGRAM_STATES.get(program.state, program.state),
        "started_accepting_at": ts(program.created_at),
        "number_of_reports_for_user": stats.reports,
        "number_of_valid_reports_for_user": stats.valid_reports,
        "bounty_earned_for_user": dollars(stats.earned_cents),
        "last_invitation_accepted_at_for_user": ts(stats.allowed_at),
        "bookmarked": False,
        "allows_bounty_splitting": False,
        "offers_bounties": program.offers_bounties,
        "open_scope": False,
        "fast_payments": False,
        "gold_standard_safe_harbor": False,
        "severity_calculation_methods": list(program.severity_calculation_methods),
    }
    relationships = None
    if scopes is not None:
        relationships = {
            "structured_scopes": {"data": [render_structured_scope(s) for s in scopes]}
        }
    return resource("program", program.id, attributes, relationships)


# ---- reports ----


def split_impact(text: str) -> tuple[str, str | None]:
    """Reports keep the impact appended to the write-up under "## Impact" (what the team sees,
    as HackerOne shows it); the hacker side gives the two back separately."""
    body, separator, impact = text.rpartition(IMPACT_SEPARATOR)
    return (body, impact) if separator else (text, None)


def participants_of(report: Report, bundle: ReportBundle) -> set[int]:
    return {report.reporter_id, *(c.user_id for c in bundle.collaborators[report.id])}


def render_hacker_report(
    report: Report, bundle: ReportBundle, *, viewer_id: int, full: bool
) -> Json:
    """A report as a hacker sees it. The write-up, attachments and swag only go to the reporter
    and collaborators; activities only when public (and, for others, only when the disclosure
    was full); nothing of the team's triage (assignee, inboxes, tags, custom fields, internal
    notes, SLA timers)."""
    pre = bundle.pre
    rid = report.id
    participant = viewer_id in participants_of(report, bundle)
    attributes: Json = {"title": report.title, "state": report.state, "substate": report.state}
    if participant:
        text, impact = split_impact(report.vulnerability_information)
        attributes["vulnerability_information"] = text
        if full:
            attributes["impact"] = impact
    for name in TIMESTAMP_ATTRIBUTES:
        attributes[name] = ts(getattr(report, name))
    # The live hacker API never fills it; the specific *_activity_at timestamps carry the time.
    attributes["last_activity_at"] = None
    attributes["cve_ids"] = list(report.cve_ids or [])

    relationships: Json = {}
    program = pre.get(Program, report.program_id)
    relationships["program"] = {"data": render_program_small(program) if program else None}
    reporter = pre.get(User, report.reporter_id)
    if reporter is not None:
        relationships["reporter"] = {"data": render_user(reporter, stats=True)}
    if full:
        weakness = pre.get(Weakness, report.weakness_id)
        if weakness is not None:
            relationships["weakness"] = {"data": render_weakness(weakness)}
    severity = pre.get(Severity, report.severity_id)
    if severity is not None:
        relationships["severity"] = {"data": render_severity(severity)}
    scope = pre.get(StructuredScope, report.structured_scope_id)
    if scope is not None:
        relationships["structured_scope"] = {"data": render_structured_scope(scope)}
    if not full:
        return resource("report", rid, attributes, relationships)
    relationships["bounties"] = {"data": [render_bounty(b) for b in bundle.bounties[rid]]}
    relationships["swag"] = {
        "data": [_swag(s, pre, viewer_id) for s in bundle.swags[rid]] if participant else []
    }
    relationships["attachments"] = {
        "data": [render_attachment(a, bundle.attachment_url) for a in bundle.attachments[rid]]
        if participant
        else []
    }
    # A limited ("no-content") disclosure shows the summary, not the conversation.
    timeline = participant or report.disclosure_substate != "no-content"
    relationships["activities"] = {
        "data": [
            render_activity(a, pre, bundle.activity_attachments[a.id], bundle.attachment_url)
            for a in bundle.activities[rid]
            if not a.internal and timeline
        ]
    }
    relationships["summaries"] = {"data": [render_summary(s, pre) for s in bundle.summaries[rid]]}
    return resource("report", rid, attributes, relationships)


def _swag(swag: Any, pre: Preloader, viewer_id: int) -> Json:
    """A shipping address is only ever shown to the hacker it belongs to."""
    rendered = render_swag(swag, pre)
    if swag.user_id != viewer_id:
        rendered["relationships"]["address"] = {"data": None}
    return rendered


# ---- hacktivity ----


def action_name(activity_type: str) -> str:
    """`activity-bug-resolved` -> `Activities::BugResolved`, as HackerOne names them."""
    words = activity_type.removeprefix("activity-").split("-")
    return "Activities::" + "".join(w.capitalize() for w in words)


def render_hacktivity_item(report: Report, bundle: HacktivityBundle, *, root_url: str) -> Json:
    """Hacktivity items carry an integer id and un-identified program and reporter objects, as
    the live API sends them."""
    pre = bundle.pre
    program = pre.get(Program, report.program_id)
    reporter = pre.get(User, report.reporter_id)
    weakness = pre.get(Weakness, report.weakness_id)
    severity = pre.get(Severity, report.severity_id)
    latest = bundle.latest.get(report.id)
    total = bundle.totals.get(report.id)
    attributes: Json = {
        "title": report.title,
        "substate": report.state,
        "url": f"{root_url}/v1/hackers/reports/{report.id}",
        "disclosed_at": ts(report.disclosed_at),
        "submitted_at": ts(report.submitted_at),
        "disclosed": report.disclosed_at is not None,
        "cve_ids": list(report.cve_ids or []),
        "cwe": weakness.name if weakness else None,
        "severity_rating": severity.rating if severity else None,
        "votes": 0,
        "total_awarded_amount": dollars(total) if total is not None else None,
        "latest_disclosable_action": action_name(latest.type) if latest else None,
        "latest_disclosable_activity_at": ts(latest.created_at if latest else report.disclosed_at),
    }
    relationships: Json = {}
    if reporter is not None:
        relationships["reporter"] = {
            "data": {
                "type": "user",
                "attributes": {"username": reporter.username, "name": reporter.name},
            }
        }
    if program is not None:
        relationships["program"] = {
            "data": {
                "type": "program",
                "attributes": {
                    "handle": program.handle,
                    "name": program.name,
                    "currency": program.currency.lower(),
                    "offers_bounties": program.offers_bounties,
                    "url": f"{root_url}/v1/hackers/programs/{program.handle}",
                },
            }
        }
    summary = bundle.summaries.get(report.id)
    if summary is not None:
        relationships["report_generated_content"] = {
            "data": resource(
                "report_generated_content", summary.id, {"hacktivity_summary": summary.content}
            )
        }
    return {
        "id": report.id,
        "type": "hacktivity_item",
        "attributes": attributes,
        "relationships": relationships,
    }


# ---- payments ----


def render_balance(cents: int) -> Json:
    return {"data": {"balance": dollars(cents)}}


def render_earning(row: RowMapping, pre: Preloader) -> Json:
    program = pre.get(Program, row["program_id"])
    report = pre.get(Report, row["report_id"])
    report_data = resource("report", report.id, {"title": report.title}) if report else None
    relationships: Json = {
        "program": {
            "data": resource(
                "program",
                program.id,
                {
                    "handle": program.handle,
                    "name": program.name,
                    "currency": program.currency.lower(),
                },
            )
            if program
            else None
        }
    }
    if row["kind"] == "bounty":
        bounty = pre.get(Bounty, row["bounty_id"])
        bounty_data = render_bounty(bounty) if bounty else None
        if bounty_data is not None:
            bounty_data["relationships"] = {"report": {"data": report_data}}
        relationships["bounty"] = {"data": bounty_data}
        earning_type = EarningType.BOUNTY
    else:
        retest = resource("report-retest", row["id"], {}, {"report": {"data": report_data}})
        relationships["report_retest_user"] = {
            "data": resource(
                "report-retest-user",
                row["id"],
                {"completed_at": ts(row["created_at"])},
                {"report_retest": {"data": retest}},
            )
        }
        earning_type = EarningType.RETEST
    return resource(
        earning_type.value,
        row["id"],
        {"amount": dollars(int(row["cents"])), "created_at": ts(row["created_at"])},
        relationships,
    )


def render_payout(payout: HackerPayout) -> Json:
    """Payout items are flat: no id, type or attributes (hacker-endpoints.md §3.12)."""
    return {
        "amount": dollars(payout.amount_cents),
        "paid_out_at": ts(payout.paid_out_at),
        "reference": payout.reference,
        "payout_provider": payout.payout_provider,
        "status": payout.status,
    }


# ---- report intents ----


def render_intent_attachment(attachment: ReportIntentAttachment, url: str) -> Json:
    return resource(
        "attachment",
        attachment.id,
        {
            "expiring_url": url,
            "created_at": ts(attachment.created_at),
            "file_name": attachment.file_name,
            "content_type": attachment.content_type,
            "file_size": attachment.file_size,
        },
    )


def render_report_intent(
    intent: ReportIntent,
    program: Program,
    attachments: list[Json],
    *,
    before_assistant: bool = False,
) -> Json:
    """`before_assistant` renders the intent as it was when the assistant's jobs started: what
    HackerOne answers a create or an update with (its jobs run asynchronously there)."""
    if before_assistant:
        title: str | None = f"Report Intent #{intent.id}"
        state = "pending"
        jobs = dict.fromkeys(ASSISTANT_JOBS, "pending")
        metadata: dict[str, Any] = {}
    else:
        title = intent.title
        state = intent.state
        jobs = dict(intent.job_status)
        metadata = dict(intent.extracted)
    relationships: Json = {
        "program": {"data": resource("program", program.id, {"handle": program.handle})},
        "attachments": {"data": attachments},
    }
    if intent.report_id is not None:
        relationships["report"] = {"data": {"id": str(intent.report_id), "type": "report"}}
    return resource(
        "report-intent",
        intent.id,
        {
            "title": title,
            "description": intent.description,
            "state": state,
            "has_failing_jobs": "failed" in jobs.values(),
            "has_canceled_jobs": "canceled" in jobs.values(),
            "job_status_by_type": jobs,
            "metadata": {key: metadata.get(key) for key in METADATA_KEYS},
            "created_at": ts(intent.created_at),
            "updated_at": ts(intent.updated_at),
        },
        relationships,
    )
