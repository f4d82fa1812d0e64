"""The command-line contract, end to end: real processes, a real server, real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bountybox.db.engine import make_engine
from tests.conftest import PG_URL


def bountybox(
    env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "bountybox", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
async def cli_env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, str]]:
    """A fresh installation: its own data directory, and on PostgreSQL its own database."""
    data_dir = tmp_path_factory.mktemp("cli")
    env = {**os.environ, "BOUNTYBOX_DATA_DIR": str(data_dir), "BOUNTYBOX_LOG_LEVEL": "warning"}
    env.pop("BOUNTYBOX_DATABASE_URL", None)
    database = f"bountybox_cli_{os.getpid()}"
    if PG_URL:
        admin = make_engine(PG_URL, pool=False)
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database}")
            await conn.exec_driver_sql(f"CREATE DATABASE {database}")
        env["BOUNTYBOX_DATABASE_URL"] = PG_URL.rsplit("/", 1)[0] + f"/{database}"
    yield env
    if PG_URL:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(cli_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = Path(tmp_path_factory.mktemp("serve")) / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bountybox", "serve", "--port", str(port)],
            env=cli_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/v1/me/programs", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"server did not start: {log.read_text()}")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert "Traceback" not in log.read_text()


def test_demo_is_idempotent_and_prints_a_token_last(cli_env: dict[str, str]) -> None:
    first = bountybox(cli_env, "demo").stdout.strip().splitlines()[-1]
    second = bountybox(cli_env, "demo").stdout.strip().splitlines()[-1]
    assert first == second
    identifier, _, value = first.partition(":")
    assert identifier == "acme-admin"
    assert len(value) >= 32


def test_served_api_answers_the_readme_requests(cli_env: dict[str, str], server: str) -> None:
    token = bountybox(cli_env, "demo").stdout.strip().splitlines()[-1]
    auth = tuple(token.split(":", 1))
    programs = httpx.get(f"{server}/v1/me/programs", auth=auth).json()
    assert sorted(p["attributes"]["handle"] for p in programs["data"]) == ["acme", "acme-vdp"]

    listed = httpx.get(
        f"{server}/v1/reports?filter[program][]=acme&filter[state][]=triaged", auth=auth
    )
    assert listed.status_code == 200
    assert listed.json()["data"]
    assert {r["attributes"]["state"] for r in listed.json()["data"]} == {"triaged"}

    everything = httpx.get(f"{server}/v1/reports?filter[program][]=acme", auth=auth).json()
    assert len(everything["data"]) == 25
    assert everything["links"]["next"].startswith(f"{server}/v1/reports?")
    report_id = everything["data"][0]["id"]
    comment = httpx.post(
        f"{server}/v1/reports/{report_id}/activities",
        auth=auth,
        json={
            "data": {"type": "activity-comment", "attributes": {"message": "e2e", "internal": True}}
        },
    )
    assert comment.status_code == 201
    assert httpx.get(f"{server}/v1/me/programs").status_code == 401


def test_demo_covers_every_state_and_spans_pages(cli_env: dict[str, str], server: str) -> None:
    token = bountybox(cli_env, "demo").stdout.strip().splitlines()[-1]
    auth = tuple(token.split(":", 1))
    states: set[str] = set()
    total = 0
    for handle in ("acme", "acme-vdp"):
        body = httpx.get(
            f"{server}/v1/reports?filter[program][]={handle}&page[size]=100", auth=auth
        ).json()
        total += len(body["data"])
        states |= {r["attributes"]["state"] for r in body["data"]}
        if handle == "acme":
            assert len(body["data"]) > 30
    assert total >= 60
    assert states == {
        "new",
        "pending-program-review",
        "triaged",
        "needs-more-info",
        "resolved",
        "not-applicable",
        "informative",
        "duplicate",
        "spam",
        "retesting",
    }


def test_tokens_are_created_with_groups_and_revoked(cli_env: dict[str, str], server: str) -> None:
    bountybox(cli_env, "demo")
    created = bountybox(
        cli_env,
        "tokens",
        "create",
        "--organization",
        "acme",
        "--name",
        "ci-bot",
        "--group",
        "Program Admins",
    )
    identifier, _, value = created.stdout.strip().splitlines()[-1].partition(":")
    assert identifier == "ci-bot"
    programs = httpx.get(f"{server}/v1/me/programs", auth=(identifier, value)).json()
    assert [p["attributes"]["handle"] for p in programs["data"]] == ["acme"]

    duplicate = bountybox(
        cli_env, "tokens", "create", "--organization", "acme", "--name", "ci-bot", check=False
    )
    assert duplicate.returncode == 1
    assert "taken" in duplicate.stderr
    missing_group = bountybox(
        cli_env,
        "tokens",
        "create",
        "--organization",
        "acme",
        "--name",
        "x",
        "--group",
        "Nope",
        check=False,
    )
    assert missing_group.returncode == 1

    bountybox(cli_env, "tokens", "revoke", "ci-bot")
    assert httpx.get(f"{server}/v1/me/programs", auth=(identifier, value)).status_code == 401


def test_db_upgrade_is_repeatable(cli_env: dict[str, str]) -> None:
    assert "up to date" in bountybox(cli_env, "db", "upgrade").stdout
    assert "up to date" in bountybox(cli_env, "db", "upgrade").stdout


def test_an_allowlist_outside_the_callers_address_answers_403(
    cli_env: dict[str, str], server: str
) -> None:
    token = bountybox(cli_env, "demo").stdout.strip().splitlines()[-1]
    auth = tuple(token.split(":", 1))
    bad = bountybox(
        cli_env, "orgs", "allowlist", "--organization", "acme", "not-an-ip", check=False
    )
    assert bad.returncode == 1
    bountybox(cli_env, "orgs", "allowlist", "--organization", "acme", "10.0.0.0/8")
    try:
        blocked = httpx.get(f"{server}/v1/me/programs", auth=auth)
        assert blocked.status_code == 403
        assert blocked.json()["errors"][0]["status"] == 403
        bountybox(cli_env, "orgs", "allowlist", "--organization", "acme", "10.0.0.0/8", "127.0.0.1")
        assert httpx.get(f"{server}/v1/me/programs", auth=auth).status_code == 200
    finally:
        bountybox(cli_env, "orgs", "allowlist", "--organization", "acme")
    assert httpx.get(f"{server}/v1/me/programs", auth=auth).status_code == 200


def test_an_install_is_set_up_without_the_demo(cli_env: dict[str, str], server: str) -> None:
    bountybox(cli_env, "orgs", "create", "--handle", "fresh", "--name", "Fresh Corp")
    bountybox(
        cli_env,
        "programs",
        "create",
        "--organization",
        "fresh",
        "--handle",
        "fresh-bb",
        "--name",
        "Fresh Bug Bounty",
    )
    bountybox(
        cli_env, "members", "add", "--organization", "fresh", "--email", "ann@fresh.test", "--admin"
    )
    taken = bountybox(
        cli_env, "orgs", "create", "--handle", "fresh", "--name", "Again", check=False
    )
    assert taken.returncode == 1
    assert "taken" in taken.stderr
    token = bountybox(cli_env, "tokens", "create", "--organization", "fresh", "--name", "fresh-ci")
    auth = tuple(token.stdout.strip().splitlines()[-1].split(":", 1))
    programs = httpx.get(f"{server}/v1/me/programs", auth=auth).json()
    assert [p["attributes"]["handle"] for p in programs["data"]] == ["fresh-bb"]
    organization_id = httpx.get(f"{server}/v1/me/organizations", auth=auth).json()["data"][0]["id"]
    members = httpx.get(f"{server}/v1/organizations/{organization_id}/members", auth=auth).json()
    assert "ann@fresh.test" in {m["attributes"]["email"] for m in members["data"]}

    invited = httpx.post(
        f"{server}/v1/organizations/{organization_id}/invitations",
        json={"data": {"attributes": {"email": "bo@fresh.test"}}},
        auth=auth,
    )
    assert invited.status_code == 201
    outbox = bountybox(cli_env, "mail", "list").stdout
    assert "unsent to bo@fresh.test" in outbox


def test_integrations_are_added_for_escalation_and_notifications(
    cli_env: dict[str, str], server: str
) -> None:
    token = bountybox(cli_env, "demo").stdout.strip().splitlines()[-1]
    auth = tuple(token.split(":", 1))
    added = bountybox(
        cli_env,
        "integrations",
        "add",
        "--program",
        "acme-vdp",
        "--name",
        "Tracker",
        "--type",
        "issue_tracking",
        "--reference-url-prefix",
        "https://tracker.test/",
    )
    gid = added.stdout.strip().split()[-1]
    bad = bountybox(
        cli_env,
        "integrations",
        "add",
        "--program",
        "acme-vdp",
        "--name",
        "X",
        "--type",
        "carrier-pigeon",
        check=False,
    )
    assert bad.returncode == 1
    programs = httpx.get(f"{server}/v1/me/programs", auth=auth).json()["data"]
    vdp = next(p for p in programs if p["attributes"]["handle"] == "acme-vdp")
    listed = httpx.get(f"{server}/v1/programs/{vdp['id']}/integrations", auth=auth).json()
    assert {"id": gid, "name": "Tracker", "group_type": "issue_tracking"} in listed["data"]
