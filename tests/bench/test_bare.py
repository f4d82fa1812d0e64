"""The bare app's comment does the work bountybox's does: the same rows, the same data version
move, a delivery body of the same shape. (No timings here: the benchmarks live in bench/.)"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from bench.apps import bare
from bountybox.app import create_app
from bountybox.config import Settings
from tests.bench.test_generate import make_dataset

COMMENT = {
    "data": {
        "type": "activity-comment",
        "attributes": {"message": "Still <b>here</b>.", "internal": False},
    }
}
COUNTED = ("activities", "audit_log_items", "webhook_deliveries")


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        out = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
        out["version"] = conn.execute("SELECT version FROM data_version").fetchone()[0]
        return out


def last_delivery(path: Path) -> dict[str, object]:
    with sqlite3.connect(path) as conn:
        (body,) = conn.execute("SELECT body FROM webhook_deliveries ORDER BY id DESC").fetchone()
    return json.loads(body)


def shape(value: object) -> object:
    """Keys all the way down, without the values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return None


@pytest.fixture
async def dataset(tmp_path: Path) -> tuple[Path, str, list[int]]:
    path = tmp_path / "bench.db"
    manifest = await make_dataset(path)
    with sqlite3.connect(path) as conn:
        # The report of the benchmark's program with the most kinds of children.
        (first,) = conn.execute(
            "SELECT reports.id FROM reports JOIN programs ON programs.id = reports.program_id"
            " WHERE programs.handle = ? ORDER BY"
            " EXISTS (SELECT 1 FROM bounties WHERE bounties.report_id = reports.id)"
            " + EXISTS (SELECT 1 FROM custom_field_values v WHERE v.report_id = reports.id)"
            " DESC, reports.id",
            (manifest.program,),
        ).fetchone()
        (other,) = conn.execute(
            "SELECT reports.id FROM reports JOIN programs ON programs.id = reports.program_id"
            " WHERE programs.organization_id <> (SELECT organization_id FROM programs"
            " WHERE handle = ?) ORDER BY reports.id",
            (manifest.program,),
        ).fetchone()
    return path, manifest.token, [first, other]


async def test_a_bare_comment_writes_what_a_bountybox_comment_writes(
    dataset: tuple[Path, str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, token, (first, elsewhere) = dataset
    identifier, value = token.split(":", 1)
    settings = Settings(
        data_dir=path.parent,
        database_url=f"sqlite+aiosqlite:///{path}",
        secret_key="test-secret",
        rate_limits_enabled=False,
        timer_interval_seconds=0,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            auth=(identifier, value),
        ) as client,
    ):
        before = counts(path)
        answer = await client.post(f"/v1/reports/{first}/activities", json=COMMENT)
        assert answer.status_code == 201, answer.text
        ours = answer.json()
    moved = counts(path)
    assert moved["webhook_deliveries"] > before["webhook_deliveries"], "no subscribed webhook"
    expected = {k: moved[k] - before[k] for k in moved}
    assert expected["activities"] == expected["audit_log_items"] == expected["version"] == 1
    our_delivery = last_delivery(path)

    monkeypatch.setenv("BENCH_DATABASE_URL", f"sqlite:///{path}")
    async with (
        bare.app.router.lifespan_context(bare.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=bare.app),
            base_url="http://testserver",
            auth=(identifier, value),
        ) as client,
    ):
        answer = await client.post(f"/v1/reports/{first}/activities", json=COMMENT)
        assert answer.status_code == 201, answer.text
        theirs = answer.json()
        after = counts(path)
        assert {k: after[k] - moved[k] for k in after} == expected
        refused = await client.post(f"/v1/reports/{elsewhere}/activities", json=COMMENT)
        assert refused.status_code == 403
        assert counts(path) == after, "a refused comment wrote something"

    assert shape(theirs) == shape(ours)
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT report_id, message, internal FROM activities ORDER BY id DESC"
        ).fetchone()
        assert row == (first, "Still <b>here</b>.", 0)
    delivery = last_delivery(path)
    assert delivery["data"]["activity"]["id"] == theirs["data"]["id"]
    assert delivery["data"]["report"]["id"] == str(first)
    assert shape(delivery["data"]["activity"]) == shape(our_delivery["data"]["activity"])
    assert set(delivery["data"]["report"]["relationships"]) == set(
        our_delivery["data"]["report"]["relationships"]
    )
    assert our_delivery["data"]["report"]["relationships"]["bounties"]["data"]
    assert our_delivery["data"]["report"]["relationships"]["custom_field_values"]["data"]
    for name in ("bounties", "collaborators", "custom_field_values"):
        assert len(delivery["data"]["report"]["relationships"][name]["data"]) == len(
            our_delivery["data"]["report"]["relationships"][name]["data"]
        ), name
