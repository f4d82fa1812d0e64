"""How programs and the objects they define render."""

from __future__ import annotations

from bountybox.core.jsonapi.render import Json, resource, ts
from bountybox.db.models import (
    CustomFieldAttribute,
    Group,
    Organization,
    Program,
    StructuredScope,
    User,
    Weakness,
)
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
