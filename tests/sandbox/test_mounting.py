"""The control plane exists only in sandbox mode, and only for the holder of its token."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.sandbox.routes import router
from tests.builders import make_org, make_token
from tests.sandbox.conftest import CONTROL, control, error_of

OPERATIONS = [(op.method, re.sub(r"\{\w+\}", "1", op.path)) for op in router.operations]


def test_every_operation_is_listed() -> None:
    assert ("POST", "/_sandbox/reset") in OPERATIONS
    assert ("PUT", "/_sandbox/snapshots/1") in OPERATIONS
    assert len(OPERATIONS) == 16


@pytest.fixture
async def off_client(settings: Settings, engine: AsyncEngine, clock: Clock) -> Any:
    off = create_app(settings.model_copy(update={"sandbox": False}), engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=off, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize(("method", "path"), [*OPERATIONS, ("GET", "/_sandbox/anything")])
async def test_sandbox_paths_answer_like_unknown_paths_when_sandbox_mode_is_off(
    off_client: httpx.AsyncClient, session: AsyncSession, method: str, path: str
) -> None:
    token = await make_token(session, await make_org(session))
    unknown = path.replace("/_sandbox", "/_nothing_here")
    for headers in (CONTROL, token.header, {}):
        ours = await off_client.request(method, path, headers=headers, json={"seed": "empty"})
        theirs = await off_client.request(method, unknown, headers=headers, json={"seed": "empty"})
        assert ours.status_code == theirs.status_code
        assert ours.json() == theirs.json()
    with_token = await off_client.request(method, path, headers=token.header)
    assert with_token.status_code == 404


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
async def test_the_control_plane_needs_its_bearer_token(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}):
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 401
        assert error_of(response)["title"] == "Unauthorized"
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_operations_and_methods_answer_json_errors(
    client: httpx.AsyncClient,
) -> None:
    missing = await control(client, "GET", "/nothing")
    assert missing.status_code == 404
    assert error_of(missing)["title"] == "Not Found"
    wrong_method = await control(client, "PATCH", "/clock")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET, POST"
    assert error_of(wrong_method)["title"] == "Method Not Allowed"


async def test_the_status_lists_the_seed_packs(client: httpx.AsyncClient) -> None:
    response = await control(client, "GET", "")
    assert response.status_code == 200
    assert {"demo", "empty"} <= set(response.json()["seeds"])
    assert response.json()["default_seed"] == "empty"
