"""Request bodies of the organization endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from bountybox.core.auth import OrganizationPermission

DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Email = Annotated[str, StringConstraints(max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class InvitationAttributes(_Body):
    email: Email
    organization_member_group_ids: list[DbId] = Field(default_factory=list, max_length=100)
    organization_admin: StrictBool = False
    notify: StrictBool = True


class InvitationData(_Body):
    type: Literal["invitation-organization-member"] = "invitation-organization-member"
    attributes: InvitationAttributes


class InvitationCreate(_Body):
    data: InvitationData


class Ref(_Body):
    id: DbId
    type: str | None = None


class RefList(_Body):
    data: list[Ref] = Field(max_length=1000)


class GroupRelationships(_Body):
    organization_members: RefList | None = None
    programs: RefList | None = None
    inboxes: RefList | None = None


class GroupCreateAttributes(_Body):
    name: Name
    permissions: list[OrganizationPermission] = Field(max_length=20)
    eligibility_setting_id: DbId | None = None


class GroupUpdateAttributes(_Body):
    name: Name | None = None
    permissions: list[OrganizationPermission] | None = Field(default=None, max_length=20)
    eligibility_setting_id: DbId | None = None


class GroupCreateData(_Body):
    type: Literal["organization-member-group"] = "organization-member-group"
    attributes: GroupCreateAttributes
    relationships: GroupRelationships = Field(default_factory=GroupRelationships)


class GroupUpdateData(_Body):
    type: Literal["organization-member-group"] = "organization-member-group"
    attributes: GroupUpdateAttributes = Field(default_factory=GroupUpdateAttributes)
    relationships: GroupRelationships = Field(default_factory=GroupRelationships)


class GroupCreate(_Body):
    data: GroupCreateData


class GroupUpdate(_Body):
    data: GroupUpdateData


class MemberAttributes(_Body):
    organization_admin: StrictBool | None = None


class MemberRelationships(_Body):
    organization_member_groups: RefList | None = None


class MemberUpdateData(_Body):
    type: Literal["organization-member"] = "organization-member"
    attributes: MemberAttributes = Field(default_factory=MemberAttributes)
    relationships: MemberRelationships = Field(default_factory=MemberRelationships)


class MemberUpdate(_Body):
    data: MemberUpdateData
