"""The ASGI middleware of sandbox mode, around the whole application: it applies injected faults
before a request reaches the API and records every API exchange for the inspector. The control
plane's own requests (/_sandbox/...) pass through untouched."""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from bountybox.sandbox.faults import Fault
from bountybox.sandbox.inspector import Exchange
from bountybox.sandbox.state import Sandbox


class DroppedConnection(Exception):
    """Raised after the response head went out, so the server closes the connection with the
    body missing: what a client sees when a connection drops mid-response."""


class _QuietDrops(logging.Filter):
    """Granian logs an application exception with its traceback (as text, from _granian.utils);
    a drop is on purpose, so it is left out."""

    def filter(self, record: logging.LogRecord) -> bool:
        return f"{DroppedConnection.__name__}: sandbox fault" not in str(record.msg)


def is_control_path(path: str) -> bool:
    return path == "/_sandbox" or path.startswith("/_sandbox/")


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, *, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox
        logging.getLogger("_granian.utils").addFilter(_QuietDrops())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_control_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        exchange = self.sandbox.inspector.begin(scope)
        receive, send = exchange.recording(receive, send)
        try:
            fault = self.sandbox.faults.take(scope["method"], scope["path"])
            if fault is None:
                await self.app(scope, receive, send)
            else:
                await self._fail(fault, exchange, scope, receive, send)
            await exchange.read_rest(receive)
        finally:
            exchange.finish()

    async def _fail(
        self, fault: Fault, exchange: Exchange, scope: Scope, receive: Receive, send: Send
    ) -> None:
        exchange.fault_id = fault.id
        if fault.rule.latency_ms:
            await asyncio.sleep(fault.rule.latency_ms / 1000)
        if fault.rule.drop:
            await exchange.read_rest(receive)
            exchange.dropped = True
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
                }
            )
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            raise DroppedConnection(f"sandbox fault {fault.id} dropped the connection")
        if fault.rule.status is None:
            # Latency only: the request goes on to the API.
            await self.app(scope, receive, send)
            return
        await fault.response()(scope, receive, send)
