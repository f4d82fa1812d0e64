"""the HTML of report texts and activity messages, rendered when they are written

Revision ID: 0009
Revises: 0008

Every read of a report document rendered its Markdown again (the report's text and every
activity's message), and the incremental feed rendered every message it sent: a quarter of the
CPU of a report document. The sanitized HTML is now rendered once, when the text is written, and
kept beside it. Rows written before this revision keep NULL and are rendered when read, so the
upgrade rewrites nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("vulnerability_information_html", sa.Text(), nullable=True))
    op.add_column("activities", sa.Column("message_html", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("activities", "message_html")
    op.drop_column("reports", "vulnerability_information_html")
