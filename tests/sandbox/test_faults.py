"""Injected faults: matching API requests get the API's own error bodies, latency, or nothing;
the control plane itself is never faulted."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import control, error_of, reset
from tests.sandbox.test_reset import SHOP


@pytest.fixture
async def auth(client: httpx.AsyncClient) -> tuple[str, str]:
    loaded = await reset(client, pack=SHOP)
    token = loaded["tokens"][0]
    return (token["identifier"], token["value"])


async def arm(client: httpx.AsyncClient, **rule: Any) -> dict[str, Any]:
    response = await control(client, "POST", "/faults", rule)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_counted_fault_fails_that_many_matching_requests(
    client: httpx.AsyncClient, auth: tuple[str, str]
) -> None:
    await arm(client, path="/v1/reports*", method="get", status=503, count=2)
    other = await client.get("/v1/me/programs", auth=auth)
    assert other.status_code == 200
    posted = await client.post("/v1/reports/1/activities", json={}, auth=auth)
    assert posted.status_code != 503
    statuses = [(await client.get("/v1/reports/1", auth=auth)).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert (await control(client, "GET", "/faults")).json()["data"] == []


async def test_fault_bodies_look_like_the_apis_own_errors(
    client: httpx.AsyncClient, auth: tuple[str, str]
) -> None:
    await arm(client, path="/v1/me/programs", status=429, count=1, retry_after=7)
    limited = await client.get("/v1/me/programs", auth=auth)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert error_of(limited)["title"] == "Too Many Requests"
    assert "Retry after 7 seconds" in error_of(limited)["detail"]

    await arm(client, path="/v1/me/programs", status=503, count=1)
    down = await client.get("/v1/me/programs", auth=auth)
    assert error_of(down) == {
        "status": 503,
        "title": "Service Unavailable",
        "detail": "The database is unavailable; retry shortly.",
    }
    assert down.headers["retry-after"] == "1"

    await arm(client, path="/v1/me/programs", status=500, count=1)
    broken = await client.get("/v1/me/programs", auth=auth)
    assert error_of(broken)["detail"] == f"Error id {broken.headers['x-request-id']}."

    await arm(client, path="/v1/me/programs", status=403, count=1)
    assert (await client.get("/v1/me/programs", auth=auth)).json() == {"errors": [{"status": 403}]}

    await arm(client, path="/v1/me/programs", status=502, count=1)
    gateway = await client.get("/v1/me/programs", auth=auth)
    assert error_of(gateway)["title"] == "Bad Gateway"
    assert gateway.headers["x-bountybox-fault"]
    assert gateway.headers["content-type"] == "application/json; charset=utf-8"


async def test_a_fault_can_answer_with_its_own_body_and_headers(
    client: httpx.AsyncClient, auth: tuple[str, str]
) -> None:
    await arm(
        client,
        path="/v1/me/*",
        status=418,
        body={"teapot": True},
        headers={"X-Extra": "1"},
        count=1,
    )
    response = await client.get("/v1/me/programs", auth=auth)
    assert (response.status_code, response.json()) == (418, {"teapot": True})
    assert response.headers["x-extra"] == "1"


async def test_latency_delays_the_request_which_then_goes_through(
    client: httpx.AsyncClient, auth: tuple[str, str]
) -> None:
    await arm(client, path="/v1/me/programs", latency_ms=300, count=1)
    started = time.monotonic()
    response = await client.get("/v1/me/programs", auth=auth)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


async def test_probabilities_draw_the_same_sequence_after_every_reset(
    client: httpx.AsyncClient, auth: tuple[str, str]
) -> None:
    async def run() -> list[int]:
        await arm(client, path="/v1/me/programs", status=500, probability=0.5)
        return [(await client.get("/v1/me/programs", auth=auth)).status_code for _ in range(12)]

    first = await run()
    assert set(first) == {200, 500}
    await reset(client, pack=SHOP)
    assert await run() == first


async def test_faults_are_listed_and_removed_and_never_hit_the_control_plane(
    client: httpx.AsyncClient, auth: tuple[str, str]
) -> None:
    first = await arm(client, path="*", status=500)
    second = await arm(client, path="/v1/*", status=503)
    assert (await control(client, "GET", "/clock")).status_code == 200
    listed = (await control(client, "GET", "/faults")).json()["data"]
    assert [f["id"] for f in listed] == [first["id"], second["id"]]
    assert (await control(client, "DELETE", f"/faults/{first['id']}")).status_code == 204
    assert (await control(client, "DELETE", f"/faults/{first['id']}")).status_code == 404
    assert (await client.get("/v1/me/programs", auth=auth)).status_code == 503
    assert (await control(client, "DELETE", "/faults")).status_code == 204
    assert (await client.get("/v1/me/programs", auth=auth)).status_code == 200


@pytest.mark.parametrize(
    "rule",
    [
        {},
        {"path": "/v1/*"},
        {"status": 99},
        {"status": 600},
        {"status": 503, "count": 0},
        {"status": 503, "probability": 0},
        {"status": 503, "probability": 1.5},
        {"status": 503, "method": "BREW"},
        {"status": 503, "latency_ms": -1},
        {"drop": True, "status": 503},
        {"status": 503, "headers": {"Bad Header": "x"}},
        {"status": 503, "headers": {"X-Ok": "line\nbreak"}},
        {"status": 503, "headers": {"Content-Length": "0"}},
        {"status": 503, "unknown": 1},
    ],
)
async def test_bad_fault_rules_are_refused(client: httpx.AsyncClient, rule: object) -> None:
    response = await control(client, "POST", "/faults", rule)
    assert response.status_code == 400, response.text
    error_of(response)
