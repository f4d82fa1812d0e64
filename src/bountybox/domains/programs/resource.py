"""How programs and the objects they define render."""

from __future__ import annotations

from bountybox.core.jsonapi.render import Json, money, resource, ts
from bountybox.db.models import (
    BountyTable,
    BountyTableRow,
    Campaign,
    CampaignDetail,
    CampaignObjective,
    CommonResponse,
    CustomFieldAttribute,
    CveRequest,
    Group,
    HackerInvitation,
    Organization,
    OrganizationMember,
    Program,
    ProgramHacker,
    ProgramIntegration,
    ScopeExclusion,
    StructuredScope,
    TeamMessage,
    TriageReview,
    User,
    Weakness,
)
from bountybox.domains.programs.schemas import HistoryEntry
from bountybox.domains.users.resource import render_user


def render_program_small(program: Program) -> Json:
    return resource(
        "program",
        program.id,
        {
            "handle": program.handle,
            "created_at": ts(program.created_at),
            "updated_at": ts(program.updated_at),
        },
    )


def render_group(group: Group) -> Json:
    return resource(
        "group",
        group.id,
        {
            "name": group.name,
            "created_at": ts(group.created_at),
            "permissions": list(group.permissions),
        },
    )


def render_organization(organization: Organization) -> Json:
    return resource(
        "organization",
        organization.id,
        {
            "handle": organization.handle,
            "created_at": ts(organization.created_at),
            "updated_at": ts(organization.updated_at),
        },
    )


def render_weakness(weakness: Weakness) -> Json:
    return resource(
        "weakness",
        weakness.id,
        {
            "name": weakness.name,
            "description": weakness.description,
            "external_id": weakness.external_id,
            "created_at": ts(weakness.created_at),
        },
    )


def render_structured_scope(scope: StructuredScope) -> Json:
    attributes: Json = {
        "asset_identifier": scope.asset_identifier,
        "asset_type": scope.asset_type,
        "confidentiality_requirement": scope.confidentiality_requirement,
        "integrity_requirement": scope.integrity_requirement,
        "availability_requirement": scope.availability_requirement,
        "max_severity": scope.max_severity,
        "created_at": ts(scope.created_at),
        "updated_at": ts(scope.updated_at),
        "instruction": scope.instruction,
        "eligible_for_bounty": scope.eligible_for_bounty,
        "eligible_for_submission": scope.eligible_for_submission,
        "reference": scope.reference,
    }
    if scope.archived_at is not None:
        attributes["archived_at"] = ts(scope.archived_at)
    return resource("structured-scope", scope.id, attributes)


def render_custom_field_attribute(field: CustomFieldAttribute) -> Json:
    return resource(
        "custom-field-attribute",
        field.id,
        {
            "field_type": field.field_type,
            "label": field.label,
            "internal": field.internal,
            "required": field.required,
            "error_message": field.error_message,
            "helper_text": field.helper_text,
            "configuration": field.configuration,
            "checkbox_text": field.checkbox_text,
            "regex": field.regex,
            "created_at": ts(field.created_at),
            "updated_at": ts(field.updated_at),
            "archived_at": ts(field.archived_at),
        },
    )


def render_member(
    member_id: int, user: User, permissions: list[str], created_at: str | None
) -> Json:
    return resource(
        "member",
        member_id,
        {"permissions": permissions, "created_at": created_at},
        {"user": {"data": render_user(user)}},
    )


def render_program(
    program: Program,
    *,
    organization: Organization,
    groups: list[Group],
    members: list[Json],
    custom_field_attributes: list[CustomFieldAttribute],
    policy_attachments: list[Json],
) -> Json:
    return resource(
        "program",
        program.id,
        {
            "handle": program.handle,
            "policy": program.policy,
            "created_at": ts(program.created_at),
            "updated_at": ts(program.updated_at),
            "severity_calculation_methods": list(program.severity_calculation_methods),
        },
        {
            "groups": {"data": [render_group(g) for g in groups]},
            "members": {"data": members},
            "organization": {"data": render_organization(organization)},
            "custom_field_attributes": {
                "data": [render_custom_field_attribute(f) for f in custom_field_attributes]
            },
            "policy_attachments": {"data": policy_attachments},
        },
    )


