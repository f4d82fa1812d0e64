"""GET /_sandbox/requests: what each client sent and got back, oldest first."""

from __future__ import annotations

import httpx

from bountybox.sandbox.inspector import BODY_LIMIT
from tests.sandbox.conftest import control, error_of, reset
from tests.sandbox.test_reset import SHOP


async def test_requests_are_recorded_with_their_responses(client: httpx.AsyncClient) -> None:
    loaded = await reset(client, pack=SHOP)
    auth = (loaded["tokens"][0]["identifier"], loaded["tokens"][0]["value"])
    await client.get("/v1/reports", params={"filter[program][]": "shop"}, auth=auth)
    body = {"data": {"type": "activity-comment", "attributes": {"message": "x", "internal": True}}}
    await client.post("/v1/reports/1/activities", json=body, auth=auth)
    await control(client, "GET", "/clock")
    recorded = (await control(client, "GET", "/requests")).json()["data"]
    assert [(r["id"], r["method"], r["path"], r["status"]) for r in recorded] == [
        ("1", "GET", "/v1/reports", 200),
        ("2", "POST", "/v1/reports/1/activities", 201),
    ]
    first, second = recorded
    assert first["query"] == "filter%5Bprogram%5D%5B%5D=shop"
    assert first["token"] == "shop-bot"
    assert first["request"]["headers"]["authorization"] == "Basic [redacted]"
    assert len(first["response"]["json"]["data"]) == 2
    assert second["request"]["json"] == body
    assert second["response"]["json"]["data"]["type"] == "activity-comment"
    assert second["duration_ms"] > 0
    assert second["fault"] is None


async def test_filters_and_truncation(client: httpx.AsyncClient) -> None:
    await reset(client, seed="empty")
    await client.get("/v1/me/programs")
    await client.post("/v1/reports", content=b"x" * (BODY_LIMIT + 10))
    await client.get("/v1/programs/1")
    requests = (await control(client, "GET", "/requests", params={"since": "1"})).json()["data"]
    assert [r["id"] for r in requests] == ["2", "3"]
    big = requests[0]["request"]
    assert (big["size"], big["truncated"], len(big["body"])) == (BODY_LIMIT + 10, True, BODY_LIMIT)
    assert "json" not in big
    only = await control(client, "GET", "/requests", params={"method": "get", "path": "/v1/p*"})
    assert [r["id"] for r in only.json()["data"]] == ["3"]
    newest = await control(client, "GET", "/requests", params={"limit": "1"})
    assert [r["id"] for r in newest.json()["data"]] == ["3"]
    bad = await control(client, "GET", "/requests", params={"since": "soon"})
    assert bad.status_code == 400
    assert error_of(bad)["source"]["parameter"] == "since"
    assert (await control(client, "DELETE", "/requests")).status_code == 204
    assert (await control(client, "GET", "/requests")).json()["data"] == []
    await client.get("/v1/me/programs")
    assert (await control(client, "GET", "/requests")).json()["data"][0]["id"] == "1"


async def test_faulted_requests_are_recorded_with_the_fault(client: httpx.AsyncClient) -> None:
    await reset(client, seed="empty")
    fault = (await control(client, "POST", "/faults", {"path": "*", "status": 503})).json()
    await client.post("/v1/reports", json={"data": {}})
    (recorded,) = (await control(client, "GET", "/requests")).json()["data"]
    assert recorded["fault"] == fault["id"]
    assert recorded["status"] == 503
    assert recorded["request"]["json"] == {"data": {}}
    assert recorded["response"]["json"]["errors"][0]["status"] == 503


async def test_the_ring_buffer_keeps_the_newest(client: httpx.AsyncClient, sandbox: object) -> None:
    await reset(client, seed="empty")
    inspector = sandbox.inspector  # type: ignore[attr-defined]
    inspector.kept = type(inspector.kept)(maxlen=3)
    for _ in range(5):
        await client.get("/v1/me/programs")
    assert [r["id"] for r in (await control(client, "GET", "/requests")).json()["data"]] == [
        "3",
        "4",
        "5",
    ]
