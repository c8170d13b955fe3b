"""The CLI against a live MCP Index server: login, publish, refusals, status, tokens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

NAME = "io.modelcontextprotocol.anonymous/mcp-fs"
OFFICIAL = "io.modelcontextprotocol.registry/official"


@pytest.fixture
def registry_url(live_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A live registry with anonymous login on; later commands find it via the environment."""
    settings.MCP_INDEX_ANONYMOUS_AUTH = True
    monkeypatch.setenv("MCP_INDEX_REGISTRY", live_server.url)
    return live_server.url


@pytest.fixture
def example(examples: list[dict[str, Any]]) -> dict[str, Any]:
    """The remote-only anonymous example from the official docs (no package to own)."""
    return next(e for e in examples if e["name"] == NAME)


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, indent=2))
    return path


def fetch_version(registry_url: str, version: str) -> dict[str, Any]:
    response = httpx.get(f"{registry_url}/v0/servers/{NAME.replace('/', '%2F')}/versions/"
                         f"{version}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_login_publish_duplicate_status_whoami(cli, registry_url, example, tmp_path):
    assert cli("login", "none").code == 0

    manifest = write(tmp_path / "server.json", example)
    published = cli("--json", "publish", str(manifest))
    assert published.code == 0, published.err
    body = json.loads(published.out)
    assert body["server"]["name"] == NAME
    assert body["_meta"][OFFICIAL]["isLatest"] is True
    assert fetch_version(registry_url, example["version"])["server"] == example

    retried = cli("publish", str(manifest))  # same body, same idempotency key: safe
    assert retried.code == 0, retried.err
    assert "nothing changed" in retried.err

    changed = write(tmp_path / "changed.json", {**example, "description": "Changed text"})
    duplicate = cli("publish", str(changed))
    assert duplicate.code == 5
    assert "duplicate" in duplicate.err.lower()
    assert fetch_version(registry_url, example["version"])["server"]["description"] == (
        example["description"])

    status = cli("status", "--status", "deprecated", "--message", "use 3.x", NAME,
                 example["version"])
    assert status.code == 0, status.err
    meta = fetch_version(registry_url, example["version"])["_meta"][OFFICIAL]
    assert meta["status"] == "deprecated"
    assert meta["statusMessage"] == "use 3.x"

    whoami = cli("--json", "whoami")
    assert whoami.code == 0, whoami.err
    identity = json.loads(whoami.out)
    assert identity["auth_method"] == "none"
    assert {"action": "publish", "resource": "io.modelcontextprotocol.anonymous/*"} in (
        identity["permissions"])


@pytest.mark.django_db(transaction=True)
def test_foreign_namespace_is_refused(cli, registry_url, example, tmp_path):
    assert cli("login", "none").code == 0
    foreign = write(tmp_path / "server.json", {**example, "name": "io.github.someone/fs"})
    result = cli("publish", str(foreign))
    assert result.code == 4
    assert "HTTP 403" in result.err


@pytest.mark.django_db(transaction=True)
def test_registry_422_shows_the_registrys_issues(cli, registry_url, example, tmp_path):
    assert cli("login", "none").code == 0
    invalid = write(tmp_path / "server.json", {**example, "version": "^2.0"})
    result = cli("publish", "--skip-local-validation", str(invalid))
    assert result.code == 3
    assert "version" in result.err
    assert "range" in result.err


@pytest.mark.django_db(transaction=True)
def test_api_token_lifecycle(cli, registry_url, example, tmp_path, credentials):
    assert cli("login", "none").code == 0
    creator = credentials.read_text()  # each anonymous login is its own caller
    created = cli("--json", "tokens", "create", "--name", "ci",
                  "--pattern", "io.modelcontextprotocol.anonymous/*", "--expires-in-days", "7")
    assert created.code == 0, created.err
    token = json.loads(created.out)

    listed = json.loads(cli("--json", "tokens", "list").out)["tokens"]
    assert [t["id"] for t in listed] == [token["id"]]
    assert "token" not in listed[0]

    logged = cli("login", "token", "--token", token["token"])
    assert logged.code == 0, logged.err
    assert cli("publish", str(write(tmp_path / "server.json", example))).code == 0
    assert json.loads(cli("--json", "whoami").out)["auth_method"] != "none"

    credentials.write_text(creator)  # only the token's creator may revoke it
    assert cli("tokens", "revoke", str(token["id"])).code == 0
    assert cli("login", "token", "--token", token["token"]).code == 0
    refused = cli("whoami")
    assert refused.code == 4
