"""the current severity rating on the report, for the severity filter of report lists

Revision ID: 0008
Revises: 0005

`filter[severity][]` looked up the severity of every candidate report (a primary-key lookup per
report of the program, 180-270 ms for the biggest program of the benchmark dataset). The rating of
the report's current severity is now kept on the report, written together with `severity_id`,
and indexed with the program and the state, the two filters it is most often combined with.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("severity_rating", sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE reports SET severity_rating ="
        " (SELECT severities.rating FROM severities WHERE severities.id = reports.severity_id)"
        " WHERE severity_id IS NOT NULL"
    )
    op.create_index(
        "ix_reports_program_id_severity_rating_state",
        "reports",
        ["program_id", "severity_rating", "state", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_reports_program_id_severity_rating_state", table_name="reports")
    op.drop_column("reports", "severity_rating")
