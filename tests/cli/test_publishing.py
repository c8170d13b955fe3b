"""publish, validate and status against the fake registry: bodies, headers, exit codes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
MANIFEST = {
    "$schema": SCHEMA,
    "name": "io.github.acme/weather",
    "description": "Weather forecasts for agents",
    "version": "1.2.0",
    "packages": [{"registryType": "npm", "identifier": "@acme/weather-mcp", "version": "1.2.0",
                  "transport": {"type": "stdio"}}],
}
OFFICIAL = "io.modelcontextprotocol.registry/official"


def server_response(document: dict, *, latest: bool = True, status: str = "active") -> dict:
    """A ServerResponse as the registry returns it."""
    return {"server": document, "_meta": {OFFICIAL: {
        "status": status, "publishedAt": "2025-12-18T10:00:00Z",
        "updatedAt": "2025-12-18T10:00:00Z", "isLatest": latest}}}


@pytest.fixture
def manifest_file(tmp_path: Path) -> Path:
    path = tmp_path / "server.json"
    path.write_text(json.dumps(MANIFEST, indent=2))
    return path


def test_publish_posts_the_manifest_with_token_and_body_derived_idempotency_key(
    cli, fake, logged_in, manifest_file
):
    fake.on("POST", "/v0/publish", 200, server_response(MANIFEST))
    result = cli("publish", str(manifest_file))
    assert result.code == 0, result.err
    request = fake.only("POST", "/v0/publish")
    assert request.json() == MANIFEST
    assert request.headers["authorization"] == f"Bearer {logged_in}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == hashlib.sha256(request.body).hexdigest()
    assert result.out == (f"Published io.github.acme/weather 1.2.0 to {fake.url} "
                          "(active, latest).\n")


def test_retrying_the_same_file_reuses_the_idempotency_key(cli, fake, logged_in, manifest_file):
    fake.on("POST", "/v0/publish", 201, server_response(MANIFEST),)
    assert cli("publish", str(manifest_file)).code == 0
    assert cli("publish", str(manifest_file)).code == 0
    keys = {r.headers["idempotency-key"] for r in fake.requests}
    assert len(fake.requests) == 2
    assert len(keys) == 1


def test_explicit_idempotency_key_is_sent_as_given(cli, fake, logged_in, manifest_file):
    fake.on("POST", "/v0/publish", 200, server_response(MANIFEST))
    assert cli("publish", str(manifest_file), "--idempotency-key", "ci-run-42").code == 0
    assert fake.only("POST", "/v0/publish").headers["idempotency-key"] == "ci-run-42"


def test_publish_defaults_to_server_json_and_prints_json(cli, fake, logged_in, manifest_file,
                                                         monkeypatch):
    monkeypatch.chdir(manifest_file.parent)
    body = server_response(MANIFEST)
    fake.on("POST", "/v0/publish", 200, body)
    result = cli("--json", "publish")
    assert result.code == 0, result.err
    assert json.loads(result.out) == body


def test_duplicate_version_exits_5_with_the_servers_reasons(cli, fake, logged_in, manifest_file):
    fake.on("POST", "/v0/publish", 400, {
        "title": "Bad Request", "status": 400, "detail": "Failed to publish server",
        "errors": [{"message": "cannot publish duplicate version", "location": "body.version"}]})
    result = cli("publish", str(manifest_file))
    assert result.code == 5
    assert result.err.splitlines() == [
        "error: publish failed (HTTP 400): Failed to publish server",
        "  - cannot publish duplicate version (body.version)",
    ]


def test_422_fetches_and_shows_the_registrys_validation_issues(cli, fake, logged_in,
                                                               manifest_file):
    fake.on("POST", "/v0/publish", 422, {
        "title": "Unprocessable Entity", "status": 422,
        "detail": "Failed to publish server, invalid schema: call /validate for details"})
    issues = [{"type": "semantic", "path": "packages[0].transport.url",
               "message": "remote URL is already used by io.github.other/x",
               "severity": "error", "reference": "remote-url-taken"}]
    fake.on("POST", "/v0/validate", 200, {"valid": False, "issues": issues})
    result = cli("publish", str(manifest_file))
    assert result.code == 3
    assert fake.only("POST", "/v0/validate").body == fake.only("POST", "/v0/publish").body
    assert "packages[0].transport.url: remote URL is already used by io.github.other/x" in (
        result.err)
    assert "call /validate for details" in result.err

    machine = cli("--json", "publish", str(manifest_file))
    assert machine.code == 3
    assert json.loads(machine.out) == {"valid": False, "issues": issues}


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_exits_4(cli, fake, logged_in, manifest_file, status):
    fake.on("POST", "/v0/publish", status, {
        "title": "Forbidden", "status": status,
        "detail": "You do not have permission to publish io.github.acme/weather; "
                  "your patterns: io.github.someone/*"})
    result = cli("publish", str(manifest_file))
    assert result.code == 4
    assert "your patterns: io.github.someone/*" in result.err


def test_locally_invalid_manifest_exits_3_before_any_request(cli, fake, logged_in, tmp_path):
    bad = {**MANIFEST, "name": "not a name", "version": "^1.2"}
    path = tmp_path / "server.json"
    path.write_text(json.dumps(bad))
    result = cli("publish", str(path))
    assert result.code == 3
    assert "version must be a specific version" in result.err
    assert "nothing was published" in result.err
    assert fake.requests == []


def test_skip_local_validation_leaves_the_check_to_the_registry(cli, fake, logged_in, tmp_path):
    bad = {**MANIFEST, "version": "^1.2"}
    path = tmp_path / "server.json"
    path.write_text(json.dumps(bad))
    fake.on("POST", "/v0/publish", 200, server_response(bad))
    assert cli("publish", str(path), "--skip-local-validation").code == 0
    assert fake.only("POST", "/v0/publish").json() == bad


def test_unparseable_or_missing_file(cli, fake, logged_in, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    result = cli("publish", str(broken))
    assert result.code == 3
    assert "is not valid JSON" in result.err
    missing = cli("publish", str(tmp_path / "absent.json"))
    assert missing.code == 1
    assert "mcp-index init" in missing.err
    assert fake.requests == []


def test_publish_without_login_exits_4_and_sends_nothing(cli, fake, manifest_file):
    result = cli("--registry", fake.url, "publish", str(manifest_file))
    assert result.code == 4
    assert fake.requests == []


def test_validate_is_local_unless_remote_is_asked(cli, fake, manifest_file):
    local = cli("--registry", fake.url, "validate", str(manifest_file))
    assert local.code == 0
    assert "Local: valid, no issues" in local.out
    assert fake.requests == []

    issues = [{"type": "linter", "path": "description", "message": "too vague",
               "severity": "error", "reference": "lint"}]
    fake.on("POST", "/v0/validate", 200, {"valid": False, "issues": issues})
    remote = cli("--registry", fake.url, "--json", "validate", str(manifest_file), "--remote")
    assert remote.code == 3
    assert fake.only("POST", "/v0/validate").json() == MANIFEST
    assert "authorization" not in fake.requests[0].headers
    assert json.loads(remote.out) == {
        "file": str(manifest_file), "valid": False,
        "local": {"valid": True, "issues": []},
        "remote": {"valid": False, "issues": issues}}


def test_validate_reports_local_errors_with_path_and_exit_3(cli, tmp_path):
    path = tmp_path / "server.json"
    path.write_text(json.dumps({**MANIFEST, "version": "1.x"}))
    result = cli("validate", str(path))
    assert result.code == 3
    assert "error   version: version must be a specific version" in result.out


def test_status_of_one_version_url_encodes_name_and_version(cli, fake, logged_in):
    path = "/v0/servers/io.github.acme%2Fweather/versions/1.2.0%2Bbuild.1/status"
    fake.on("PATCH", path, 200, server_response(MANIFEST, status="deprecated"))
    result = cli("status", "--status", "deprecated", "--message", "use 2.x",
                 "io.github.acme/weather", "1.2.0+build.1")
    assert result.code == 0, result.err
    request = fake.only("PATCH", path)
    assert request.target == path
    assert request.json() == {"status": "deprecated", "statusMessage": "use 2.x"}
    assert request.headers["authorization"] == f"Bearer {logged_in}"
    assert result.out == "io.github.acme/weather 1.2.0+build.1 is now deprecated.\n"


def test_status_of_all_versions(cli, fake, logged_in):
    path = "/v0/servers/io.github.acme%2Fweather/status"
    fake.on("PATCH", path, 200, {"updatedCount": 3, "servers": []})
    result = cli("status", "--status", "deleted", "--all-versions", "io.github.acme/weather")
    assert result.code == 0, result.err
    assert fake.only("PATCH", path).json() == {"status": "deleted"}
    assert "3 version(s) now deleted" in result.out


def test_status_no_op_is_reported(cli, fake, logged_in):
    path = "/v0/servers/io.github.acme%2Fweather/versions/1.2.0/status"
    fake.on("PATCH", path, 400, {"title": "Bad Request", "status": 400,
                                 "detail": "version is already active"})
    result = cli("status", "--status", "active", "io.github.acme/weather", "1.2.0")
    assert result.code == 1
    assert "version is already active" in result.err


@pytest.mark.parametrize("args", [
    ["io.github.acme/weather"],
    ["--all-versions", "io.github.acme/weather", "1.2.0"],
])
def test_status_needs_exactly_one_of_version_or_all_versions(cli, fake, logged_in, args):
    result = cli("status", "--status", "deprecated", *args)
    assert result.code == 2
    assert fake.requests == []
