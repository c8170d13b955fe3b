"""POST /v0/validate answers like the official one: always 200 with {valid, issues}."""

from __future__ import annotations

import pytest

from mcp_index_common.validation import validate_manifest
from tests.support.manifests import manifest

pytestmark = pytest.mark.django_db


def test_valid_manifest(api):
    response = api.send("POST", "/validate", manifest("io.github.acme/db"))
    assert response.status_code == 200
    assert response.json() == {"valid": True, "issues": []}


def test_issue_shape_and_paths(api):
    doc = manifest("io.github.acme/db", packages=[
        {"registryType": "npm", "identifier": "a b", "version": "^1.0.0",
         "transport": {"type": "stdio", "url": "https://x.example"}}])
    body = api.send("POST", "/validate", doc).json()
    assert body["valid"] is False
    paths = {i["path"] for i in body["issues"]}
    assert {"packages[0].identifier", "packages[0].version", "packages[0].transport.url"} <= paths
    for issue in body["issues"]:
        assert set(issue) == {"type", "path", "message", "severity", "reference"}
        assert issue["type"] in {"json", "schema", "semantic", "linter"}
        assert issue["severity"] in {"error", "warning", "info"}


def test_schema_errors_name_the_rule(api):
    doc = manifest("io.github.acme/db", description="")
    body = api.send("POST", "/validate", doc).json()
    schema_issues = [i for i in body["issues"] if i["type"] == "schema"]
    assert schema_issues[0]["path"] == "description"
    assert "minLength" in schema_issues[0]["reference"]


def test_old_schema_is_a_warning_not_an_error(api):
    doc = manifest("io.github.acme/db", **{
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-10-17/server.schema.json"})
    body = api.send("POST", "/validate", doc).json()
    assert body["valid"] is True
    assert body["issues"][0]["severity"] == "warning"


def test_non_object_and_malformed_json(api):
    body = api.send("POST", "/validate", [1, 2]).json()
    assert body["valid"] is False and body["issues"][0]["type"] == "json"
    assert api.send("POST", "/validate", raw="{nope").status_code == 400


@pytest.mark.parametrize("version", ["^1.2.3", "~1.2", ">=1.0.0", "1.x", "1.2.*", "1 - 2",
                                     "1.0.0 || 2.0.0", "latest"])
def test_version_ranges_are_refused(version):
    assert not validate_manifest(manifest("io.github.acme/db", version)).valid


@pytest.mark.parametrize("version", ["1.0.0", "2.0.0-rc.1", "v1.2.3", "2024.01.15", "snapshot"])
def test_concrete_versions_are_accepted(version):
    assert validate_manifest(manifest("io.github.acme/db", version)).valid


@pytest.mark.parametrize("name", ["noslash", "a/b/c", "-bad.ns/x1", "io.github.x/-bad"])
def test_bad_names_are_refused(name):
    assert not validate_manifest(manifest(name)).valid
