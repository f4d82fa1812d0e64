"""Snapshots hold the whole database; a restore brings back every row with its id."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.db.base import Base
from bountybox.db.models import Report
from tests.sandbox.conftest import control, error_of, reset
from tests.sandbox.test_reset import SHOP


def comment(message: str) -> dict[str, object]:
    return {
        "data": {"type": "activity-comment", "attributes": {"message": message, "internal": True}}
    }


async def test_a_restore_brings_back_every_row_and_ids_continue_after_them(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    loaded = await reset(client, pack=SHOP)
    auth = (loaded["tokens"][0]["identifier"], loaded["tokens"][0]["value"])
    taken = await control(client, "PUT", "/snapshots/base")
    assert taken.status_code == 200
    assert taken.json()["rows"]["reports"] == 2
    first = await client.post("/v1/reports/1/activities", json=comment("before"), auth=auth)
    assert first.status_code == 201
    await reset(client, seed="empty")
    restored = await control(client, "POST", "/snapshots/base/restore")
    assert restored.status_code == 200
    assert await session.scalar(select(func.count()).select_from(Report)) == 2
    again = await client.post("/v1/reports/1/activities", json=comment("after"), auth=auth)
    assert again.status_code == 201
    # The restored sequence hands out the id the first comment had, not a clashing one.
    assert again.json()["data"]["id"] == first.json()["data"]["id"]


async def test_a_restore_reproduces_every_table_exactly(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await reset(client, seed="demo")

    async def everything() -> dict[str, list[object]]:
        tables = {}
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(select(table).order_by(*table.primary_key.columns))
            tables[table.name] = [tuple(r) for r in rows]
        await session.rollback()
        return tables

    before = await everything()
    await control(client, "PUT", "/snapshots/demo")
    await reset(client, seed="empty")
    await control(client, "POST", "/snapshots/demo/restore")
    assert await everything() == before


async def test_snapshots_are_listed_replaced_and_deleted(client: httpx.AsyncClient) -> None:
    await reset(client, seed="empty")
    await control(client, "PUT", "/snapshots/one")
    await reset(client, pack=SHOP)
    await control(client, "PUT", "/snapshots/one")
    await control(client, "PUT", "/snapshots/two.v2")
    listed = (await control(client, "GET", "/snapshots")).json()["data"]
    assert [s["name"] for s in listed] == ["one", "two.v2"]
    assert listed[0]["rows"]["reports"] == 2
    assert (await control(client, "DELETE", "/snapshots/one")).status_code == 204
    assert [s["name"] for s in (await control(client, "GET", "/snapshots")).json()["data"]] == [
        "two.v2"
    ]


async def test_unknown_and_malformed_snapshot_names_are_refused(
    client: httpx.AsyncClient,
) -> None:
    missing = await control(client, "POST", "/snapshots/nope/restore")
    assert missing.status_code == 404
    assert "nope" in error_of(missing)["detail"]
    assert (await control(client, "DELETE", "/snapshots/nope")).status_code == 404
    bad = await control(client, "PUT", "/snapshots/-dash")
    assert bad.status_code == 400
    assert error_of(bad)["source"]["parameter"] == "name"
    too_long = await control(client, "PUT", "/snapshots/" + "x" * 65)
    assert too_long.status_code == 400
