"""The request inspector: the last API requests with their responses, kept in a ring buffer of the
process, so a test (or a person) can see exactly what a client sent and what it got back."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import fnmatch
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from bountybox.core.jsonapi.render import ts

# Bytes of each request and response body that are kept.
BODY_LIMIT = 16 * 1024


@dataclass
class Body:
    data: bytearray = field(default_factory=bytearray)
    size: int = 0
    complete: bool = False

    def add(self, chunk: bytes, *, more: bool = False) -> None:
        self.complete = not more
        self.size += len(chunk)
        room = BODY_LIMIT - len(self.data)
        if room > 0:
            self.data += chunk[:room]

    def json(self) -> dict[str, Any]:
        text = self.data.decode("utf-8", errors="replace")
        rendered: dict[str, Any] = {
            "body": text,
            "size": self.size,
            "truncated": self.size > len(self.data),
        }
        if text and not rendered["truncated"]:
            with contextlib.suppress(orjson.JSONDecodeError):
                rendered["json"] = orjson.loads(self.data)
        return rendered


@dataclass
class Exchange:
    """One request and its response, as the client saw them."""

    id: int
    at: dt.datetime
    method: str
    path: str
    query: str
    request_headers: list[tuple[str, str]]
    request: Body = field(default_factory=Body)
    response: Body = field(default_factory=Body)
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    duration_ms: float | None = None
    fault_id: int | None = None
    dropped: bool = False
    started: float = field(default_factory=time.perf_counter)
    # Called once, when the response is complete (before its last bytes reach the client).
    on_finish: Callable[[Exchange], None] | None = None

    @classmethod
    def begin(
        cls, exchange_id: int, scope: Scope, on_finish: Callable[[Exchange], None]
    ) -> Exchange:
        return cls(
            id=exchange_id,
            at=dt.datetime.now(dt.UTC),
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            request_headers=[
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in scope.get("headers", [])
            ],
            on_finish=on_finish,
        )

    def finish(self) -> None:
        if self.on_finish is None:
            return
        self.duration_ms = round((time.perf_counter() - self.started) * 1000, 3)
        on_finish, self.on_finish = self.on_finish, None
        on_finish(self)

    def recording(self, receive: Receive, send: Send) -> tuple[Receive, Send]:
        async def receive_and_record() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.request.add(message.get("body", b""), more=message.get("more_body", False))
            elif message["type"] == "http.disconnect":
                self.request.complete = True
            return message

        async def send_and_record(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.response_headers = [
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in message.get("headers", [])
                ]
            elif message["type"] == "http.response.body":
                more = message.get("more_body", False)
                self.response.add(message.get("body", b""), more=more)
                if not more:
                    # Recorded before the client has the whole response, so a client that asks
                    # the inspector right after finds this exchange there.
                    self.finish()
            await send(message)

        return receive_and_record, send_and_record

    async def read_rest(self, receive: Receive) -> None:
        """Reads what the API left unread of the request body (it refused the request first),
        so the inspector shows what the client sent."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1):
                while not self.request.complete:
                    await receive()

    @property
    def token(self) -> str | None:
        """The identifier of the Basic-auth token the request used."""
        header = next((v for k, v in self.request_headers if k.lower() == "authorization"), "")
        if header[:6].lower() != "basic ":
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None

    def json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "at": ts(self.at),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "token": self.token,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "fault": None if self.fault_id is None else str(self.fault_id),
            "dropped": self.dropped,
            "request": {"headers": _redacted(self.request_headers), **self.request.json()},
            "response": {"headers": dict(self.response_headers), **self.response.json()},
        }


def _redacted(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Token values never leave the process: the Authorization header keeps only its scheme."""
    shown = {}
    for name, value in headers:
        if name.lower() == "authorization":
            value = value.split(" ", 1)[0] + " [redacted]"
        shown[name] = value
    return shown


class Inspector:
    def __init__(self, size: int) -> None:
        self.kept: deque[Exchange] = deque(maxlen=size)
        self.clear()

    def clear(self) -> None:
        self.kept.clear()
        self._ids = itertools.count(1)

    def begin(self, scope: Scope) -> Exchange:
        ids = self._ids

        def keep(exchange: Exchange) -> None:
            # A request still running when the inspector was cleared is not kept.
            if ids is self._ids:
                self.kept.append(exchange)

        return Exchange.begin(next(ids), scope, keep)

    def select(
        self,
        *,
        since: int = 0,
        method: str | None = None,
        path: str | None = None,
        limit: int | None = None,
    ) -> list[Exchange]:
        """Oldest first; `since` skips the exchanges up to that id, `limit` keeps the newest."""
        found = [
            e
            for e in self.kept
            if e.id > since
            and (method is None or e.method == method.upper())
            and (path is None or fnmatch.fnmatchcase(e.path, path))
        ]
        return found[-limit:] if limit else found
