"""Sandbox fixtures: an in-process app with sandbox mode on (the control plane called through
httpx's ASGI transport), and for the end-to-end tests the plugin's real server, on PostgreSQL in a
database of its own when the suite runs there."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bountybox.config import Settings
from bountybox.db.engine import make_engine
from bountybox.sandbox.state import Seeded
from tests.conftest import PG_URL

SANDBOX_TOKEN = "test-sandbox-token"
CONTROL = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
# The demo's admin token in sandbox mode: derived from a fixed key, the same everywhere.
DEMO_ADMIN = (
    "acme-admin",
    "3013bad377b809d1a40d90346f047424a8b52de327ba05f08d99f5563450dc48",
)

# Seeded packs are shared by every in-process app of the run, as one server process would keep
# them, so the demo is played once.
SEEDED: dict[str, Seeded] = {}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"sandbox": True, "sandbox_token": SANDBOX_TOKEN, "webhooks_allow_private": True}
    )


@pytest.fixture
def app(app: Any) -> Any:
    app.state.sandbox.seeded = SEEDED
    return app


@pytest.fixture
def sandbox(app: Any) -> Any:
    return app.state.sandbox


async def control(
    client: httpx.AsyncClient, method: str, path: str, body: Any = None, **kwargs: Any
) -> httpx.Response:
    """A call to the control plane with the sandbox token."""
    return await client.request(method, f"/_sandbox{path}", json=body, headers=CONTROL, **kwargs)


async def reset(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await control(client, "POST", "/reset", body)
    assert response.status_code == 200, response.text
    loaded: dict[str, Any] = response.json()["loaded"]
    return loaded


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The one error of an API error body (and the body is exactly that shape)."""
    body = response.json()
    assert set(body) == {"errors"}, body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    assert error["status"] == response.status_code
    return error


@pytest.fixture(scope="session")
async def bountybox_database_url() -> AsyncIterator[str | None]:
    """The plugin's server gets a PostgreSQL database of its own when the suite runs there."""
    if not PG_URL:
        yield None
        return
    database = f"bountybox_sandbox_{os.getpid()}"
    admin = make_engine(PG_URL, pool=False)
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database}")
        await conn.exec_driver_sql(f"CREATE DATABASE {database}")
    yield PG_URL.rsplit("/", 1)[0] + f"/{database}"
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    await admin.dispose()
