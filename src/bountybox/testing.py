"""bountybox's pytest plugin: a real sandbox server for your integration tests (docs/sandbox.md).

    def test_my_sync(bountybox_server):
        server = bountybox_server                 # reset to the seed pack before each test
        my_integration.run(base_url=server.api_url, auth=server.token.auth)
        server.freeze("2026-03-01T00:00:00Z")
        server.fault("/v1/reports*", method="GET", status=503, count=1)
        assert [r["status"] for r in server.requests()] == [200, 503]

One `bountybox serve --sandbox` process runs per test session, on a free port, with its own data
directory and SQLite database; override the `bountybox_seed` fixture to start from another pack
(a name or a pack file), `bountybox_database_url` to use PostgreSQL, and `bountybox_environment`
for other settings. pytest loads the plugin by itself once bountybox is installed (entry point
`pytest11`). The module imports nothing of bountybox itself, so loading it costs nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest


@dataclass(frozen=True)
class Token:
    """An API token: HTTP Basic with the identifier as username and the value as password."""

    identifier: str
    value: str
    kind: str = "organization"
    organization: str | None = None

    @property
    def auth(self) -> tuple[str, str]:
        return (self.identifier, self.value)

    def __str__(self) -> str:
        return f"{self.identifier}:{self.value}"


class SandboxError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(
            f"{response.request.method} {response.url.path}: {response.status_code} "
            f"{response.text[:500]}"
        )
        self.response = response


@dataclass
class SandboxServer:
    """A running sandbox server and its control plane."""

    base_url: str
    sandbox_token: str
    seed: str
    process: subprocess.Popen[bytes]
    log: Path
    ca_file: Path | None = None
    tokens: list[Token] = field(default_factory=list)
    _snapshot_tokens: dict[str, list[Token]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.control = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.sandbox_token}"},
            timeout=60,
            verify=self._verify(),
        )

    def _verify(self) -> ssl.SSLContext | bool:
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True

    # ---- where and who ----

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def token(self) -> Token | None:
        """The seed pack's first organization token (the demo's: acme-admin, an admin)."""
        return next((t for t in self.tokens if t.kind == "organization"), None)

    def hacker_token(self, username: str) -> Token:
        return next(t for t in self.tokens if t.kind == "hacker" and t.identifier == username)

    def api(self, token: Token | None = None) -> httpx.Client:
        """An HTTP client for the API, authenticated with `token` (the first organization one)."""
        chosen = token or self.token
        return httpx.Client(base_url=self.api_url, auth=chosen.auth if chosen else None, timeout=60)

    # ---- the control plane ----

    def call(
        self, verb: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """One control-plane call (path after /_sandbox); SandboxError when it is refused."""
        response = self.control.request(verb, f"/_sandbox{path}", json=body, params=params)
        if response.status_code >= 400:
            raise SandboxError(response)
        return response.json() if response.content else None

    def reset(
        self, seed: str | None = None, *, pack: dict[str, Any] | None = None, **keep: bool
    ) -> dict[str, Any]:
        """Back to the seed pack (or another one, or an inline pack); `keep_clock=True`,
        `keep_faults=True`, `keep_requests=True` keep those."""
        body: dict[str, Any] = {**keep}
        if seed is not None:
            body["seed"] = seed
        if pack is not None:
            body["pack"] = pack
        result: dict[str, Any] = self.call("POST", "/reset", body)
        self.tokens = [_token(t) for t in result["loaded"]["tokens"]]
        return result

    def fixtures(self, pack: dict[str, Any]) -> dict[str, Any]:
        """Adds a pack's organizations, programs, hackers, tokens and reports; returns their ids
        and tokens."""
        result: dict[str, Any] = self.call("POST", "/fixtures", pack)
        return result

    def freeze(self, at: dt.datetime | str) -> dict[str, Any]:
        when = at.isoformat() if isinstance(at, dt.datetime) else at
        result: dict[str, Any] = self.call("POST", "/clock", {"freeze": when})
        return result

    def advance(self, by: float | str | dt.timedelta) -> dict[str, Any]:
        """Moves the clock on (seconds, or ISO 8601 like "P30D") and runs the timers once."""
        amount = by.total_seconds() if isinstance(by, dt.timedelta) else by
        result: dict[str, Any] = self.call("POST", "/clock", {"advance": amount})
        return result

    def release(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", "/clock", {"release": True})
        return result

    def now(self) -> str:
        return str(self.call("GET", "/clock")["now"])

    def fault(self, path: str = "*", **rule: Any) -> dict[str, Any]:
        """Arms a fault: fault("/v1/reports*", method="GET", status=503, count=1)."""
        result: dict[str, Any] = self.call("POST", "/faults", {"path": path, **rule})
        return result

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """The API requests since the last reset (since=ID, method=, path=GLOB, limit=)."""
        found: list[dict[str, Any]] = self.call("GET", "/requests", params=filters)["data"]
        return found

    def clear_requests(self) -> None:
        self.call("DELETE", "/requests")

    def snapshot(self, name: str) -> dict[str, Any]:
        """Copies the whole database; `tokens` are remembered with it."""
        result: dict[str, Any] = self.call("PUT", f"/snapshots/{name}")
        self._snapshot_tokens[name] = list(self.tokens)
        return result

    def restore(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", f"/snapshots/{name}/restore")
        self.tokens = list(self._snapshot_tokens.get(name, self.tokens))
        return result

    def trigger_webhook(self, event: str, **target: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", "/webhooks/trigger", {"event": event, **target})
        return result

    # ---- the process ----

    def stop(self) -> None:
        self.control.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _token(data: dict[str, Any]) -> Token:
    return Token(data["identifier"], data["value"], data["kind"], data["organization"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    data_dir: Path,
    *,
    seed: str = "demo",
    database_url: str | None = None,
    environment: dict[str, str] | None = None,
    tls: tuple[Path, Path, Path] | None = None,
    timeout: float = 90,
) -> SandboxServer:
    """Starts `bountybox serve --sandbox` on a free port and waits until it answers. `tls` is
    (certificate, key, CA certificate), from `bountybox tls create`: the server speaks HTTPS and
    the control-plane client trusts the CA."""
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOUNTYBOX_")}
    env.update(
        BOUNTYBOX_DATA_DIR=str(data_dir),
        BOUNTYBOX_SANDBOX_TOKEN=token,
        BOUNTYBOX_LOG_LEVEL="warning",
        **(environment or {}),
    )
    if database_url:
        env["BOUNTYBOX_DATABASE_URL"] = database_url
    port = free_port()
    log = data_dir / "server.log"
    args = ["serve", "--sandbox", "--seed", seed, "--port", str(port)]
    if tls is not None:
        args += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bountybox", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    scheme = "https" if tls else "http"
    server = SandboxServer(
        f"{scheme}://127.0.0.1:{port}", token, seed, process, log, ca_file=tls[2] if tls else None
    )
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            server.stop()
            raise RuntimeError(f"the sandbox server exited:\n{log.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if server.control.get("/_sandbox").status_code == 200:
                break
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the sandbox server did not start:\n{log.read_text()}")
        time.sleep(0.1)
    return server


@pytest.fixture(scope="session")
def bountybox_seed() -> str:
    """The pack the server starts with and resets to before each test: a name or a pack file."""
    return "demo"


@pytest.fixture(scope="session")
def bountybox_database_url() -> str | None:
    """None: a SQLite database in a temporary directory. It is emptied on every reset."""
    return None


@pytest.fixture(scope="session")
def bountybox_environment() -> dict[str, str]:
    """Other BOUNTYBOX_* settings for the server, e.g. lower rate limits."""
    return {}


@pytest.fixture(scope="session")
def bountybox_sandbox(
    tmp_path_factory: pytest.TempPathFactory,
    bountybox_seed: str,
    bountybox_database_url: str | None,
    bountybox_environment: dict[str, str],
) -> Iterator[SandboxServer]:
    """The session's server, as it is (not reset)."""
    server = start_server(
        tmp_path_factory.mktemp("bountybox-sandbox"),
        seed=bountybox_seed,
        database_url=bountybox_database_url,
        environment=bountybox_environment,
    )
    yield server
    server.stop()


@pytest.fixture
def bountybox_server(bountybox_sandbox: SandboxServer) -> SandboxServer:
    """The server, reset to the seed pack: fresh data (ids from 1), no faults, no recorded
    requests, the wall clock."""
    bountybox_sandbox.reset()
    return bountybox_sandbox
