"""the data version: one counter every transaction that changes what the API renders increments

Revision ID: 0011
Revises: 0010

`db/version.py` increments it just before such a transaction commits, and the API reads it in
the statement of the API token, so a report document kept in memory is known to be current
without another round trip (`core/cache.py`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("data_version")
