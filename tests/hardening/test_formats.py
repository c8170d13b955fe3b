"""`format: uri` is checked (strict RFC 3986) for published manifests; mirrored entries that
break it are still accepted, with the issue stored, as for any schema problem upstream."""

from __future__ import annotations

import pytest

from mcp_index_common.validation import validate_manifest
from mcp_index_common.validation.formats import is_uri
from registry import services
from registry.models import ServerVersion
from tests.hardening.conftest import NAME, assert_problem
from tests.support.manifests import manifest

BAD_URIS = ["", " ", "example.com/icon.png", "//example.com/x", "https://exa mple.com/",
            "https://例え.jp/icon.png", "https://example.com/\u00e9", "https://[::zz]/x",
            "https://[1.2.3.4]/", "http://a/%zz", "1http://x", "https://a.example/<script>",
            "https://a.example/x#a#b", "https://a.example:80a/"]
GOOD_URIS = ["https://example.com/icon.png", "https://[::1]:8080/x", "https://[v1.x]/",
             "urn:isbn:0451450523", "mailto:a@b.example", "https://a.example/a%20b?q=1&r=/x#f",
             "https://user:pw@a.example/", "file:///etc/hosts", "https://a.example",
             "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"]


@pytest.mark.parametrize("value", BAD_URIS)
def test_not_a_uri(value):
    assert not is_uri(value)


@pytest.mark.parametrize("value", GOOD_URIS)
def test_a_uri(value):
    assert is_uri(value)


@pytest.mark.parametrize(("extra", "path"), [
    ({"icons": [{"src": ""}]}, "icons[0].src"),
    ({"icons": [{"src": "icon.png"}]}, "icons[0].src"),
    ({"websiteUrl": "www.example.com"}, "websiteUrl"),
    ({"repository": {"url": "", "source": "github"}}, "repository.url"),
])
def test_validate_reports_a_value_that_is_not_a_uri(extra, path):
    result = validate_manifest(manifest(NAME, "1.0.0", **extra))
    assert not result.valid
    assert any(i.path == path and "uri" in i.message for i in result.errors), result.as_dict()


@pytest.mark.django_db
def test_publishing_an_empty_icon_src_is_refused(admin, world, unchanged):
    check = unchanged()
    response = admin.send("POST", "/v0/publish", manifest(NAME, "2.0.0", icons=[{"src": ""}]))
    problem = assert_problem(response, 422)
    assert any(e.get("location") == "icons[0].src" for e in problem["errors"]), problem
    check()


@pytest.mark.django_db
def test_a_mirrored_entry_breaking_the_format_is_kept_with_its_issue(world):
    entry = {"server": manifest("io.github.other/icons", "1.0.0", icons=[{"src": ""}])}
    outcome = services.version_ingest(entry=entry, origin="up")
    assert outcome.action == "created" and outcome.invalid
    stored = ServerVersion.objects.get(name="io.github.other/icons")
    assert [i["path"] for i in stored.validation_issues] == ["icons[0].src"]
