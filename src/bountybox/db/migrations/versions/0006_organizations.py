"""audit log, eligibility settings, member invitations, mail outbox, group inboxes

Revision ID: 0006
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bountybox.db.base

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = bountybox.db.base.UTCDateTime(timezone=True)


def id_column() -> sa.Column[int]:
    return sa.Column("id", ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "audit_log_items",
        id_column(),
        sa.Column("organization_id", ID, nullable=True),
        sa.Column("program_id", ID, nullable=True),
        sa.Column("source_user_id", ID, nullable=True),
        sa.Column("event", sa.String(120), nullable=False),
        sa.Column("source", sa.String(120), nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("log", sa.Text(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("user_agent", sa.String(500), nullable=True),
        sa.Column("source_ip", sa.String(64), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_audit_log_items_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_audit_log_items_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["source_user_id"], ["users.id"], name=op.f("fk_audit_log_items_source_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_items")),
    )
    op.create_index(
        "ix_audit_log_items_organization_id_id", "audit_log_items", ["organization_id", "id"]
    )
    op.create_index("ix_audit_log_items_program_id_id", "audit_log_items", ["program_id", "id"])
    op.create_table(
        "eligibility_settings",
        id_column(),
        sa.Column("organization_id", ID, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("allowed_domains", sa.JSON(), nullable=False),
        sa.Column("allowed_domains_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_eligibility_settings_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_settings")),
    )
    op.create_index(
        op.f("ix_eligibility_settings_organization_id"), "eligibility_settings", ["organization_id"]
    )
    op.create_table(
        "organization_invitations",
        id_column(),
        sa.Column("organization_id", ID, nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("invited_by_id", ID, nullable=False),
        sa.Column("organization_admin", sa.Boolean(), nullable=False),
        sa.Column("group_ids", sa.JSON(), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("accepted_at", UTC, nullable=True),
        sa.Column("cancelled_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_invitations_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_organization_invitations_invited_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization_invitations")),
    )
    op.create_index(
        op.f("ix_organization_invitations_organization_id"),
        "organization_invitations",
        ["organization_id"],
    )
    op.create_table(
        "mail_outbox",
        id_column(),
        sa.Column("organization_id", ID, nullable=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("to_address", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_mail_outbox_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_table(
        "group_inboxes",
        sa.Column("group_id", ID, nullable=False),
        sa.Column("inbox_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            ondelete="CASCADE",
            name=op.f("fk_group_inboxes_group_id_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"],
            ["inboxes.id"],
            ondelete="CASCADE",
            name=op.f("fk_group_inboxes_inbox_id_inboxes"),
        ),
        sa.PrimaryKeyConstraint("group_id", "inbox_id", name=op.f("pk_group_inboxes")),
    )
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("eligibility_setting_id", ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_groups_eligibility_setting_id_eligibility_settings"),
            "eligibility_settings",
            ["eligibility_setting_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.drop_constraint(
            op.f("fk_groups_eligibility_setting_id_eligibility_settings"), type_="foreignkey"
        )
        batch.drop_column("eligibility_setting_id")
    op.drop_table("group_inboxes")
    op.drop_table("mail_outbox")
    op.drop_table("organization_invitations")
    op.drop_table("eligibility_settings")
    op.drop_table("audit_log_items")
