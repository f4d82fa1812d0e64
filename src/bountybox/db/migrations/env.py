from __future__ import annotations

from alembic import context

import bountybox.db.models  # noqa: F401  (registers every table)
from bountybox.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through bountybox.db.migrate (bountybox db upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
