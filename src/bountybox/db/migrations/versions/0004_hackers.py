"""hacker API: allowed reporters, scope exclusions, report intents and their files, payouts

Revision ID: 0004
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bountybox.db.base

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = bountybox.db.base.UTCDateTime(timezone=True)


def id_column() -> sa.Column[int]:
    return sa.Column("id", ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "program_hackers",
        sa.Column("program_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            ondelete="CASCADE",
            name=op.f("fk_program_hackers_program_id_programs"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            ondelete="CASCADE",
            name=op.f("fk_program_hackers_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("program_id", "user_id", name=op.f("pk_program_hackers")),
    )
    op.create_index(op.f("ix_program_hackers_user_id"), "program_hackers", ["user_id"])
    op.create_table(
        "scope_exclusions",
        id_column(),
        sa.Column("program_id", ID, nullable=False),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("details", sa.String(300), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_scope_exclusions_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scope_exclusions")),
    )
    op.create_index(op.f("ix_scope_exclusions_program_id"), "scope_exclusions", ["program_id"])
    op.create_table(
        "report_intents",
        id_column(),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("program_id", ID, nullable=False),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("extracted", sa.JSON(), nullable=False),
        sa.Column("job_status", sa.JSON(), nullable=False),
        sa.Column("report_id", ID, nullable=True),
        sa.Column("submitted_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_report_intents_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_report_intents_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_intents_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_intents")),
    )
    op.create_index(op.f("ix_report_intents_user_id"), "report_intents", ["user_id"])
    op.create_index(op.f("ix_report_intents_program_id"), "report_intents", ["program_id"])
    op.create_table(
        "report_intent_attachments",
        id_column(),
        sa.Column("report_intent_id", ID, nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("storage_key", sa.String(500), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["report_intent_id"],
            ["report_intents.id"],
            ondelete="CASCADE",
            name=op.f("fk_report_intent_attachments_report_intent_id_report_intents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_intent_attachments")),
    )
    op.create_index(
        op.f("ix_report_intent_attachments_report_intent_id"),
        "report_intent_attachments",
        ["report_intent_id"],
    )
    op.create_table(
        "hacker_payouts",
        id_column(),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payout_provider", sa.String(100), nullable=True),
        sa.Column("reference", sa.String(255), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("paid_out_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_hacker_payouts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hacker_payouts")),
    )
    op.create_index(op.f("ix_hacker_payouts_user_id"), "hacker_payouts", ["user_id"])


def downgrade() -> None:
    op.drop_table("hacker_payouts")
    op.drop_table("report_intent_attachments")
    op.drop_table("report_intents")
    op.drop_table("scope_exclusions")
    op.drop_table("program_hackers")
