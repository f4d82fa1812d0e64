"""bounty tables, campaign details, common responses, CVE requests, team messages, hacker
invitations, triage reviews, policy attachments

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import bountybox.db.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "bounty_tables",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("low_label", sa.String(length=100), nullable=False),
        sa.Column("medium_label", sa.String(length=100), nullable=False),
        sa.Column("high_label", sa.String(length=100), nullable=False),
        sa.Column("critical_label", sa.String(length=100), nullable=False),
        sa.Column("use_range", sa.Boolean(), nullable=False),
        sa.Column("updated_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_bounty_tables_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounty_tables")),
        sa.UniqueConstraint("program_id", name=op.f("uq_bounty_tables_program_id")),
    )
    op.create_table(
        "bounty_table_rows",
        sa.Column(
            "bounty_table_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("low", sa.BigInteger(), nullable=True),
        sa.Column("low_minimum", sa.BigInteger(), nullable=True),
        sa.Column("medium", sa.BigInteger(), nullable=True),
        sa.Column("medium_minimum", sa.BigInteger(), nullable=True),
        sa.Column("high", sa.BigInteger(), nullable=True),
        sa.Column("high_minimum", sa.BigInteger(), nullable=True),
        sa.Column("critical", sa.BigInteger(), nullable=True),
        sa.Column("critical_minimum", sa.BigInteger(), nullable=True),
        sa.Column("use_range", sa.Boolean(), nullable=False),
        sa.Column("updated_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["bounty_table_id"],
            ["bounty_tables.id"],
            name=op.f("fk_bounty_table_rows_bounty_table_id_bounty_tables"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounty_table_rows")),
    )
    op.create_table(
        "campaign_objectives",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("target_audience_description", sa.Text(), nullable=True),
        sa.Column("asset_types", sa.JSON(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_objectives")),
        sa.UniqueConstraint("key", name=op.f("uq_campaign_objectives_key")),
    )
    op.create_table(
        "campaign_details",
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "campaign_objective_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "bounty_table_row_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("structured_scope_ids", sa.JSON(), nullable=False),
        sa.Column("target_audience", sa.Boolean(), nullable=True),
        sa.Column("extended_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bounty_table_row_id"],
            ["bounty_table_rows.id"],
            name=op.f("fk_campaign_details_bounty_table_row_id_bounty_table_rows"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_details_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_objective_id"],
            ["campaign_objectives.id"],
            name=op.f("fk_campaign_details_campaign_objective_id_campaign_objectives"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_details")),
    )
    op.create_table(
        "common_responses",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_common_responses_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_common_responses")),
    )
    op.create_table(
        "cve_requests",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "weakness_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("request_type", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "vulnerability_discovered_at",
            bountybox.db.base.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("latest_state_change_reason", sa.Text(), nullable=True),
        sa.Column("cve_identifier", sa.String(length=40), nullable=True),
        sa.Column("auto_submit_on_publicly_disclosing_report", sa.Boolean(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_cve_requests_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_cve_requests_report_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["weakness_id"], ["weaknesses.id"], name=op.f("fk_cve_requests_weakness_id_weaknesses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cve_requests")),
    )
    op.create_table(
        "team_messages",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "sender_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("recipient_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_team_messages_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["users.id"], name=op.f("fk_team_messages_sender_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_messages")),
    )
    op.create_table(
        "hacker_invitations",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "recipient_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column(
            "invited_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("viewed_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invited_by_id"], ["users.id"], name=op.f("fk_hacker_invitations_invited_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_hacker_invitations_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_hacker_invitations_recipient_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hacker_invitations")),
    )
    op.create_table(
        "triage_reviews",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", bountybox.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_triage_reviews_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_triage_reviews_report_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_triage_reviews_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_reviews")),
    )
    op.create_table(
        "policy_attachments",
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "attachment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_policy_attachments_attachment_id_attachments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_policy_attachments_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("program_id", "attachment_id", name=op.f("pk_policy_attachments")),
    )
    op.create_index(
        op.f("ix_bounty_table_rows_bounty_table_id"),
        "bounty_table_rows",
        ["bounty_table_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_common_responses_program_id"), "common_responses", ["program_id"], unique=False
    )
    op.create_index(
        op.f("ix_cve_requests_program_id"), "cve_requests", ["program_id"], unique=False
    )
    op.create_index(
        op.f("ix_team_messages_program_id"), "team_messages", ["program_id"], unique=False
    )
    op.create_index(
        op.f("ix_hacker_invitations_program_id"), "hacker_invitations", ["program_id"], unique=False
    )
    op.create_index(
        op.f("ix_triage_reviews_program_id"), "triage_reviews", ["program_id"], unique=False
    )

    with op.batch_alter_table("program_integrations") as batch:
        batch.add_column(sa.Column("webhook_url", sa.String(length=1000), nullable=True))
    objectives = sa.table(
        "campaign_objectives",
        sa.column("key", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("category", sa.String),
        sa.column("target_audience_description", sa.Text),
        sa.column("asset_types", sa.JSON),
    )
    op.bulk_insert(objectives, CAMPAIGN_OBJECTIVES)


CAMPAIGN_OBJECTIVES: list[dict[str, Any]] = [
    {
        "key": "test_new_asset",
        "name": "Test a new asset",
        "description": "Draw attention to an asset that was just added to the scope.",
        "category": "newest_changes",
        "target_audience_description": "Hackers experienced with the asset's technology",
        "asset_types": ["URL", "WILDCARD", "API"],
    },
    {
        "key": "test_new_feature",
        "name": "Test a new feature",
        "description": "Focus testing on a feature released recently.",
        "category": "newest_changes",
        "target_audience_description": None,
        "asset_types": [],
    },
    {
        "key": "find_critical_vulnerabilities",
        "name": "Find critical vulnerabilities",
        "description": "Reward the most severe findings more.",
        "category": "severity",
        "target_audience_description": "Hackers with a record of critical findings",
        "asset_types": [],
    },
    {
        "key": "re_engage_hackers",
        "name": "Re-engage hackers",
        "description": "Bring hackers back to a program that has been quiet.",
        "category": "engagement",
        "target_audience_description": None,
        "asset_types": [],
    },
]


def downgrade() -> None:
    with op.batch_alter_table("program_integrations") as batch:
        batch.drop_column("webhook_url")
    op.drop_table("policy_attachments")
    op.drop_table("triage_reviews")
    op.drop_table("hacker_invitations")
    op.drop_table("team_messages")
    op.drop_table("cve_requests")
    op.drop_table("common_responses")
    op.drop_table("campaign_details")
    op.drop_table("campaign_objectives")
    op.drop_table("bounty_table_rows")
    op.drop_table("bounty_tables")
