"""`bountybox serve --sandbox` refuses what sandbox mode cannot do before it starts anything."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from bountybox.cli import app as cli


@pytest.fixture(autouse=True)
def own_environment() -> Iterator[None]:
    with mock.patch.dict(os.environ, clear=False):
        for name in [n for n in os.environ if n.startswith("BOUNTYBOX_")]:
            del os.environ[name]
        yield


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sandbox", "--workers", "2"], "run it with --workers 1"),
        (["--seed", "demo"], "--seed is a sandbox option"),
        (["--sandbox", "--seed", "no-such-pack"], "seed pack"),
        (["--tls-cert", "cert.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-cert", "nope.pem", "--tls-key", "nope.pem"], "no such file"),
    ],
)
def test_serve_refuses_what_it_cannot_do(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["serve", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "BOUNTYBOX_SANDBOX" not in os.environ


def test_the_sandbox_environment_setting_also_needs_one_worker() -> None:
    os.environ["BOUNTYBOX_SANDBOX"] = "true"
    result = CliRunner().invoke(cli, ["serve", "--workers", "3"])
    assert result.exit_code == 2
    assert "--workers 1" in result.output


def test_a_seed_pack_file_is_checked_before_the_server_starts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"organizations": [{"handle": "x"}]}')
    result = CliRunner().invoke(cli, ["serve", "--sandbox", "--seed", str(bad)])
    assert result.exit_code == 2
    assert "organizations.0.name: Field required" in result.output
