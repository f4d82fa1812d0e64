"""Raw HTTP to a live server, byte for byte as a client put it on the wire: the request target is
sent unparsed (raw brackets, bare keys, `+` signs stay as they are) with exactly the headers given,
so the replicas of the Go, Ruby and Node clients send what those clients were seen sending."""

from __future__ import annotations

import base64
import http.client
import json
from dataclasses import dataclass
from typing import Any

from tests.live_server import LiveServer

# The headers each client sends besides Authorization (shared/api/clients.md §1-4).
H1_HEADERS = {"User-Agent": "HackerOne Python Client v1.4.2", "Accept": "*/*"}
GO_HEADERS = {"User-Agent": "hackeroni/v1"}
RUBY_HEADERS = {
    "User-Agent": "Faraday v1.1.0",
    "Accept": "*/*",
    "Content-Type": "application/json",
}
NODE_HEADERS: dict[str, str] = {}


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def basic(auth: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()


def send(
    server: LiveServer,
    method: str,
    target: str,
    *,
    auth: tuple[str, str] | None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> RawResponse:
    """One request on a fresh connection; only Host (unless given) and Content-Length (with a body)
    are added."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest(
            method, target, skip_host="Host" in (headers or {}), skip_accept_encoding=True
        )
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if auth is not None:
            connection.putheader("Authorization", basic(auth))
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return RawResponse(
            status=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=response.read(),
        )
    finally:
        connection.close()


def send_json(
    server: LiveServer,
    method: str,
    target: str,
    document: Any,
    *,
    auth: tuple[str, str],
    headers: dict[str, str] | None = None,
) -> RawResponse:
    return send(
        server,
        method,
        target,
        auth=auth,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=json.dumps(document).encode(),
    )
