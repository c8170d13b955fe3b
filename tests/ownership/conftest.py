"""Fake package registries on loopback: npm, PyPI, NuGet, crates.io, an OCI registry, files."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.proofs.conftest import http_server as http_server  # the same loopback servers
from tests.proofs.conftest import tls as tls  # its certificate covers FILES_HOST too
from tests.proofs.loopback import FakeHTTPServer, Reply, Seen

NAME = "io.github.acme/db"
FILES_HOST = "files.example.test"
OCI_HOST = "registry.example.test"
PULL_TOKEN = "pull-token-123"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"


@pytest.fixture(autouse=True)
def _ownership_checks_on(settings) -> None:
    settings.MCP_INDEX_OWNERSHIP_CHECKS = True


@pytest.fixture
def npm(http_server, settings) -> FakeHTTPServer:
    server = http_server()
    settings.MCP_INDEX_OWNERSHIP_NPM_URL = server.url
    return server


@pytest.fixture
def pypi(http_server, settings) -> FakeHTTPServer:
    server = http_server()
    settings.MCP_INDEX_OWNERSHIP_PYPI_URL = server.url
    return server


@pytest.fixture
def nuget(http_server, settings) -> FakeHTTPServer:
    server = http_server()
    settings.MCP_INDEX_OWNERSHIP_NUGET_URL = f"{server.url}/v3/index.json"
    server.route(
        "/v3/index.json",
        Reply.json(
            {
                "version": "3.0.0",
                "resources": [
                    {"@id": f"{server.url}/query", "@type": "SearchQueryService"},
                    {
                        "@id": f"{server.url}/flat/{{lower_id}}/{{lower_version}}/readme",
                        "@type": "ReadmeUriTemplate/6.13.0",
                    },
                ],
            }
        ),
    )
    return server


@pytest.fixture
def cargo(http_server, settings) -> FakeHTTPServer:
    server = http_server()
    settings.MCP_INDEX_OWNERSHIP_CARGO_URL = server.url
    return server


class FakeOciRegistry:
    """A v2 registry behind a bearer-token handshake, serving images built in memory."""

    def __init__(self, server: FakeHTTPServer, basic: str = "") -> None:
        self.server = server
        self.basic = basic
        self.realm = f"{server.url}/token"  # where the challenge sends clients for a token
        server.route("/token", self._token)

    def _token(self, seen: Seen) -> Reply:
        if self.basic and seen.headers.get("authorization") != self.basic:
            return Reply.json({"errors": [{"code": "UNAUTHORIZED"}]}, status=401)
        if "scope=repository%3A" not in seen.path or "service=fake-registry" not in seen.path:
            return Reply.json({"errors": [{"code": "DENIED"}]}, status=403)
        return Reply.json({"token": PULL_TOKEN, "expires_in": 300})

    def _guarded(self, reply: Reply, repository: str) -> Callable[[Seen], Reply]:
        def answer(seen: Seen) -> Reply:
            if seen.headers.get("authorization") != f"Bearer {PULL_TOKEN}":
                challenge = (
                    f'Bearer realm="{self.realm}",service="fake-registry",'
                    f'scope="repository:{repository}:pull"'
                )
                return Reply.json(
                    {"errors": [{"code": "UNAUTHORIZED"}]},
                    status=401,
                    headers={"WWW-Authenticate": challenge},
                )
            return reply

        return answer

    def _serve(self, repository: str, path: str, body: bytes, media_type: str = "") -> str:
        headers = {"Content-Type": media_type} if media_type else {}
        route = self._guarded(Reply(body=body, headers=headers), repository)
        self.server.route(f"/v2/{repository}/{path}", route)
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def _manifest(self, repository: str, ref: str | None, config: bytes) -> str:
        """Serve an image manifest (by digest, and by `ref` when given); return its digest."""
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        body = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_TYPE,
                "config": {"digest": config_digest, "size": len(config)},
                "layers": [],
            }
        ).encode()
        digest = self._serve(
            repository, f"manifests/{'sha256:' + hashlib.sha256(body).hexdigest()}", body, MANIFEST_TYPE
        )
        if ref:
            self._serve(repository, f"manifests/{ref}", body, MANIFEST_TYPE)
        return digest

    def push(self, repository: str, tag: str, labels: dict[str, str] | None, *, index: bool = False) -> None:
        """Publish an image whose config carries `labels`; `index=True` wraps it multi-arch."""
        config = json.dumps({"os": "linux", "config": {"Labels": labels}}).encode()
        self._serve(repository, f"blobs/sha256:{hashlib.sha256(config).hexdigest()}", config)
        if not index:
            self._manifest(repository, tag, config)
            return
        amd64 = self._manifest(repository, None, config)
        arm64 = self._manifest(repository, None, b'{"config": {}}')  # config never served
        entries = [
            {"digest": "sha256:" + "1" * 64, "platform": {"os": "unknown", "architecture": "x"}},
            {"digest": arm64, "platform": {"os": "linux", "architecture": "arm64"}},
            {"digest": amd64, "platform": {"os": "linux", "architecture": "amd64"}},
        ]
        body = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": entries})
        self._serve(repository, f"manifests/{tag}", body.encode(), INDEX_TYPE)


@pytest.fixture
def oci(http_server, settings) -> FakeOciRegistry:
    server = http_server()
    settings.MCP_INDEX_OWNERSHIP_OCI_REGISTRIES = {OCI_HOST: server.url}
    return FakeOciRegistry(server)


@pytest.fixture
def files(http_server, tls, settings) -> FakeHTTPServer:
    """An https file host for MCPB downloads, reachable through the SSRF guard."""
    server = http_server(tls)
    settings.MCP_INDEX_OUTBOUND_HOSTS = {FILES_HOST: "127.0.0.1"}
    settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = ["127.0.0.0/8"]
    settings.MCP_INDEX_OUTBOUND_CA_BUNDLE = str(tls.ca_file)
    settings.MCP_INDEX_OWNERSHIP_MCPB_HOSTS = [FILES_HOST]
    settings.MCP_INDEX_OWNERSHIP_TIMEOUT_SECONDS = 2
    return server


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def manifest(*packages: dict[str, Any], name: str = NAME) -> dict[str, Any]:
    """A server.json with the given packages (stdio transport filled in)."""
    return {
        "name": name,
        "version": "1.0.0",
        "description": "demo",
        "packages": [{"transport": {"type": "stdio"}, **p} for p in packages],
    }
