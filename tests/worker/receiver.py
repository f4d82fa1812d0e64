"""A real webhook receiver on loopback for the tests: a small HTTP/1.1 server (keep-alive,
Content-Length bodies) that checks X-H1-Signature the way HackerOne's documentation shows, on the
raw body, and records every request."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event(self) -> str:
        return self.headers["x-h1-event"]

    @property
    def guid(self) -> str:
        return self.headers["x-h1-delivery"]

    def json(self) -> Any:
        return orjson.loads(self.body)


def verify_like_hackerone_docs(secret: str, headers: dict[str, str], raw_body: bytes) -> int:
    """HackerOne's sample receiver: 400 without the header, 401 on a bad HMAC of the raw body."""
    signature = headers.get("x-h1-signature")
    if not signature:
        return 400
    _, _, digest = signature.partition("=")
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, digest):
        return 401
    return 200


@dataclass
class Receiver:
    secret: str = ""
    # Answer with this status (after a valid signature); a list is consumed one per request.
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    response_body: bytes = b'{"success":true}'
    extra_headers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/hackerone"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Goes down hard: the listening socket and every open connection close."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.ok) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"received {len(self.ok)} of {count} deliveries")
            await asyncio.sleep(0.02)
        return self.ok

    @property
    def ok(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.status < 300]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                _method, path, _ = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = raw.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                status = verify_like_hackerone_docs(self.secret, headers, body)
                if status == 200 and self.statuses:
                    status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
                self.received.append(Received(path, headers, body, status))
                if self.delay:
                    await asyncio.sleep(self.delay)
                extra = "".join(f"{k}: {v}\r\n" for k, v in self.extra_headers.items())
                head = (
                    f"HTTP/1.1 {status} Status\r\nContent-Type: application/json\r\n{extra}"
                    f"Content-Length: {len(self.response_body)}\r\n\r\n"
                )
                writer.write(head.encode() + self.response_body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()
