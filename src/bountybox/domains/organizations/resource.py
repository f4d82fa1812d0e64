"""How organization objects render: members, groups, invitations, settings, the audit log."""

from __future__ import annotations

import orjson

from bountybox.core.jsonapi.render import Json, resource, ts
from bountybox.db.models import (
    AuditLogItem,
    EligibilitySetting,
    Group,
    Inbox,
    OrganizationInvitation,
    OrganizationMember,
    Program,
    User,
)
from bountybox.domains.programs.resource import render_program_small
from bountybox.domains.reports.resource import render_inbox
from bountybox.domains.users.resource import render_user


def render_member_group(group: Group) -> Json:
    return resource(
        "organization-member-group",
        group.id,
        {
            "organization_id": str(group.organization_id),
            "eligibility_setting_id": str(group.eligibility_setting_id)
            if group.eligibility_setting_id
            else None,
            "name": group.name,
            "permissions": list(group.permissions),
            "created_at": ts(group.created_at),
            "updated_at": ts(group.updated_at),
            "migrated_at": None,
        },
    )


def render_organization_member(
    member: OrganizationMember, user: User, groups: list[Group], *, system: bool
) -> Json:
    return resource(
        "organization-member",
        member.id,
        {
            "organization_id": str(member.organization_id),
            "user_id": str(user.id),
            "email": user.email,
            "organization_admin": member.organization_admin,
            "created_at": ts(member.created_at),
            "updated_at": ts(member.updated_at),
            "last_sign_in_at": ts(member.last_sign_in_at),
            "system": system,
            "username": user.username,
        },
        {"organization_member_groups": {"data": [render_member_group(g) for g in groups]}},
    )


def render_group_detail(
    group: Group, members: list[Json], programs: list[Program], inboxes: list[Inbox]
) -> Json:
    rendered = render_member_group(group)
    rendered["relationships"] = {
        "organization_members": {"data": members},
        "programs": {"data": [render_program_small(p) for p in programs]},
        "inboxes": {"data": [render_inbox(i) for i in inboxes]},
    }
    return rendered


def render_eligibility_setting(setting: EligibilitySetting) -> Json:
    return resource(
        "eligibility-setting",
        setting.id,
        {
            "organization_id": str(setting.organization_id),
            "name": setting.name,
            "allowed_domains": list(setting.allowed_domains),
            "allowed_domains_enabled": setting.allowed_domains_enabled,
            "created_at": ts(setting.created_at),
            "updated_at": ts(setting.updated_at),
        },
    )


def render_invitation(invitation: OrganizationInvitation) -> Json:
    return resource(
        "invitation-organization-member",
        invitation.id,
        {
            "email": invitation.email,
            "username": None,
            "invited_by_id": str(invitation.invited_by_id),
            "recipient_id": None,
            "invitation_data": {
                "notify": invitation.notify,
                "organization_admin": invitation.organization_admin,
                "organization_member_group_ids": [str(g) for g in invitation.group_ids],
            },
            "expires_at": ts(invitation.expires_at),
            "created_at": ts(invitation.created_at),
            "updated_at": ts(invitation.updated_at),
        },
    )


def render_audit_item(item: AuditLogItem, user: User | None, *, parameters_as_string: bool) -> Json:
    """The program audit log carries `parameters` as a JSON-encoded string, the organization one as
    an object; `source_user` is not wrapped in `data` (both as documented)."""
    parameters: object = item.parameters
    if parameters_as_string:
        parameters = orjson.dumps(item.parameters).decode()
    return resource(
        "audit-log-item",
        item.id,
        {
            "log": item.log,
            "event": item.event,
            "source": item.source,
            "subject": item.subject,
            "user_agent": item.user_agent,
            "country": item.country,
            "parameters": parameters,
            "created_at": ts(item.created_at),
        },
        {"source_user": render_user(user) if user else None},
    )