def render_policy_program(program: Program) -> Json:
    return resource(
        "program",
        program.id,
        {
            "handle": program.handle,
            "policy": program.policy,
            "created_at": ts(program.created_at),
            "updated_at": ts(program.updated_at),
        },
    )


def render_balance(program: Program, balance_cents: int) -> Json:
    return resource("program-balance", program.id, {"balance": money(balance_cents)})


def render_scope_exclusion(exclusion: ScopeExclusion) -> Json:
    return resource(
        "scope-exclusion",
        exclusion.id,
        {
            "category": exclusion.category,
            "details": exclusion.details,
            "created_at": ts(exclusion.created_at),
            "updated_at": ts(exclusion.updated_at),
        },
    )


def render_common_response(response: CommonResponse) -> Json:
    return resource(
        "common-response", response.id, {"title": response.title, "message": response.message}
    )


def render_integration(integration: ProgramIntegration, gid: str) -> Json:
    """Not JSON:API: `{id, name, group_type}` as documented."""
    return {"id": gid, "name": integration.name, "group_type": integration.group_type}


def render_program_member(member: OrganizationMember, user: User, groups: list[Group]) -> Json:
    return resource(
        "organization-member",
        member.id,
        {"created_at": ts(member.created_at), "organization_admin": member.organization_admin},
        {
            "user": {"data": render_user(user)},
            "organization_member_groups": {
                "data": [
                    resource(
                        "organization-member-group",
                        g.id,
                        {"name": g.name, "permissions": list(g.permissions)},
                    )
                    for g in groups
                ]
            },
        },
    )


def render_thanks(user: User, total: int, recognized: int) -> Json:
    return {
        "type": "thanks-item",
        "attributes": {
            "total_report_count": total,
            "reputation": user.reputation or 0,
            "recognized_report_count": recognized,
            "username": user.username,
            "user_id": str(user.id),
        },
    }


def render_triage_review(review: TriageReview, user: User | None, report_title: str | None) -> Json:
    return resource(
        "triage-review",
        review.id,
        {"comment": review.comment, "rating": review.rating},
        {
            "user": {
                "data": resource("user", user.id, {"username": user.username}) if user else None
            },
            "report": {"data": resource("report", review.report_id, {"title": report_title})},
        },
    )


def render_bounty_table(table: BountyTable, rows: list[BountyTableRow]) -> Json:
    return resource(
        "bounty-table",
        table.id,
        {
            "description": table.description,
            "low_label": table.low_label,
            "medium_label": table.medium_label,
            "high_label": table.high_label,
            "critical_label": table.critical_label,
            "use_range": table.use_range,
            "updated_at": ts(table.updated_at),
        },
        {"bounty_table_rows": {"data": [render_bounty_table_row(r) for r in rows]}},
    )


def render_bounty_table_row(row: BountyTableRow) -> Json:
    return resource(
        "bounty-table-row",
        row.id,
        {
            "name": row.name,
            "description": row.description,
            "low": row.low,
            "low_minimum": row.low_minimum,
            "medium": row.medium,
            "medium_minimum": row.medium_minimum,
            "high": row.high,
            "high_minimum": row.high_minimum,
            "critical": row.critical,
            "critical_minimum": row.critical_minimum,
            "use_range": row.use_range,
            "updated_at": ts(row.updated_at),
        },
    )


def render_team_message(message: TeamMessage) -> Json:
    return resource(
        "team-message", message.id, {"state": message.state, "created_at": ts(message.created_at)}
    )


