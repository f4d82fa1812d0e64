"""Outbound HTTP to addresses users choose (webhook URLs), without letting them reach the inside.

A webhook URL is attacker-controlled input: pointed at 127.0.0.1, 10.0.0.0/8 or the cloud metadata
address it would turn the server into a proxy into its own network (SSRF). The URL is checked when
it is saved, and again on every connection, because DNS can answer differently the second time
(rebinding): the connection goes to the very address that was checked, while TLS still verifies
the hostname. Redirects are never followed and proxies from the environment are ignored, since
either would send the request somewhere that was not checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(Exception):
    """The destination resolves to an address outbound requests may not reach."""


class UnsafeUrl(ValueError):
    """The URL cannot be used as an outbound destination; the message says why."""


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast only: loopback, private, link-local (169.254.169.254, the cloud
    metadata address), shared (100.64/10), unique-local IPv6, multicast and reserved ranges fail."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public(mapped)
    return address.is_global and not address.is_multicast


def check_addresses(host: str, addresses: Iterable[str]) -> list[str]:
    checked = []
    for raw in addresses:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        if not is_public(address):
            raise BlockedAddress(f"{host} resolves to {address}, which is not a public address.")
        checked.append(raw)
    if not checked:
        raise BlockedAddress(f"{host} does not resolve to any address.")
    return checked


async def resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BlockedAddress(f"{host} cannot be resolved ({exc.strerror}).") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_destination(url: str) -> tuple[str, int]:
    """Host and port of an http(s) URL; UnsafeUrl for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("The URL is malformed.") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("The URL must start with http:// or https://.")
    if not parts.hostname:
        raise UnsafeUrl("The URL has no host.")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def check_url(url: str, *, allow_private: bool) -> None:
    """Raises UnsafeUrl when the URL is not http(s) or (unless allowed) reaches a non-public
    address."""
    host, port = parse_destination(url)
    if allow_private:
        return
    try:
        check_addresses(host, await resolve(host, port))
    except BlockedAddress as exc:
        raise UnsafeUrl(str(exc)) from None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, then connects to a checked address."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = check_addresses(host, await resolve(host, port))
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(self, *_args: Any, **_kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("Unix sockets are not an outbound destination.")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def outbound_client(*, allow_private: bool, max_connections: int = 100) -> httpx.AsyncClient:
    """An httpx client for user-chosen URLs: no redirects, no environment proxies, and (unless
    private addresses are allowed) the address check on every new connection."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=20)
    transport = httpx.AsyncHTTPTransport(trust_env=False, limits=limits)
    if not allow_private:
        # httpx has no public hook for the network backend; the pool is rebuilt with the same
        # limits around the checking backend (tests/worker/test_ssrf.py pins this).
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(httpcore.AnyIOBackend()),
        )
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)
