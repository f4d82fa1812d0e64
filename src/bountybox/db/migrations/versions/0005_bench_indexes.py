"""indexes found by the benchmarks (bench/, docs/benchmarks.md)

Revision ID: 0005
Revises: 0002

- ix_reports_disclosure_due: the automatic-disclosure timer of every server process looked for
  due reports with a sequential scan over all reports (about 0.3 s a minute at a million
  reports on PostgreSQL); the partial index holds only reports with a pending disclosure.
- ix_reports_program_id_created_at_id: the default report list order (created_at DESC, id DESC)
  inside one program, so page 100 reads 10,000 index entries instead of sorting the whole
  program; used as soon as the list query compares program_id with an equality (see
  docs/benchmarks.md, proposal P2).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_reports_disclosure_due",
        "reports",
        ["allow_singular_disclosure_at"],
        unique=False,
        postgresql_where=sa.text(
            "allow_singular_disclosure_at IS NOT NULL AND disclosed_at IS NULL"
        ),
        sqlite_where=sa.text("allow_singular_disclosure_at IS NOT NULL AND disclosed_at IS NULL"),
    )
    op.create_index(
        "ix_reports_program_id_created_at_id",
        "reports",
        ["program_id", sa.text("created_at DESC"), sa.text("id DESC")],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_reports_program_id_created_at_id", table_name="reports")
    op.drop_index("ix_reports_disclosure_due", table_name="reports")
