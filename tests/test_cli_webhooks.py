"""`bountybox webhooks ...` and the delivery loop inside `bountybox serve`, end to end: real
processes, real HTTP, a real receiver."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bountybox.db.engine import make_engine
from tests.conftest import PG_URL
from tests.test_cli import free_port
from tests.worker.receiver import Receiver


async def bountybox(env: dict[str, str], *args: str) -> str:
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bountybox", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    values = {
        **os.environ,
        "BOUNTYBOX_DATA_DIR": str(tmp_path),
        "BOUNTYBOX_LOG_LEVEL": "warning",
        "BOUNTYBOX_WEBHOOKS_ALLOW_PRIVATE": "true",
        "BOUNTYBOX_WEBHOOKS_POLL_SECONDS": "0.05",
    }
    values.pop("BOUNTYBOX_DATABASE_URL", None)
    database = f"bountybox_cli_webhooks_{os.getpid()}"
    admin = make_engine(PG_URL, pool=False) if PG_URL else None
    if admin is not None and PG_URL:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database}")
            await conn.exec_driver_sql(f"CREATE DATABASE {database}")
        values["BOUNTYBOX_DATABASE_URL"] = PG_URL.rsplit("/", 1)[0] + f"/{database}"
    yield values
    if admin is not None:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await admin.dispose()


async def test_webhooks_made_with_the_cli_are_delivered_by_serve(
    env: dict[str, str], tmp_path: Path
) -> None:
    receiver = await Receiver(secret="s3cr3t").start()
    token = (await bountybox(env, "demo")).strip().splitlines()[-1]
    auth = tuple(token.split(":", 1))
    created = await bountybox(
        env,
        "webhooks",
        "create",
        "--program",
        "acme",
        "--url",
        receiver.url,
        "--secret",
        "s3cr3t",
        "--event",
        "report_comment_created",
    )
    match = re.match(r"#(\d+) ", created)
    assert match, created
    webhook_id = match.group(1)
    assert "[active] report_comment_created" in created
    assert receiver.url in await bountybox(env, "webhooks", "list", "--program", "acme")

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "bountybox", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, auth=auth) as client:
            for _ in range(200):
                try:
                    await client.get("/v1/me/programs")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            reports = await client.get("/v1/reports", params={"filter[program][]": "acme"})
            report_id = reports.json()["data"][0]["id"]
            commented = await client.post(
                f"/v1/reports/{report_id}/activities",
                json={
                    "data": {
                        "type": "activity-comment",
                        "attributes": {"message": "to the hook", "internal": True},
                    }
                },
            )
            assert commented.status_code == 201
            [delivered] = await receiver.wait_for(1)
            assert delivered.event == "report_comment_created"
            assert delivered.json()["data"]["report"]["id"] == report_id

            await bountybox(env, "webhooks", "test", webhook_id)
            _, example = await receiver.wait_for(2)
            assert example.event == "report_created"
            assert example.json()["data"]["report"]["id"] == "0"
    finally:
        server.terminate()
        server.wait(timeout=30)
        await receiver.stop()
    assert "Traceback" not in log.read_text()

    listed = await bountybox(env, "webhooks", "deliveries", webhook_id)
    assert listed.count("delivered after 1 attempt(s) HTTP 200") == 2
    first_id = listed.strip().splitlines()[-1].split()[0].removeprefix("#")
    assert "queued delivery #" in await bountybox(env, "webhooks", "redeliver", first_id)
    changed = await bountybox(
        env, "webhooks", "update", webhook_id, "--inactive", "--all-events", "--no-secret"
    )
    assert "[inactive (by hand)] every event" in changed
    assert "deleted" in await bountybox(env, "webhooks", "delete", webhook_id)
    assert await bountybox(env, "webhooks", "list", "--program", "acme") == ""
