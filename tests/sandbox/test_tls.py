"""HTTPS for clients with a hard-coded api.hackerone.com: `bountybox tls create` writes a local CA
and a certificate for the name, `serve --tls-cert --tls-key` serves with it, and a client that
resolves the name to the server and trusts the CA talks to bountybox as if it were HackerOne.
(The server runs on SQLite whatever the suite's database: this is about the transport.)"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner

from bountybox.cli import app as cli
from bountybox.testing import SandboxServer, start_server

PACK = {
    "organizations": [
        {
            "handle": "tls",
            "name": "TLS",
            "programs": [{"handle": "tls", "name": "TLS"}],
            "tokens": [{"name": "tls-admin", "value": "tls-admin-0123456789abcdef"}],
        }
    ]
}


class HostsFile(httpcore.SyncBackend):
    """Name resolution with one override, like a line in /etc/hosts."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def connect_tcp(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.NetworkStream:
        return super().connect_tcp(self.names.get(host, host), port, *args, **kwargs)


class ResolvingTransport(httpx.HTTPTransport):
    def __init__(self, ca: Path, names: dict[str, str]) -> None:
        super().__init__()
        # httpx has no resolver hook; its connection pool takes a network backend that has one.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=str(ca)),
            network_backend=HostsFile(names),
        )


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tls")
    result = CliRunner().invoke(cli, ["tls", "create", "--dir", str(directory)])
    assert result.exit_code == 0, result.output
    assert "bountybox serve --tls-cert" in result.output
    return directory


@pytest.fixture(scope="module")
def tls_server(tls_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    data = tmp_path_factory.mktemp("tls-data")
    pack = data / "pack.json"
    pack.write_text(json.dumps(PACK))
    server = start_server(
        data / "server",
        seed=str(pack),
        tls=(tls_dir / "cert.pem", tls_dir / "key.pem", tls_dir / "ca.pem"),
    )
    yield server
    server.stop()


def test_the_certificate_names_api_hackerone_com_and_is_signed_by_the_ca(tls_dir: Path) -> None:
    cert, ca = x509.load_pem_x509_certificates((tls_dir / "cert.pem").read_bytes())
    assert cert.issuer == ca.subject
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "api.hackerone.com" in names.get_values_for_type(x509.DNSName)
    assert (tls_dir / "key.pem").stat().st_mode & 0o777 == 0o600
    assert (tls_dir / "ca.pem").read_bytes() == ca.public_bytes(Encoding.PEM)


def test_a_client_calling_api_hackerone_com_gets_bountybox(
    tls_server: SandboxServer, tls_dir: Path
) -> None:
    port = httpx.URL(tls_server.base_url).port
    transport = ResolvingTransport(tls_dir / "ca.pem", {"api.hackerone.com": "127.0.0.1"})
    with httpx.Client(transport=transport) as client:
        response = client.get(
            f"https://api.hackerone.com:{port}/v1/me/programs",
            auth=("tls-admin", "tls-admin-0123456789abcdef"),
        )
    assert response.status_code == 200
    assert [p["attributes"]["handle"] for p in response.json()["data"]] == ["tls"]
    assert response.url.host == "api.hackerone.com"


def test_a_client_that_does_not_trust_the_ca_refuses_the_server(tls_server: SandboxServer) -> None:
    port = httpx.URL(tls_server.base_url).port
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"https://127.0.0.1:{port}/v1/me/programs")
