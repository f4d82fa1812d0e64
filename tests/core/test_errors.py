from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.core.errors import Unprocessable
from bountybox.core.http import database_error
from bountybox.db.engine import make_engine


async def test_an_unreachable_database_answers_503_with_retry_after(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    dead = make_engine("postgresql+asyncpg://nobody@127.0.0.1:9/nothing", pool=False)
    app = create_app(settings, engine=dead)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        with caplog.at_level(logging.WARNING, logger="bountybox"):
            response = await client.get("/v1/me/programs", auth=("a", "b"))
    await dead.dispose()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["errors"][0]["status"] == 503
    assert response.json()["errors"][0]["title"] == "Service Unavailable"
    assert "Traceback" not in caplog.text


def test_a_write_that_loses_a_race_maps_to_422() -> None:
    error = database_error(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert isinstance(error, Unprocessable)
    assert error.body()["errors"][0] == {
        "status": 422,
        "title": "Unprocessable Entity",
        "detail": "The change conflicts with a concurrent change; retry the request.",
    }


def test_programming_errors_are_not_mistaken_for_database_trouble() -> None:
    assert database_error(KeyError("x")) is None
