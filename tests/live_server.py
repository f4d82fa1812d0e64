"""A real bountybox HTTP server inside the test process, for clients that need a socket (the `h1`
package speaks `requests`, the wire replicas speak raw `http.client`).

Granian's embedded server runs the app in a thread with an event loop and a database engine of its
own, on the test database, so tests seed rows with the usual builders and the server reads them.
One server per test module keeps the client suites fast."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from granian.constants import Interfaces
from granian.server.embed import Server
from starlette.applications import Starlette

from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.db.engine import make_engine
from tests.conftest import TEST_SCHEMA
from tests.test_cli import free_port


@dataclass(frozen=True)
class LiveServer:
    base_url: str  # http://127.0.0.1:PORT, no trailing slash
    port: int

    @property
    def api(self) -> str:
        return f"{self.base_url}/v1"


@contextmanager
def live_server(settings: Settings, clock: Clock) -> Iterator[LiveServer]:
    """Serve `create_app(settings)` on a free loopback port until the block ends.

    The background timers and the webhook worker are off, so nothing changes rows behind a test."""
    settings = settings.model_copy(update={"timer_interval_seconds": 0, "webhooks_worker": False})
    port = free_port()
    loop = asyncio.new_event_loop()

    def app() -> Starlette:
        # Built inside the server's thread: asyncpg connections belong to the loop that opened them.
        engine = make_engine(settings.resolved_database_url(), search_path=TEST_SCHEMA)
        return create_app(settings, engine=engine, clock=clock)

    server = Server(
        app,
        factory=True,
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,
        log_enabled=False,
        websockets=False,
    )
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.serve())
        except BaseException as error:  # reported by the waiting test, not lost in the thread
            failure.append(error)
        finally:
            loop.close()

    thread = threading.Thread(target=run, name=f"bountybox-live-{port}", daemon=True)
    thread.start()
    live = LiveServer(base_url=f"http://127.0.0.1:{port}", port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{live.api}/me/programs", timeout=1)
            break
        except httpx.TransportError:
            if failure or not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the live server did not start: {failure}") from None
            time.sleep(0.05)
    try:
        yield live
    finally:

        def stop() -> None:
            server.interrupt_signal = True
            server.main_loop_interrupt.set()

        loop.call_soon_threadsafe(stop)
        thread.join(timeout=20)
