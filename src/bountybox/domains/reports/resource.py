"""How a report and everything embedded in it renders: the API documents, the incremental feed and
(later) webhook payloads all come from these functions."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bountybox.core.jsonapi.render import Json, money, resource, ts, whole_money
from bountybox.core.markdown import html_of, render_markdown
from bountybox.db.base import loaded
from bountybox.db.models import (
    Activity,
    Address,
    Attachment,
    Bounty,
    Campaign,
    CustomFieldAttribute,
    CustomFieldValue,
    Group,
    Inbox,
    Program,
    RemediationGuidance,
    Report,
    ReportCollaborator,
    ReportParticipant,
    ReportSummary,
    Severity,
    StructuredScope,
    Swag,
    Trigger,
    User,
    Weakness,
)
from bountybox.db.preload import Preloader
from bountybox.domains.activities.repository import REF_MODELS
from bountybox.domains.programs.resource import (
    render_custom_field_attribute,
    render_group,
    render_program_small,
    render_structured_scope,
    render_weakness,
)
from bountybox.domains.reports.states import main_state
from bountybox.domains.users.resource import render_user

AttachmentUrl = Callable[[Attachment], str]
BARE_PROGRAM_ACTIVITIES = frozenset(
    {"activity-program-hacker-joined", "activity-program-hacker-left"}
)


@dataclass
class ReportBundle:
    """What a page of reports embeds, loaded in batches by the repository."""

    pre: Preloader
    attachment_url: AttachmentUrl
    bounties: dict[int, list[Bounty]] = field(default_factory=lambda: defaultdict(list))
    inboxes: dict[int, list[Inbox]] = field(default_factory=lambda: defaultdict(list))
    collaborators: dict[int, list[ReportCollaborator]] = field(
        default_factory=lambda: defaultdict(list)
    )
    custom_field_values: dict[int, list[CustomFieldValue]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # Only for full documents:
    activities: dict[int, list[Activity]] = field(default_factory=lambda: defaultdict(list))
    attachments: dict[int, list[Attachment]] = field(default_factory=lambda: defaultdict(list))
    activity_attachments: dict[int, list[Attachment]] = field(
        default_factory=lambda: defaultdict(list)
    )
    swags: dict[int, list[Swag]] = field(default_factory=lambda: defaultdict(list))
    summaries: dict[int, list[ReportSummary]] = field(default_factory=lambda: defaultdict(list))
    guidances: dict[int, list[RemediationGuidance]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # Objects many reports of a page share (their program, reporter, weakness, asset, inboxes)
    # are rendered once and referenced from each report: rendered objects are never mutated.
    rendered: dict[tuple[str, int], Json] = field(default_factory=dict)

    def once(self, kind: str, id_: int, render: Callable[[], Json]) -> Json:
        key = (kind, id_)
        done = self.rendered.get(key)
        if done is None:
            done = self.rendered[key] = render()
        return done


# ---- leaf objects ----


def render_severity(severity: Severity) -> Json:
    value = loaded(severity)
    attributes: Json = {
        "rating": value("rating"),
        "author_type": value("author_type"),
        "user_id": value("user_id"),
        "created_at": ts(value("created_at")),
    }
    if (score := value("score")) is not None:
        attributes["score"] = score
    metrics = value("metrics") or {}
    method = value("calculation_method")
    if method == "cvss_4_0":
        attributes["cvss_4_0_metric_set"] = dict(metrics)
    else:
        attributes.update(metrics)
    if method is not None and method != "manual":
        attributes["calculation_method"] = method
    if (vector := value("cvss_vector_string")) is not None:
        attributes["cvss_vector_string"] = vector
    if message := value("message"):
        attributes["message"] = message
    return resource("severity", value("id"), attributes)


def render_attachment(attachment: Attachment, url: AttachmentUrl) -> Json:
    return resource(
        "attachment",
        attachment.id,
        {
            "expiring_url": url(attachment),
            "created_at": ts(attachment.created_at),
            "file_name": attachment.file_name,
            "content_type": attachment.content_type,
            "file_size": attachment.file_size,
        },
    )


def render_bounty(bounty: Bounty) -> Json:
    return resource(
        "bounty",
        bounty.id,
        {
            "amount": money(bounty.amount_cents),
            "bonus_amount": money(bounty.bonus_amount_cents),
            "awarded_amount": money(bounty.amount_cents),
            "awarded_bonus_amount": money(bounty.bonus_amount_cents),
            "awarded_currency": bounty.currency,
            "created_at": ts(bounty.created_at),
        },
    )


def render_address(address: Address) -> Json:
    return resource(
        "address",
        address.id,
        {
            "name": address.name,
            "street": address.street,
            "city": address.city,
            "postal_code": address.postal_code,
            "state": address.state,
            "country": address.country,
            "created_at": ts(address.created_at),
            "tshirt_size": address.tshirt_size,
            "phone_number": address.phone_number,
        },
    )


def render_swag(swag: Swag, pre: Preloader) -> Json:
    relationships: Json = {}
    user = pre.get(User, swag.user_id)
    if user is not None:
        relationships["user"] = {"data": render_user(user)}
    address = pre.get(Address, swag.address_id)
    relationships["address"] = {"data": render_address(address) if address else None}
    return resource(
        "swag", swag.id, {"sent": swag.sent, "created_at": ts(swag.created_at)}, relationships
    )


def render_inbox(inbox: Inbox) -> Json:
    return resource("inbox", inbox.id, {"name": inbox.name, "type": inbox.type})


def render_custom_field_value(value: CustomFieldValue, pre: Preloader) -> Json:
    field_attribute = pre.get(CustomFieldAttribute, value.custom_field_attribute_id)
    return resource(
        "custom-field-value",
        value.id,
        {
            "value": value.value,
            "created_at": ts(value.created_at),
            "updated_at": ts(value.updated_at),
        },
        {
            "custom_field_attribute": {
                "data": render_custom_field_attribute(field_attribute) if field_attribute else None
            }
        },
    )


def render_summary(summary: ReportSummary, pre: Preloader) -> Json:
    user = pre.get(User, summary.user_id)
    return resource(
        "report-summary",
        summary.id,
        {
            "content": summary.content,
            "content_html": render_markdown(summary.content),
            "category": summary.category,
            "created_at": ts(summary.created_at),
            "updated_at": ts(summary.updated_at),
        },
        {"user": {"data": render_user(user) if user else None}, "attachments": {"data": []}},
    )


def render_campaign(campaign: Campaign) -> Json:
    return resource(
        "campaign",
        campaign.id,
        {
            "campaign_type": campaign.campaign_type,
            "researchers_information": campaign.researchers_information,
            "critical": campaign.critical,
            "high": campaign.high,
            "medium": campaign.medium,
            "low": campaign.low,
            "bounty_pool_limit": campaign.bounty_pool_limit,
            "start_date": ts(campaign.start_date),
            "end_date": ts(campaign.end_date),
            "status": campaign.status,
        },
    )


def render_collaborator(collaborator: ReportCollaborator, pre: Preloader) -> Json | None:
    user = pre.get(User, collaborator.user_id)
    if user is None:
        return None
    return {"weight": collaborator.weight, "user": render_user(user)}


# ---- activities ----


def render_ref(name: str, ref_id: int, pre: Preloader) -> Json | None:
    model = REF_MODELS.get(name)
    row = pre.get(model, ref_id) if model is not None else None
    if row is None:
        return None
    if isinstance(row, User):
        return render_user(row)
    if isinstance(row, Group):
        return render_group(row)
    if isinstance(row, Severity):
        return render_severity(row)
    if isinstance(row, Weakness):
        return render_weakness(row)
    if isinstance(row, StructuredScope):
        return render_structured_scope(row)
    if isinstance(row, Swag):
        return render_swag(row, pre)
    if isinstance(row, CustomFieldAttribute):
        return render_custom_field_attribute(row)
    if isinstance(row, Program):
        return render_program_small(row)
    return None


def render_actor(activity: Activity, pre: Preloader) -> Json | None:
    value = loaded(activity)
    if value("actor_is_program"):
        program = pre.get(Program, value("program_id"))
        return render_program_small(program) if program else None
    user = pre.get(User, value("actor_user_id"))
    return render_user(user) if user else None


def render_activity(
    activity: Activity,
    pre: Preloader,
    attachments: list[Attachment],
    attachment_url: AttachmentUrl,
    *,
    with_report_id: bool = False,
) -> Json:
    value = loaded(activity)
    message = value("message")
    type_ = value("type")
    attributes: Json = {
        "message": message,
        "message_html": html_of(value("message_html"), message),
        "created_at": ts(value("created_at")),
        "updated_at": ts(value("updated_at")),
        "internal": value("internal"),
    }
    attributes.update(value("extra") or {})
    if with_report_id:
        report_id = value("report_id")
        attributes["report_id"] = str(report_id) if report_id else None
    relationships: Json = {"actor": {"data": render_actor(activity, pre)}}
    for name, ref_id in (value("refs") or {}).items():
        rendered = render_ref(name, ref_id, pre)
        if rendered is not None:
            # HackerOne shows this one bare, without `data` (conventions §3.3); clients follow.
            bare = name == "program" and type_ in BARE_PROGRAM_ACTIVITIES
            relationships[name] = rendered if bare else {"data": rendered}
    if attachments or type_ == "activity-comment":
        relationships["attachments"] = {
            "data": [render_attachment(a, attachment_url) for a in attachments]
        }
    return resource(type_, value("id"), attributes, relationships)


# ---- the report ----

TIMESTAMP_ATTRIBUTES = (
    "created_at",
    "submitted_at",
    "triaged_at",
    "closed_at",
    "last_reporter_activity_at",
    "first_program_activity_at",
    "last_program_activity_at",
    "bounty_awarded_at",
    "swag_awarded_at",
    "disclosed_at",
    "reporter_agreed_on_going_public_at",
    "last_public_activity_at",
    "last_activity_at",
)


# A Monday at midnight UTC: business time is counted in whole weeks from it.
_MONDAY = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
_DAY_US = 86_400_000_000
_WEEK_US = 7 * _DAY_US


def _business_us_since_monday(at: dt.datetime) -> int:
    weeks, rest = divmod((at - _MONDAY) // dt.timedelta(microseconds=1), _WEEK_US)
    return weeks * 5 * _DAY_US + min(rest, 5 * _DAY_US)


def business_seconds(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    """Seconds between two instants without Saturdays and Sundays (UTC), as the SLA timers count."""
    if start is None or end is None or end < start:
        return None
    return (_business_us_since_monday(end) - _business_us_since_monday(start)) // 1_000_000


def report_attributes(report: Report) -> Json:
    value = loaded(report)
    text = value("vulnerability_information")
    state = value("state")
    attributes: Json = {
        "title": value("title"),
        "vulnerability_information": text,
        "vulnerability_information_html": html_of(value("vulnerability_information_html"), text),
        "main_state": main_state(state),
        "state": state,
    }
    for name in TIMESTAMP_ATTRIBUTES:
        attributes[name] = ts(value(name))
    submitted = value("submitted_at") or value("created_at")
    resolved_at = value("closed_at") if state == "resolved" else None
    original_report_id = value("original_report_id")
    attributes.update(
        {
            "issue_tracker_reference_id": value("issue_tracker_reference_id"),
            "issue_tracker_reference_url": value("issue_tracker_reference_url"),
            "cve_ids": list(value("cve_ids") or []),
            "source": value("source"),
            "report_tags": list(value("report_tags") or []),
            "original_report_id": str(original_report_id) if original_report_id else None,
            "hai_is_priority": value("hai_is_priority"),
            "hai_is_priority_reason": value("hai_is_priority_reason"),
            "ineligible_for_bounty": value("ineligible_for_bounty"),
            "timer_bounty_awarded_elapsed_time": business_seconds(
                submitted, value("bounty_awarded_at")
            ),
            "timer_bounty_awarded_miss_at": ts(value("timer_bounty_awarded_miss_at")),
            "timer_first_program_response_miss_at": ts(
                value("timer_first_program_response_miss_at")
            ),
            "timer_first_program_response_elapsed_time": business_seconds(
                submitted, value("first_program_activity_at")
            ),
            "timer_report_resolved_miss_at": ts(value("timer_report_resolved_miss_at")),
            "timer_report_resolved_elapsed_time": business_seconds(submitted, resolved_at),
            "timer_report_triage_miss_at": ts(value("timer_report_triage_miss_at")),
            "timer_report_triage_elapsed_time": business_seconds(submitted, value("triaged_at")),
        }
    )
    return attributes


def _assignee(report: Report, pre: Preloader) -> Json | None:
    if report.assignee_user_id is not None:
        user = pre.get(User, report.assignee_user_id)
        return render_user(user) if user else None
    if report.assignee_group_id is not None:
        group = pre.get(Group, report.assignee_group_id)
        return render_group(group) if group else None
    return None


def render_report(report: Report, bundle: ReportBundle, *, full: bool) -> Json:
    """A report document. Lists (`full=False`) leave out activities, attachments, swag and
    summaries, as HackerOne does; missing to-one relationships are left out, `campaign` is null."""
    pre = bundle.pre
    rid = report.id
    relationships: Json = {}
    reporter = pre.get(User, report.reporter_id)
    if reporter is not None:
        relationships["reporter"] = {
            "data": bundle.once("reporter", reporter.id, lambda: render_user(reporter, stats=True))
        }
    relationships["collaborators"] = {
        "data": [c for c in (render_collaborator(c, pre) for c in bundle.collaborators[rid]) if c]
    }
    assignee = _assignee(report, pre)
    if assignee is not None:
        relationships["assignee"] = {"data": assignee}
    program = pre.get(Program, report.program_id)
    relationships["program"] = {
        "data": bundle.once("program", program.id, lambda: render_program_small(program))
        if program
        else None
    }
    severity = pre.get(Severity, report.severity_id)
    if severity is not None:
        relationships["severity"] = {"data": render_severity(severity)}
    if full:
        relationships["swag"] = {"data": [render_swag(s, pre) for s in bundle.swags[rid]]}
        relationships["attachments"] = {
            "data": [render_attachment(a, bundle.attachment_url) for a in bundle.attachments[rid]]
        }
    weakness = pre.get(Weakness, report.weakness_id)
    if weakness is not None:
        relationships["weakness"] = {
            "data": bundle.once("weakness", weakness.id, lambda: render_weakness(weakness))
        }
    scope = pre.get(StructuredScope, report.structured_scope_id)
    if scope is not None:
        relationships["structured_scope"] = {
            "data": bundle.once("scope", scope.id, lambda: render_structured_scope(scope))
        }
    if full:
        campaign = pre.get(Campaign, report.campaign_id)
        relationships["campaign"] = {"data": render_campaign(campaign)} if campaign else None
        relationships["activities"] = {
            "data": [
                render_activity(a, pre, bundle.activity_attachments[a.id], bundle.attachment_url)
                for a in bundle.activities[rid]
            ]
        }
    relationships["bounties"] = {"data": [render_bounty(b) for b in bundle.bounties[rid]]}
    if full:
        relationships["summaries"] = {
            "data": [render_summary(s, pre) for s in bundle.summaries[rid]]
        }
    relationships["inboxes"] = {
        "data": [
            bundle.once("inbox", i.id, functools.partial(render_inbox, i))
            for i in bundle.inboxes[rid]
        ]
    }
    if full:
        trigger = pre.get(Trigger, report.triggered_pre_submission_trigger_id)
        if trigger is not None:
            relationships["triggered_pre_submission_trigger"] = {
                "data": resource("trigger", trigger.id, {"title": trigger.title})
            }
    relationships["custom_field_values"] = {
        "data": [render_custom_field_value(v, pre) for v in bundle.custom_field_values[rid]]
    }
    if full:
        relationships.update(_guidance(bundle.guidances[rid], pre))
    return resource("report", rid, report_attributes(report), relationships)


def _guidance(guidances: list[RemediationGuidance], pre: Preloader) -> Json:
    out: Json = {}
    for guidance in guidances:
        if guidance.kind == "automated":
            out["automated_remediation_guidance"] = {
                "data": resource(
                    "automated-remediation-guidance",
                    guidance.id,
                    {"reference": guidance.reference, "created_at": ts(guidance.created_at)},
                )
            }
        else:
            author = pre.get(User, guidance.author_id)
            out["custom_remediation_guidance"] = {
                "data": resource(
                    "custom-remediation-guidance",
                    guidance.id,
                    {"message": guidance.message, "created_at": ts(guidance.created_at)},
                    {"author": {"data": render_user(author) if author else None}},
                )
            }
    return out


def bounty_activity_extra(amount_cents: int, bonus_cents: int) -> dict[str, Any]:
    return {"bounty_amount": whole_money(amount_cents), "bonus_amount": whole_money(bonus_cents)}


def render_participant(participant: ReportParticipant) -> Json:
    return resource(
        "report-participant",
        participant.id,
        {
            "report_id": str(participant.report_id),
            "created_at": ts(participant.created_at),
            "updated_at": ts(participant.updated_at),
        },
    )
