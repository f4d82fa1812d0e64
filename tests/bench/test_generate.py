"""bench/generate at a tiny size on SQLite: the rows it writes are ones the application reads, and
the same seed gives the same dataset. (No timings here: the benchmarks live in bench/.)"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from bench.generate import Manifest, Spec, generate
from bountybox.app import create_app
from bountybox.config import Settings


async def make_dataset(path: Path, *, seed: int = 7) -> Manifest:
    return await generate(f"sqlite+aiosqlite:///{path}", Spec(reports=200, seed=seed), quiet=True)


def table_rows(path: Path, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


async def test_generated_reports_are_served_with_their_activities(tmp_path: Path) -> None:
    path = tmp_path / "bench.db"
    manifest = await make_dataset(path)
    assert manifest.rows["reports"] == 200
    assert 1500 <= manifest.rows["activities"] <= 2500
    assert manifest.rows["users"] == 5000 + 20 * 5
    settings = Settings(
        data_dir=tmp_path,
        database_url=manifest.database_url,
        secret_key="test-secret",
        rate_limits_enabled=False,
        timer_interval_seconds=0,
    )
    identifier, value = manifest.token.split(":", 1)
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", auth=(identifier, value)
    ) as client:
        listing = await client.get(
            "/v1/reports", params={"filter[program][]": manifest.program, "page[size]": 100}
        )
        assert listing.status_code == 200, listing.text
        reports = listing.json()["data"]
        assert reports
        report = await client.get(f"/v1/reports/{reports[0]['id']}")
        assert report.status_code == 200, report.text
        relationships = report.json()["data"]["relationships"]
        assert relationships["activities"]["data"]
        assert relationships["program"]["data"]["attributes"]["handle"] == manifest.program
        feed = await client.get(
            "/v1/incremental/activities", params={"handle": manifest.program, "page[size]": 100}
        )
        assert feed.status_code == 200, feed.text
        assert feed.json()["data"]


async def test_the_same_seed_gives_the_same_dataset(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "c.db"
    await make_dataset(first)
    await make_dataset(second)
    await make_dataset(other, seed=8)

    for table in ("reports", "activities", "severities", "bounties", "ledger_transactions"):
        assert table_rows(first, table) == table_rows(second, table), table
    assert table_rows(first, "reports") != table_rows(other, "reports")