def render_hacker_invitation(
    invitation: HackerInvitation, recipient: User | None, invited_by: User | None
) -> Json:
    """`recipient` and `invited_by` are not wrapped in `data`, as in the documented example."""
    state = invitation.state
    return resource(
        "invitation-hacker",
        invitation.id,
        {
            "state": state,
            "created_at": ts(invitation.created_at),
            "viewed_at": ts(invitation.viewed_at),
            "accepted_at": ts(invitation.accepted_at),
            "expires_at": ts(invitation.expires_at),
            "updated_at": ts(invitation.updated_at),
            "rejected_at": ts(invitation.rejected_at),
            "cancelled_at": ts(invitation.cancelled_at),
        },
        {
            "recipient": render_hacker_profile(recipient) if recipient else None,
            "invited_by": render_user(invited_by) if invited_by else None,
        },
    )


def render_hacker_profile(user: User) -> Json:
    rendered = render_user(user, stats=True)
    rendered["attributes"].update(
        bio=user.bio,
        website=user.website,
        location=user.location,
        hackerone_triager=user.hackerone_triager,
    )
    return rendered


def render_cve_request(request: CveRequest, team_handle: str, weakness_name: str | None) -> Json:
    return resource(
        "cve-request",
        request.id,
        {
            "request_type": request.request_type,
            "team_handle": team_handle,
            "state": request.state,
            "versions": list(request.versions),
            "metrics": list(request.metrics),
            "products": list(request.products),
            "references": list(request.references),
            "report_id": str(request.report_id) if request.report_id else None,
            "weakness_name": weakness_name,
            "description": request.description,
            "latest_state_change_reason": request.latest_state_change_reason,
            "cve_identifier": request.cve_identifier,
            "auto_submit_on_publicly_disclosing_report": (
                request.auto_submit_on_publicly_disclosing_report
            ),
            "vulnerability_discovered_at": request.vulnerability_discovered_at.date().isoformat(),
            "created_at": ts(request.created_at),
            "updated_at": ts(request.updated_at),
        },
    )


def render_campaign_detail(
    campaign: Campaign,
    detail: CampaignDetail | None,
    objective: CampaignObjective | None,
    scopes: list[StructuredScope],
    row: BountyTableRow | None,
    *,
    status: str,
    stats: dict[str, object],
) -> Json:
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
            "status": status,
            "target_audience": detail.target_audience if detail else None,
            "extended_at": ts(detail.extended_at) if detail else None,
            **stats,
        },
        {
            "campaign_objective": {
                "data": resource(
                    "campaign-objective",
                    objective.id,
                    {
                        "name": objective.name,
                        "description": objective.description,
                        "category": objective.category,
                        "key": objective.key,
                        "target_audience_description": objective.target_audience_description,
                        "asset_types": list(objective.asset_types),
                    },
                )
                if objective
                else None
            },
            "structured_scopes": {"data": [render_structured_scope(s) for s in scopes]},
            "bounty_table_row": {
                "data": resource(
                    "bounty-table-row",
                    row.id,
                    {
                        "low": row.low,
                        "medium": row.medium,
                        "high": row.high,
                        "critical": row.critical,
                    },
                )
                if row
                else None
            },
        },
    )


def render_allowed_reporter(hacker: ProgramHacker, user: User) -> Json:
    """`id` is the user id. bountybox verifies nothing about hackers, so every check is false; the
    email alias is the platform-side address of the hacker, not their private email."""
    return resource(
        "allowed_reporter",
        user.id,
        {
            "username": user.username,
            "email_alias": f"{user.username}@hackers.bountybox.invalid",
            "rules_of_engagement_signed": False,
            "identity_verified": False,
            "background_checked": False,
            "cleared": False,
            "citizenship_verified": False,
            "residency_verified": False,
            "created_at": ts(hacker.created_at),
        },
    )


def render_history_entry(entry: HistoryEntry, user: User) -> Json:
    """`user` is not wrapped in `data`, as in the documented example."""
    return resource(
        "allowed-reporter-history-entry",
        entry.id if entry.id > 0 else f"member-{-entry.id}",
        {
            "created_at": ts(entry.created_at),
            "invited_at": ts(entry.invited_at),
            "accepted_at": ts(entry.accepted_at),
            "left_at": ts(entry.left_at),
            "removed_at": ts(entry.removed_at),
        },
        {"user": render_hacker_profile(user)},
    )
