"""The sandbox end to end: `bountybox serve --sandbox` started by the pytest plugin, real HTTP.
The issue's must-show: an integration (poll new reports, triage, comment) against a frozen clock,
a fault on its second call, and a reset."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from h1.client import HackerOneClient

from bountybox.testing import SandboxError, SandboxServer
from tests.sandbox.conftest import DEMO_ADMIN

SHOP = {
    "created_at": "2026-01-01T00:00:00Z",
    "hackers": [{"username": "finder"}],
    "organizations": [
        {
            "handle": "shop",
            "name": "Shop",
            "programs": [{"handle": "shop", "name": "Shop"}],
            "tokens": [{"name": "shop-bot"}],
        }
    ],
    "reports": [
        {"program": "shop", "reporter": "finder", "title": "XSS in search"},
        {"program": "shop", "reporter": "finder", "title": "IDOR on orders", "state": "triaged"},
        {"program": "shop", "reporter": "finder", "title": "Open redirect"},
    ],
}


@dataclass
class TriageBot:
    """The integration under test: it triages every new report of a program with a comment,
    retrying what the API asks it to retry."""

    api_url: str
    auth: tuple[str, str]
    program: str
    seen: list[tuple[str, int]] = field(default_factory=list)

    def call(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for _ in range(3):
            response = client.request(method, path, **kwargs)
            self.seen.append((f"{method} {path}", response.status_code))
            if response.status_code not in (429, 503):
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        response.raise_for_status()
        return response

    def run(self) -> list[str]:
        with httpx.Client(base_url=self.api_url, auth=self.auth) as client:
            new = self.call(
                client,
                "GET",
                "/reports",
                params={"filter[program][]": self.program, "filter[state][]": "new"},
            ).json()["data"]
            for report in new:
                path = f"/reports/{report['id']}"
                triage = {
                    "type": "state-change",
                    "attributes": {"state": "triaged", "message": "Reproduced."},
                }
                self.call(client, "POST", f"{path}/state_changes", json={"data": triage})
                note = {
                    "type": "activity-comment",
                    "attributes": {"message": "Triaged by bot.", "internal": True},
                }
                self.call(client, "POST", f"{path}/activities", json={"data": note})
        return [report["attributes"]["title"] for report in new]


def test_an_integration_against_a_frozen_clock_a_fault_and_a_reset(
    bountybox_server: SandboxServer,
) -> None:
    server = bountybox_server
    server.reset(pack=SHOP)
    assert server.token is not None
    server.freeze("2026-03-01T12:00:00Z")
    server.fault("/v1/reports/*/state_changes", method="POST", status=503, count=1, retry_after=0)

    bot = TriageBot(server.api_url, server.token.auth, "shop")
    # Newest first, as the API lists them.
    assert bot.run() == ["Open redirect", "XSS in search"]
    assert bot.seen == [
        ("GET /reports", 200),
        ("POST /reports/3/state_changes", 503),
        ("POST /reports/3/state_changes", 201),
        ("POST /reports/3/activities", 201),
        ("POST /reports/1/state_changes", 201),
        ("POST /reports/1/activities", 201),
    ]
    # The server saw the same conversation, the injected failure included.
    recorded = server.requests()
    assert [(r["method"], r["path"], r["status"]) for r in recorded] == [
        (method, f"/v1{path}", status)
        for method, path, status in (
            (call.split()[0], call.split()[1], status) for call, status in bot.seen
        )
    ]
    assert [r["fault"] is not None for r in recorded] == [False, True, False, False, False, False]
    # Every change carries the frozen time.
    with server.api() as api:
        report = api.get("/reports/1").json()["data"]
    assert report["attributes"]["state"] == "triaged"
    assert report["attributes"]["triaged_at"] == "2026-03-01T12:00:00.000Z"
    assert bot.run() == []

    # A reset brings the seeded reports back, and takes the clock and the faults away.
    server.reset(pack=SHOP)
    again = TriageBot(server.api_url, server.token.auth, "shop")
    assert again.run() == ["Open redirect", "XSS in search"]
    assert all(status != 503 for _, status in again.seen)
    with server.api() as api:
        triaged_at = api.get("/reports/1").json()["data"]["attributes"]["triaged_at"]
    assert triaged_at > "2026-03-02"


def test_each_test_starts_from_the_seed_with_hard_coded_tokens(
    bountybox_server: SandboxServer,
) -> None:
    assert bountybox_server.token is not None
    assert bountybox_server.token.auth == DEMO_ADMIN
    with httpx.Client(base_url=bountybox_server.api_url, auth=DEMO_ADMIN) as api:
        reports = api.get("/reports", params={"filter[program][]": "acme", "page[size]": 100})
    assert reports.status_code == 200
    assert len(reports.json()["data"]) == 40
    hacker = bountybox_server.hacker_token("r3dfox")
    with httpx.Client(base_url=bountybox_server.api_url, auth=hacker.auth) as api:
        assert api.get("/hackers/me/reports").status_code == 200
    assert bountybox_server.requests()[-1]["token"] == "r3dfox"


def test_a_dropped_connection_is_a_transport_error_for_the_client(
    bountybox_server: SandboxServer,
) -> None:
    bountybox_server.fault("/v1/me/programs", drop=True, count=1)
    with bountybox_server.api() as api:
        with pytest.raises(httpx.RemoteProtocolError):
            api.get("/me/programs")
        assert api.get("/me/programs").status_code == 200
    dropped, ok = bountybox_server.requests()
    assert (dropped["dropped"], ok["dropped"]) == (True, False)
    assert "Traceback" not in bountybox_server.log.read_text()


def test_snapshots_and_the_clock_through_the_plugin(bountybox_server: SandboxServer) -> None:
    server = bountybox_server
    server.snapshot("seeded")
    server.reset("empty")
    with server.api(None) as api:
        assert api.get("/me/programs", auth=DEMO_ADMIN).status_code == 401
    server.restore("seeded")
    with server.api() as api:
        assert api.get("/me/programs").status_code == 200
    assert server.freeze("2026-06-01T00:00:00Z")["now"] == "2026-06-01T00:00:00.000Z"
    assert server.advance("P1D")["now"] == "2026-06-02T00:00:00.000Z"
    assert server.now() == "2026-06-02T00:00:00.000Z"
    assert server.release()["frozen"] is False
    with pytest.raises(SandboxError) as refused:
        server.advance("soon")
    assert refused.value.response.status_code == 400


def test_the_banner_shows_urls_tokens_and_working_snippets(
    bountybox_server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The h1 snippet sets the client class's BASE_URL, as a user's script would; the other tests
    # of this process must still find h1 as released.
    monkeypatch.setattr(HackerOneClient, "BASE_URL", HackerOneClient.BASE_URL)
    log = bountybox_server.log.read_text()
    assert f"Authorization: Bearer {bountybox_server.sandbox_token}" in log
    assert f"{DEMO_ADMIN[0]}:{DEMO_ADMIN[1]}  (organization acme)" in log
    assert f"serving {bountybox_server.api_url}" in log
    lines = log.splitlines()
    h1 = lines.index("  Python, the h1 client")
    snippet = "\n".join(line.strip() for line in lines[h1 + 1 : h1 + 6])
    scope: dict[str, Any] = {}
    exec(snippet, scope)  # the snippet as printed, pasted
    assert len(scope["reports"]) == 40
    requests_at = lines.index("  Python, requests")
    exec("\n".join(line.strip() for line in lines[requests_at + 1 : requests_at + 3]), scope)
    listed = eval(lines[requests_at + 3].strip(), scope)
    assert len(listed["data"]) == 25
    curl = next(line for line in lines if "curl -u" in line).split()
    identifier, value = curl[2].split(":", 1)
    assert httpx.get(curl[-1], auth=(identifier, value)).status_code == 200
